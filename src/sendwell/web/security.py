"""Who is calling: Bearer API tokens for /api; for the UI, sessions kept in the database behind a cookie,
with a CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, Signer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sendwell.auth import TokenInfo
from sendwell.sessions import end_session, new_token, open_session, session_user

COOKIE = "sendwell_session"
# A notice for the page a redirect leads to ("3 addresses added to the black list"): a key and numbers, signed,
# read once; the page writes the sentence itself, so no URL can put words in its success box.
NOTICE_COOKIE = "sendwell_notice"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths that carry no session at all: the API, the unsubscribe and tracking links and the webhooks authenticate
# each request by a token or a signature; the public subscription forms by their signed page token.
NO_SESSION = ("/api/", "/static/", "/openapi.json", "/unsubscribe/", "/webhooks/", "/t/", "/f/")

bearer = HTTPBearer(auto_error=False, description="An API token from `sendwell tokens create NAME`")


def require_token(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> TokenInfo:
    from sendwell.auth import check_token

    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401,
            "missing API token: send the header 'Authorization: Bearer TOKEN' "
            "(create one with `sendwell tokens create NAME`)",
            headers=challenge,
        )
    found = check_token(request.app.state.web.engine, credentials.credentials)
    if found is None:
        raise HTTPException(401, "invalid, expired or revoked API token", headers=challenge)
    return found


def _csrf(secret: str, token: str) -> str:
    # Derived from the session token: rotates with it at login and logout, and needs no storage.
    return hmac.new(secret.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


class SessionMiddleware:
    """The cookie holds a signed random token and nothing else; who is logged in is looked up in the
    sessions table (sendwell.sessions) by the routes that need it, so ending a session there ends it.

    Without a session the token still gives the login form its CSRF token. The signing secret comes from
    the database (keys.app_secret), fetched on the first UI request, so building the app opens nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NO_SESSION):
            await self.app(scope, receive, send)
            return
        web = scope["app"].state.web
        signer = Signer(web.secret, salt="sendwell.ui.session")
        raw = _cookie(scope, COOKIE)
        token = None
        if raw:
            try:
                token = signer.unsign(raw).decode("ascii")
            except (BadSignature, UnicodeDecodeError):
                token = None
        fresh = token is None
        if token is None:
            token = new_token()
        scope["session"] = {"token": token, "csrf": _csrf(web.secret, token)}
        given = _notice(_notice_signer(web.secret, token), _cookie(scope, NOTICE_COOKIE))
        if given is not None:
            scope["session"]["notice_in"] = given
        secure = scope.get("scheme") == "https"
        max_age = int(web.lifetimes.absolute.total_seconds())

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope["session"]
                now = session["token"]
                flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
                headers = MutableHeaders(scope=message)
                if fresh or now != token:
                    value = signer.sign(now).decode("ascii")
                    headers.append("set-cookie", f"{COOKIE}={value}; Max-Age={max_age}; {flags}")
                if "notice_out" in session:
                    value = (
                        _notice_signer(web.secret, now).sign(json.dumps(session["notice_out"]).encode()).decode("ascii")
                    )
                    headers.append("set-cookie", f"{NOTICE_COOKIE}={value}; Max-Age=120; {flags}")
                elif session.get("notice_shown") or (_cookie(scope, NOTICE_COOKIE) and given is None):
                    headers.append("set-cookie", f"{NOTICE_COOKIE}=; Max-Age=0; {flags}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _notice_signer(secret: str, token: str) -> Signer:
    return Signer(secret, salt="sendwell.ui.notice." + token)  # bound to the session: no one else's cookie fits


def _notice(signer: Signer, raw: str | None) -> dict[str, object] | None:
    if not raw:
        return None
    try:
        value = json.loads(signer.unsign(raw))
    except (BadSignature, ValueError):
        return None
    return value if isinstance(value, dict) else None


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
    """The user of the request's live session, looked up once per request (a database read)."""
    session = request.scope.get("session")
    if session is None:
        return None
    if "user" not in session:
        web = request.app.state.web
        session["user"] = session_user(web.engine, session["token"], web.lifetimes)
    return session["user"]


def require_user(request: Request) -> str:
    user = current_user(request)
    if not user:
        raise LoginRequired
    return user


# Typed dependencies: the API token of the request, the logged-in UI user.
TokenDep = Annotated[TokenInfo, Depends(require_token)]
UserDep = Annotated[str, Depends(require_user)]


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


def _use_token(request: Request, token: str, user: str | None) -> None:
    request.session.update({"token": token, "csrf": _csrf(request.app.state.web.secret, token), "user": user})


def log_in(request: Request, username: str) -> None:
    """Open a session under a new token: one an attacker planted before the login opens nothing."""
    web = request.app.state.web
    _use_token(request, open_session(web.engine, username, web.lifetimes), username)


def log_out(request: Request) -> None:
    """End the session in the database, so a copy of the cookie is worth nothing from now on."""
    end_session(request.app.state.web.engine, request.session["token"])
    _use_token(request, new_token(), None)
