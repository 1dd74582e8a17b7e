"""The dashboard: the set-up check's problems, counts, the daily limit (tomorrow's limit and why, its 30-day chart
and table) and the circuit breaker, the latest campaigns."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sendwell import blacklist, campaigns, contacts, segments
from sendwell.sending import usage
from sendwell.setupcheck import cached_setup
from sendwell.web.security import UserDep
from sendwell.web.state import EngineDep, SettingsDep
from sendwell.web.ui.charts import daily_chart, outlook
from sendwell.web.ui.forms import actor, see_other
from sendwell.web.ui.render import render

router = APIRouter()


@router.get("/")
def dashboard(request: Request, engine: EngineDep, settings: SettingsDep) -> Response:
    camps = campaigns.list_campaigns(engine)
    limit = usage.limit_report(engine, settings.limit)
    return render(
        request,
        "dashboard.html",
        contacts=contacts.count(engine),
        blacklisted=blacklist.count(engine),
        segments=len(segments.list_segments(engine)),
        campaigns=camps[-10:][::-1],
        campaign_count=len(camps),
        limit=limit,
        chart=daily_chart(limit.history, limit.today.day),
        outlook=outlook(limit.today, settings.limit),  # tomorrow's limit and the rule that sets it
        setup_problems=cached_setup(engine, settings).problems,
    )


@router.post("/limit/resume")
def resume_sending(engine: EngineDep, user: UserDep) -> Response:
    """The operator lets sending go on after the circuit breaker paused it."""
    usage.resume_breaker(engine, actor=actor(user))
    return see_other("/")
