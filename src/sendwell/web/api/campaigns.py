"""/api/v1/campaigns: create, list, show, edit while draft (segments to include and exclude), delete;
send, pause, resume, cancel; statistics and recipients by status (JSON pages or streamed CSV)."""

from __future__ import annotations

from dataclasses import asdict
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine

from sendwell import campaigns, exports, schedule, stats
from sendwell.model import parse_statuses
from sendwell.sending import control
from sendwell.setupcheck import tracking_refusal
from sendwell.tracking.report import TrackingStats, tracking_stats
from sendwell.web.api.common import Limit, Offset
from sendwell.web.api.schemas import (
    STATUS_NAMES,
    CampaignCreated,
    CampaignEdit,
    CampaignIn,
    CampaignOut,
    Deleted,
    RecipientRows,
    Resend,
    Scheduled,
    ScheduleIn,
    SendStarted,
    StateChange,
)
from sendwell.web.csvout import csv_response
from sendwell.web.state import EngineDep, SettingsDep

Statuses = Annotated[
    list[str], Query(description="Recipient statuses (repeat the parameter)", json_schema_extra=STATUS_NAMES)
]

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
CampaignRef = str  # a campaign's id or its name (an id wins)


@router.get("", response_model=list[campaigns.CampaignSummary])
def list_campaigns(engine: EngineDep) -> list[campaigns.CampaignSummary]:
    return campaigns.list_campaigns(engine)


