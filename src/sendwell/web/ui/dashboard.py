"""The dashboard: counts, the daily limit with its 30-day chart and the circuit breaker, the latest campaigns."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import blacklist, campaigns, contacts, segments
from sendwell.sending import usage
from sendwell.web.security import require_user
from sendwell.web.state import get_engine, web_state
from sendwell.web.ui.charts import daily_chart
from sendwell.web.ui.forms import actor, see_other
from sendwell.web.ui.render import render

router = APIRouter()


@router.get("/")
def dashboard(request: Request, engine: Engine = Depends(get_engine)) -> Response:
    camps = campaigns.list_campaigns(engine)
    limit = usage.limit_report(engine, web_state(request).settings.limit)
    return render(request, "dashboard.html", contacts=contacts.count(engine), blacklisted=blacklist.count(engine),
                  segments=len(segments.list_segments(engine)), campaigns=camps[-10:][::-1],
                  campaign_count=len(camps), limit=limit, chart=daily_chart(limit["history"], limit["today"]["day"]))


@router.post("/limit/resume")
def resume_sending(engine: Engine = Depends(get_engine), user: str = Depends(require_user)) -> Response:
    """The operator lets sending go on after the circuit breaker paused it."""
    usage.resume_breaker(engine, actor=actor(user))
    return see_other("/")
