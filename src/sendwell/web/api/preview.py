"""/api/v1/campaigns/{campaign}/preview, /fields, /test, /history: the message as a recipient gets it, the
merge-field check, a test send to a few addresses, and what was done to the campaign besides sending it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sendwell import campaigns, history, preview
from sendwell.sending.testsend import MAX_ADDRESSES, send_test
from sendwell.web.api.schemas import Problem
from sendwell.web.state import EngineDep, web_state

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


class FieldCountOut(BaseModel):
    name: str
    cover: str = Field(description="none | missing (default(x)) | all (default(x, true) or an {% if %} guard)")
    missing: int
    blank: int
    unfilled: int = Field(description="Recipients who would see the field blank")


class FieldCheckOut(BaseModel):
    recipients: int
    fields: list[FieldCountOut]


class PreviewOut(BaseModel):
    campaign_id: int
    recipient: str
    recipient_id: int = Field(description="The recipient's ledger row once the campaign started, else 0")
    in_audience: bool
    subject: str
    text: str | None
    html: str | None
    eml: str = Field(description="The whole message as handed to the relay (DKIM-signed when a key covers From)")
    message_id: str
    envelope_from: str
    fields: FieldCheckOut


class TestSendIn(BaseModel):
    to: list[str] = Field(min_length=1, max_length=MAX_ADDRESSES, description="Addresses to send the test to")
    contact: str | None = Field(
        None,
        max_length=320,
        description="Whose fields fill the templates (default: the first recipient of the audience)",
    )


class DeliveryOut(BaseModel):
    to: str
    delivered: bool
    answer: str


class TestSendOut(BaseModel):
    campaign_id: int
    contact: str
    subject: str
    message_id: str
    relay: str
    delivered: int
    summary: str
    deliveries: list[DeliveryOut]


@router.get("/{campaign}/preview", response_model=PreviewOut)
def show_preview(
    request: Request,
    campaign: str,
    contact: str | None = Query(
        None, max_length=320, description="Recipient address (default: the first of the audience)"
    ),
    *,
    engine: EngineDep,
) -> dict[str, Any]:
    """The message exactly as `contact` gets it, built by the send engine, with the merge-field check."""
    shown = preview.preview(engine, web_state(request).settings, campaign, contact)
    return {**shown.as_dict(), "fields": preview.field_check(engine, campaign).as_dict()}


@router.get("/{campaign}/fields", response_model=FieldCheckOut)
def fields(campaign: str, engine: EngineDep) -> dict[str, Any]:
    """For each merge field the subject and bodies use: how many recipients lack it, have it empty, would see it
    blank."""
    return preview.field_check(engine, campaign).as_dict()


@router.post("/{campaign}/test", response_model=TestSendOut, responses={502: {"model": Problem}})
def test_send(request: Request, campaign: str, body: TestSendIn, engine: EngineDep) -> Any:
    """Send the real message, subject prefixed "[TEST] ", to `to` only; recorded in the campaign's history, never
    in its statistics, ledger or the daily limit. 502 when the relay took it for none of the addresses."""
    result = send_test(engine, web_state(request).settings, campaign, body.to, body.contact, actor="api")
    if not result.delivered:
        return JSONResponse({"detail": result.summary, "field": None}, status_code=502)
    return result.as_dict()


@router.get("/{campaign}/history", response_model=list[history.HistoryEntry])
def campaign_history(campaign: str, engine: EngineDep) -> list[history.HistoryEntry]:
    """What was done to the campaign besides sending it (test sends) and the server problems it met, latest first."""
    return history.of_campaign(engine, campaigns.get_campaign(engine, campaign).id)
