"""/api/v1/campaigns: create, list, show, edit while draft (segments to include and exclude), delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import Engine

from sendwell import campaigns
from sendwell.web.api.schemas import CampaignCreated, CampaignEdit, CampaignIn, Deleted
from sendwell.web.state import get_engine

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
CampaignRef = str  # a campaign's id or its name (an id wins)


@router.get("")
def list_campaigns(engine: Engine = Depends(get_engine)) -> list[dict[str, Any]]:
    return campaigns.list_campaigns(engine)


@router.post("", response_model=CampaignCreated, status_code=201)
def create(body: CampaignIn, engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    """A draft campaign; with no `include`, it goes to every contact (minus `exclude` and the black list)."""
    cid = campaigns.create_campaign(engine, **body.model_dump())
    return {"id": cid, "name": body.name.strip()}


@router.get("/{campaign}")
def show(campaign: CampaignRef, engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    return campaigns.get_campaign(engine, campaign)


@router.patch("/{campaign}")
def edit(campaign: CampaignRef, body: CampaignEdit, engine: Engine = Depends(get_engine)) -> dict[str, Any]:
    """Change a draft; `include`/`exclude` replace the segment lists. Returns the campaign as it now is."""
    campaigns.edit_campaign(engine, campaign, **body.model_dump(exclude_unset=True))
    return campaigns.get_campaign(engine, campaign)


@router.delete("/{campaign}", response_model=Deleted)
def delete(campaign: CampaignRef, engine: Engine = Depends(get_engine)) -> dict[str, int]:
    campaigns.delete_campaign(engine, campaign)
    return {"deleted": 1}
