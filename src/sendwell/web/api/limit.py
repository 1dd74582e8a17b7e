"""/api/v1/limit: today's daily limit, the circuit breaker, the 30-day history; resume after the breaker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Engine

from sendwell.sending import usage
from sendwell.web.api.schemas import Resumed
from sendwell.web.security import require_token
from sendwell.web.state import get_engine

router = APIRouter(prefix="/limit", tags=["daily limit"])


@router.get("")
def show(request: Request, engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    from sendwell.sending.relay import daily_caps

    settings = request.app.state.web.settings
    return usage.limit_report(engine, settings.limit, relay_caps=daily_caps(settings.smtp.urls))


@router.post("/resume", response_model=Resumed)
def resume(engine: Engine = Depends(get_engine), token: Any = Depends(require_token)) -> dict[str, bool]:
    """Let sending go on after the circuit breaker paused it (an operator's decision, recorded)."""
    return {"resumed": usage.resume_breaker(engine, actor=f"api:{token.name}"[:200])}
