"""The settings page: what this server is configured to accept (read-only; the settings live in sendwell.toml)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sendwell.bounces import webhooks
from sendwell.web.state import EngineDep, SettingsDep
from sendwell.web.ui.render import render

router = APIRouter()


@router.get("/settings")
def settings_page(request: Request, engine: EngineDep, settings: SettingsDep) -> Response:
    return render(
        request,
        "settings.html",
        webhooks=webhooks.status(engine, settings),
        public_url=settings.sending.public_url.rstrip("/"),
    )
