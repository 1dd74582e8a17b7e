"""Campaign pages: list, create or edit a draft (segments to send to and to exclude, picked from lists), show."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import campaigns, segments
from sendwell.errors import UserError
from sendwell.model import CampaignState
from sendwell.web.errors import describe
from sendwell.web.state import get_engine
from sendwell.web.ui.forms import see_other
from sendwell.web.ui.render import render

router = APIRouter(prefix="/campaigns")
FORM_FIELDS = ("name", "subject", "from_addr", "reply_to", "text", "html")


def _form(request: Request, engine: Engine, values: dict[str, Any], *, campaign: dict | None = None,
          status: int = 200, error: str | None = None, field: str | None = None) -> Response:
    return render(request, "campaign_form.html", status=status, values=values, campaign=campaign,
                  segments=segments.list_segments(engine), error=error, field=field)


def _blank_to_none(value: str) -> str | None:
    return value if value.strip() else None


@router.get("")
def campaigns_page(request: Request, engine: Engine = Depends(get_engine)) -> Response:
    return render(request, "campaigns.html", campaigns=campaigns.list_campaigns(engine))


@router.get("/new")
def new_form(request: Request, engine: Engine = Depends(get_engine)) -> Response:
    return _form(request, engine, {"include": [], "exclude": []})


@router.post("/new")
def create(request: Request, name: str = Form(""), subject: str = Form(""), from_addr: str = Form(""),
           reply_to: str = Form(""), text: str = Form(""), html: str = Form(""),
           include: list[str] = Form([]), exclude: list[str] = Form([]),
           engine: Engine = Depends(get_engine)) -> Response:
    values = {"name": name, "subject": subject, "from_addr": from_addr, "reply_to": reply_to, "text": text,
              "html": html, "include": include, "exclude": exclude}
    try:
        cid = campaigns.create_campaign(engine, name=name, subject=subject, from_addr=from_addr,
                                        reply_to=_blank_to_none(reply_to), text=_blank_to_none(text),
                                        html=_blank_to_none(html), include=include, exclude=exclude)
    except UserError as err:
        message, field = describe(err)
        return _form(request, engine, values, status=400, error=message, field=field)
    return see_other(f"/campaigns/{cid}")


@router.get("/{cid}")
def show(request: Request, cid: int, engine: Engine = Depends(get_engine)) -> Response:
    camp = campaigns.get_campaign(engine, cid)
    return render(request, "campaign.html", campaign=camp, draft=camp["state"] == CampaignState.DRAFT)


@router.get("/{cid}/edit")
def edit_form(request: Request, cid: int, engine: Engine = Depends(get_engine)) -> Response:
    camp = campaigns.get_campaign(engine, cid)
    values = {k: camp.get(k) or "" for k in FORM_FIELDS} | {"include": camp["include"], "exclude": camp["exclude"]}
    return _form(request, engine, values, campaign=camp)


@router.post("/{cid}/edit")
def edit(request: Request, cid: int, subject: str = Form(""), from_addr: str = Form(""), reply_to: str = Form(""),
         text: str = Form(""), html: str = Form(""), include: list[str] = Form([]), exclude: list[str] = Form([]),
         engine: Engine = Depends(get_engine)) -> Response:
    camp = campaigns.get_campaign(engine, cid)
    values = {"name": camp["name"], "subject": subject, "from_addr": from_addr, "reply_to": reply_to, "text": text,
              "html": html, "include": include, "exclude": exclude}
    try:
        campaigns.edit_campaign(engine, cid, subject=subject, from_addr=from_addr, reply_to=_blank_to_none(reply_to),
                                text=_blank_to_none(text), html=_blank_to_none(html), include=include,
                                exclude=exclude)
    except UserError as err:
        message, field = describe(err)
        return _form(request, engine, values, campaign=camp, status=400, error=message, field=field)
    return see_other(f"/campaigns/{cid}")


@router.post("/{cid}/delete")
def delete(cid: int, engine: Engine = Depends(get_engine)) -> Response:
    campaigns.delete_campaign(engine, cid)
    return see_other("/campaigns")
