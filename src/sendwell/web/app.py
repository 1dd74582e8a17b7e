"""The app factory: API under /api/v1, the UI at /, static assets; nothing is opened until a request needs it."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from sendwell.config import ConfigError, Settings
from sendwell.web.state import DEFAULT_MAX_UPLOAD, WebState

STATIC = Path(__file__).parent / "ui" / "static"


def create_app(settings: Settings, engine: Engine | None = None, *, max_upload: int = DEFAULT_MAX_UPLOAD) -> FastAPI:
    """Build the app; `engine` is shared when given, else opened from settings on the first request."""
    from sendwell.web import errors, tracking, webhooks
    from sendwell.web.api import router as api_router
    from sendwell.web.headers import SecurityHeaders
    from sendwell.web.limits import BodyLimit
    from sendwell.web.security import SessionMiddleware
    from sendwell.web.ui import router as ui_router
    from sendwell.web.ui.uploads import Uploads

    state = WebState(settings=settings, engine_=engine, max_upload=max_upload)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        # No Swagger UI or ReDoc: they load their scripts from a CDN; the spec itself is at /openapi.json.
        title="sendwell",
        version="1",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="Email campaigns that never keep mailing addresses that do not exist. "
        "Authenticate with `Authorization: Bearer TOKEN` (`sendwell tokens create NAME`).",
    )
    app.state.web = state
    app.state.uploads = Uploads()  # files between the import preview and the import (web/ui/uploads.py)
    errors.install(app)
    app.include_router(api_router)
    app.include_router(ui_router)
    app.include_router(webhooks.router)
    app.include_router(tracking.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:  # browsers ask for it on pages that name none (a 404 in every console)
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    app.add_middleware(SessionMiddleware)
    app.add_middleware(SecurityHeaders)
    if settings.web.trusted_proxies:  # X-Forwarded-For/-Proto from these peers only; nobody's by default
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=_proxies(settings.web.trusted_proxies))
    app.add_middleware(BodyLimit, max_bytes=max_upload)  # outermost: refuse before anything reads the body
    return app


def _proxies(given: tuple[str, ...]) -> list[str]:
    for value in given:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ConfigError(f"[web] trusted_proxies: {value!r} is not an IP address or network") from None
    return list(given)
