"""Who is calling: Bearer API tokens for /api, signed-cookie sessions with a CSRF token for the UI."""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sendwell.auth import TokenInfo

COOKIE = "sendwell_session"
SESSION_SECONDS = 12 * 3600
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths that carry no session at all: the API, the unsubscribe and tracking links and the webhooks authenticate
# each request by a token or a signature.
NO_SESSION = ("/api/", "/static/", "/openapi.json", "/unsubscribe/", "/webhooks/", "/t/")

bearer = HTTPBearer(auto_error=False, description="An API token from `sendwell tokens create NAME`")


def require_token(request: Request,
                  credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> TokenInfo:
    from sendwell.auth import check_token

    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing API token: send the header 'Authorization: Bearer TOKEN' "
                                 "(create one with `sendwell tokens create NAME`)", headers=challenge)
    found = check_token(request.app.state.web.engine, credentials.credentials)
    if found is None:
        raise HTTPException(401, "invalid or revoked API token", headers=challenge)
    return found


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="sendwell.ui.session")


class SessionMiddleware:
    """The UI session as a signed cookie (no server-side store), so any process sharing the database serves it.

    The secret comes from the database (keys.app_secret), fetched on the first UI request, so building
    the app opens nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NO_SESSION):
            await self.app(scope, receive, send)
            return
        serializer = _serializer(scope["app"].state.web.secret)
        raw = _cookie(scope, COOKIE)
        data: dict[str, Any] = {}
        if raw:
            try:
                data = serializer.loads(raw, max_age=SESSION_SECONDS)
            except BadSignature:
                data = {}
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            data = {"csrf": secrets.token_urlsafe(32)}
        before = json.dumps(data, sort_keys=True)
        scope["session"] = data
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope["session"]
                if json.dumps(session, sort_keys=True) != before or not raw:
                    headers = MutableHeaders(scope=message)
                    value = serializer.dumps(session)
                    flags = f"Path=/; Max-Age={SESSION_SECONDS}; HttpOnly; SameSite=Lax"
                    flags += "; Secure" if secure else ""
                    headers.append("set-cookie", f"{COOKIE}={value}; {flags}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


class LoginRequired(Exception):
    """Raised by UI routes when nobody is logged in; answered with a redirect to /login."""


def current_user(request: Request) -> str | None:
    return request.session.get("user") if "session" in request.scope else None


def require_user(request: Request) -> str:
    from sendwell.auth import session_stamp

    user = current_user(request)
    if not user:
        raise LoginRequired
    stamp = session_stamp(request.app.state.web.engine, user)
    if stamp is None or not hmac.compare_digest(stamp, str(request.session.get("stamp", ""))):
        log_out(request)  # the password changed or the user was removed since this session began
        raise LoginRequired
    return user


async def check_csrf(request: Request) -> None:
    """Every state-changing UI request carries the session's CSRF token (form field or X-CSRF-Token header)."""
    if request.method not in UNSAFE:
        return
    expected = request.session.get("csrf", "")
    given = request.headers.get("x-csrf-token")
    if given is None:
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "the form's security token is missing or stale: reload the page and try again")


def log_in(request: Request, username: str, stamp: str) -> None:
    request.session.clear()
    # A new CSRF token per login; the stamp ties the session to the password it was opened with.
    request.session.update({"user": username, "csrf": secrets.token_urlsafe(32), "stamp": stamp})


def log_out(request: Request) -> None:
    request.session.clear()
    request.session["csrf"] = secrets.token_urlsafe(32)
