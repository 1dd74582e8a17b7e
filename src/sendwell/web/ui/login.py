"""Log in and out of the web UI."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell.web.security import check_csrf, current_user, log_in, log_out, require_user
from sendwell.web.state import get_engine, web_state
from sendwell.web.throttle import keys_for
from sendwell.web.ui.forms import local_path, see_other
from sendwell.web.ui.render import render

router = APIRouter()


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if current_user(request):
        return see_other(local_path(next))
    return render(request, "login.html", next=local_path(next), error=None)


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(request: Request, username: str = Form(..., max_length=200), password: str = Form(..., max_length=1000),
          next: str = Form("/"), engine: Engine = Depends(get_engine)) -> Response:
    from sendwell.auth import session_stamp, verify_user

    throttle = web_state(request).logins
    keys = keys_for(username, request.client.host if request.client else None)
    wait = throttle.wait_seconds(keys)
    if wait:
        minutes = max(1, round(wait / 60))
        return render(request, "login.html", status=429, headers={"Retry-After": str(int(wait) + 1)},
                      next=local_path(next), error=f"too many failed logins: try again in {minutes} minute(s)")
    stamp = session_stamp(engine, username.strip()) if verify_user(engine, username, password) else None
    if stamp is None:
        throttle.failed(keys)
        return render(request, "login.html", status=401, next=local_path(next),
                      error="wrong user name or password")
    throttle.succeeded(keys)
    log_in(request, username.strip(), stamp)
    return see_other(local_path(next))


@router.post("/logout", dependencies=[Depends(require_user), Depends(check_csrf)])
def logout(request: Request) -> Response:
    log_out(request)
    return see_other("/login")
