"""The settings page: the user's language, and what this server is configured to accept (read-only; those
settings live in sendwell.toml)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from sendwell import auth
from sendwell.bounces import webhooks
from sendwell.web.security import UserDep
from sendwell.web.state import EngineDep, SettingsDep
from sendwell.web.ui.forms import see_other
from sendwell.web.ui.notices import flash
from sendwell.web.ui.render import render

router = APIRouter()


@router.get("/settings")
def settings_page(request: Request, engine: EngineDep, settings: SettingsDep, user: UserDep) -> Response:
    return render(
        request,
        "settings.html",
        webhooks=webhooks.status(engine, settings),
        public_url=settings.sending.public_url.rstrip("/"),
        chosen=auth.user_language(engine, user) or "",
    )


@router.post("/settings/language")
def choose_language(
    request: Request, language: str = Form("", max_length=16), *, engine: EngineDep, user: UserDep
) -> Response:
    """The user's language for every page ("": follow the browser's)."""
    auth.set_language(engine, user, language or None)
    request.session.pop("language", None)
    flash(request, "language_saved")
    return see_other("/settings")
