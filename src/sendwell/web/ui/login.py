"""Log in and out of the web UI."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from sendwell.web.security import check_csrf, current_user, log_in, log_out, require_user
from sendwell.web.state import EngineDep
from sendwell.web.ui.forms import local_path, see_other
from sendwell.web.ui.render import gettext, render

router = APIRouter()


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if current_user(request):
        return see_other(local_path(next))
    return render(request, "login.html", next=local_path(next), error=None)


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    username: str = Form(..., max_length=200),
    password: str = Form(..., max_length=1000),
    next: str = Form("/"),
    *,
    engine: EngineDep,
) -> Response:
    from sendwell.auth import verify_user
    from sendwell.logins import attempt_succeeded, begin_attempt, keys_for

    # request.client is the peer, or the X-Forwarded-For client when the peer is a trusted proxy (web/app.py)
    keys = keys_for(username, request.client.host if request.client else None)
    verdict = begin_attempt(engine, keys)
    if not verdict.allowed:
        minutes = max(1, round(verdict.retry_after / 60))
        return render(
            request,
            "login.html",
            status=429,
            headers={"Retry-After": str(int(verdict.retry_after) + 1)},
            next=local_path(next),
            error=gettext(request).ngettext(
                "too many failed logins: try again in %(num)d minute",
                "too many failed logins: try again in %(num)d minutes",
                minutes,
            )
            % {"num": minutes},
        )
    if not verify_user(engine, username, password):
        return render(
            request,
            "login.html",
            status=401,
            next=local_path(next),
            error=gettext(request).gettext("wrong user name or password"),
        )
    attempt_succeeded(engine, keys)
    log_in(request, username.strip())
    return see_other(local_path(next))


@router.post("/logout", dependencies=[Depends(require_user), Depends(check_csrf)])
def logout(request: Request) -> Response:
    log_out(request)
    return see_other("/login")
