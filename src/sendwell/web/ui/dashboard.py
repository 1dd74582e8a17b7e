"""The dashboard: how many contacts, suppressed addresses, segments and campaigns, and the latest campaigns."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import blacklist, campaigns, contacts, segments
from sendwell.web.state import get_engine
from sendwell.web.ui.render import render

router = APIRouter()


@router.get("/")
def dashboard(request: Request, engine: Engine = Depends(get_engine)) -> Response:
    camps = campaigns.list_campaigns(engine)
    return render(request, "dashboard.html", contacts=contacts.count(engine), blacklisted=blacklist.count(engine),
                  segments=len(segments.list_segments(engine)), campaigns=camps[-10:][::-1],
                  campaign_count=len(camps))
