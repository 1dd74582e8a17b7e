"""Log in and out of the web UI."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell.web.security import check_csrf, current_user, log_in, log_out, require_user
from sendwell.web.state import get_engine
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

    stamp = session_stamp(engine, username.strip()) if verify_user(engine, username, password) else None
    if stamp is None:
        return render(request, "login.html", status=401, next=local_path(next),
                      error="wrong user name or password")
    log_in(request, username.strip(), stamp)
    return see_other(local_path(next))


@router.post("/logout", dependencies=[Depends(require_user), Depends(check_csrf)])
def logout(request: Request) -> Response:
    log_out(request)
    return see_other("/login")
