"""/api/v1/limit: today's daily limit, the circuit breaker, the 30-day history; resume after the breaker."""

from __future__ import annotations

from fastapi import APIRouter

from sendwell.sending import usage
from sendwell.web.api.schemas import Resumed
from sendwell.web.security import TokenDep
from sendwell.web.state import EngineDep, SettingsDep

router = APIRouter(prefix="/limit", tags=["daily limit"])


@router.get("", response_model=usage.LimitReport)
def show(engine: EngineDep, settings: SettingsDep) -> usage.LimitReport:
    from sendwell.sending.relay import daily_caps

    return usage.limit_report(engine, settings.limit, relay_caps=daily_caps(settings.smtp.urls))


@router.post("/resume", response_model=Resumed)
def resume(engine: EngineDep, token: TokenDep) -> dict[str, bool]:
    """Let sending go on after the circuit breaker paused it (an operator's decision, recorded)."""
    return {"resumed": usage.resume_breaker(engine, actor=f"api:{token.name}"[:200])}
