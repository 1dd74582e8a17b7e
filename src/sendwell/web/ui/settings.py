"""The settings page: what this server is configured to accept (read-only; the settings live in sendwell.toml)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell.bounces import webhooks
from sendwell.web.state import get_engine, web_state
from sendwell.web.ui.render import render

router = APIRouter()


@router.get("/settings")
def settings_page(request: Request, engine: Engine = Depends(get_engine)) -> Response:
    settings = web_state(request).settings
    return render(request, "settings.html", webhooks=webhooks.status(engine, settings),
                  public_url=settings.sending.public_url.rstrip("/"))