@router.post("", response_model=CampaignCreated, status_code=201)
def create(body: CampaignIn, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """A draft campaign; with no `include`, it goes to every contact (minus `exclude` and the black list).
    `track` is refused (400, field `track`) while the installation has no public_url: nothing could be tracked."""
    values = body.model_dump() | {"language": body.language or settings.web.language}
    cid = campaigns.create_campaign(engine, **values, refuse_tracking=tracking_refusal(settings))
    return {"id": cid, "name": body.name.strip()}


@router.get("/{campaign}", response_model=CampaignOut)
def show(campaign: CampaignRef, engine: EngineDep) -> campaigns.Campaign:
    return campaigns.get_campaign(engine, campaign)


@router.get("/{campaign}/audience", response_model=campaigns.AudiencePreview)
def audience(campaign: CampaignRef, engine: EngineDep) -> campaigns.AudiencePreview:
    """Who sending now would reach: candidates, minus the excluded segments, minus the black list."""
    return campaigns.audience_preview(engine, campaign)


@router.patch("/{campaign}", response_model=CampaignOut)
def edit(campaign: CampaignRef, body: CampaignEdit, engine: EngineDep, settings: SettingsDep) -> campaigns.Campaign:
    """Change a draft; `include`/`exclude` replace the segment lists. Returns the campaign as it now is.
    `track` is refused as on create while the installation has no public_url."""
    campaigns.edit_campaign(
        engine, campaign, **body.model_dump(exclude_unset=True), refuse_tracking=tracking_refusal(settings)
    )
    return campaigns.get_campaign(engine, campaign)


@router.delete("/{campaign}", response_model=Deleted)
def delete(campaign: CampaignRef, engine: EngineDep) -> dict[str, int]:
    campaigns.delete_campaign(engine, campaign)
    return {"deleted": 1}


@router.post("/{campaign}/send", response_model=SendStarted, status_code=202)
def send(campaign: CampaignRef, engine: EngineDep) -> dict[str, Any]:
    """Start a draft (its audience is resolved into the recipient ledger now) or confirm a sending one.

    The messages are delivered by the sending worker (`sendwell serve` runs one, or `sendwell worker`);
    follow the progress with GET .../stats.
    """
    camp, queued = control.prepare_send(engine, campaign)
    return {"id": camp.id, "name": camp.name, "state": camp.state, "queued": queued}


@router.post("/{campaign}/schedule", response_model=Scheduled)
def schedule_campaign(
    campaign: CampaignRef, body: ScheduleIn, engine: EngineDep, settings: SettingsDep
) -> dict[str, Any]:
    """Start a draft at a later time (or move a scheduled campaign's time): the sending worker resolves its
    audience and sends it then. A time in the past is refused (400, field `at`)."""
    data = schedule.schedule_campaign(engine, campaign, body.at, body.timezone, default_tz=settings.sending.timezone)
    return asdict(data) | {"state": "scheduled"}


@router.delete("/{campaign}/schedule", response_model=StateChange)
def unschedule_campaign(campaign: CampaignRef, engine: EngineDep) -> dict[str, Any]:
    """A scheduled campaign back to a draft."""
    schedule.unschedule_campaign(engine, campaign)
    return _changed(engine, campaign)


def _changed(engine: Engine, campaign: str, skipped: int | None = None) -> dict[str, Any]:
    camp = campaigns.get_campaign(engine, campaign)
    return {"id": camp.id, "name": camp.name, "state": camp.state, "skipped": skipped}


@router.post("/{campaign}/pause", response_model=StateChange)
def pause(campaign: CampaignRef, engine: EngineDep) -> dict[str, Any]:
    control.pause(engine, campaign)
    return _changed(engine, campaign)


@router.post("/{campaign}/resume", response_model=StateChange)
def resume(campaign: CampaignRef, engine: EngineDep) -> dict[str, Any]:
    control.resume(engine, campaign)
    return _changed(engine, campaign)


@router.post("/{campaign}/cancel", response_model=StateChange)
def cancel(campaign: CampaignRef, engine: EngineDep) -> dict[str, Any]:
    """Cancel for good: recipients not yet sent become skipped."""
    skipped = control.cancel(engine, campaign)
    return _changed(engine, campaign, skipped)


@router.post("/{campaign}/resend", response_model=StateChange)
def resend(campaign: CampaignRef, body: Resend, engine: EngineDep) -> dict[str, Any]:
    """Queue again the recipients left `deferred` or `failed` (never `sent` or `error` ones); the worker sends."""
    requeued = control.resend(engine, campaign, body.statuses)
    return {**_changed(engine, campaign), "requeued": requeued}


@router.get("/{campaign}/stats", response_model=stats.CampaignStats)
def campaign_stats(campaign: CampaignRef, engine: EngineDep, settings: SettingsDep) -> stats.CampaignStats:
    """Counts by status, the address-error rate, the top error answers, server problems (apart, with their
    history), the audience figures kept when it was resolved, and the phase: `waiting_retry` when nothing is
    left to send now but deferred recipients wait for a retry (until `waiting_retry.until`)."""
    return stats.campaign_stats(engine, campaign, retry_horizon_hours=settings.sending.retry_horizon_hours)


@router.get("/{campaign}/tracking", response_model=TrackingStats)
def tracking(campaign: CampaignRef, engine: EngineDep) -> TrackingStats:
    """Reads and clicks (people's, machines' apart) and clicks per link, for a campaign that tracks them."""
    return tracking_stats(engine, campaigns.get_campaign(engine, campaign).id)


@router.get("/{campaign}/recipients", response_model=RecipientRows)
def recipients(
    campaign: CampaignRef,
    status: Statuses = ["error"],  # noqa: B006 - FastAPI default
    limit: Limit = 100,
    offset: Offset = 0,
    *,
    engine: EngineDep,
) -> dict[str, Any]:
    """One page of the recipients in these statuses, with their server's answer and the contact's fields."""
    wanted = [s.value for s in parse_statuses(status, field="status")]
    by_status = stats.campaign_stats(engine, campaign).by_status
    columns, rows = stats.iter_recipients(engine, campaign, wanted, batch=min(5000, offset + limit))
    return {
        "total": sum(by_status.get(s, 0) for s in wanted),
        "limit": limit,
        "offset": offset,
        "columns": columns,
        "items": list(islice(rows, offset, offset + limit)),
    }


@router.get(
    "/{campaign}/recipients.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}}
)
def recipients_csv(
    campaign: CampaignRef,
    status: Statuses = ["error"],  # noqa: B006
    *,
    engine: EngineDep,
) -> StreamingResponse:
    """Every recipient in these statuses as CSV, streamed (e.g. the errors, to blacklist or fix)."""
    return csv_response(exports.recipients(engine, campaign, parse_statuses(status, field="status")))
