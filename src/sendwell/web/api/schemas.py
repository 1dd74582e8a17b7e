"""Input and output shapes of the API (separate, so a response never echoes what a client may set)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar, get_type_hints

from pydantic import BaseModel, Field, create_model

from sendwell import campaigns, contactquery, contacts, setupcheck
from sendwell.domaincheck.findings import Level
from sendwell.model import BlacklistReason, ImportReport, RecipientStatus

MAX_PAGE = 1000
# Statuses travel as names and are read by model.parse_statuses (the one parser, whose error names the field and
# the valid names); the schema still lists the names for clients.
STATUS_NAMES: dict[str, Any] = {"items": {"type": "string", "enum": [s.value for s in RecipientStatus]}}
REASON_NAMES: dict[str, Any] = {"enum": [r.value for r in BlacklistReason]}  # read by blacklist.parse_reason


class Problem(BaseModel):
    """An error: the message, the JSON field at fault (null: the request as a whole) and a JSON pointer to it."""

    detail: str
    field: str | None = None
    pointer: str | None = Field(None, description="RFC 6901 pointer to the field in the request body, e.g. /subject")


def shown(shape: type, *, hide: Iterable[str] = ()) -> type[BaseModel]:
    """A response model derived from a service's dataclass: its fields, types and docstring, less those in `hide`
    (what a client is not shown). The service's type stays the one place a field is declared."""
    hints = get_type_hints(shape)
    hidden = set(hide)
    kept: dict[str, Any] = {f.name: (hints[f.name], ...) for f in dataclasses.fields(shape) if f.name not in hidden}
    return create_model(shape.__name__, __doc__=shape.__doc__, **kept)


CampaignOut = shown(campaigns.Campaign, hide=campaigns.PRIVATE_FIELDS)


class ContactOut(shown(contacts.Contact), shown(contactquery.ContactHistory)):  # type: ignore[misc]
    """One contact with its fields, verdict and black-list entry, and its history."""


ReportOut = ImportReport  # what an import or a bulk change did: the services' own report, not a copy of its fields


Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list; `Page[SomeService.Dataclass]` gives the items their schema from the service's own
    type (unparametrized: items of any shape)."""

    total: int
    limit: int
    offset: int
    items: list[Item]


class RecipientRows(Page[dict[str, Any]]):
    """One page of a campaign's recipients: each item has the `columns` as keys, the ledger's (email, status, the
    server's answer, …) then the contact's fields."""

    columns: list[str]


class SetupOut(BaseModel):
    """The set-up check: every finding, and the worst level."""

    ok: bool = Field(description="No finding worse than ok")
    worst: Level
    checked_at: str | None = Field(description="When it was checked (ISO 8601)")
    findings: list[setupcheck.Finding]


class Addresses(BaseModel):
    addresses: list[str] = Field(min_length=1, max_length=100_000, description="Addresses as typed or pasted")


class BlacklistAdd(Addresses):
    reason: str = Field(BlacklistReason.MANUAL.value, json_schema_extra=REASON_NAMES)
    note: str = Field("", max_length=10_000)


class BlacklistRemove(Addresses):
    note: str = Field("", max_length=10_000)


class FromCampaign(BaseModel):
    campaign: str = Field(min_length=1, description="Campaign id or name")
    statuses: list[str] = Field(default=[RecipientStatus.ERROR.value], json_schema_extra=STATUS_NAMES)


class BlacklistFromCampaign(FromCampaign):
    note: str = Field("", max_length=10_000)


class Added(BaseModel):
    added: int


class SegmentIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    public: bool = Field(False, description="Listed on the preference page, where a member may leave it alone")


class SegmentPublic(BaseModel):
    public: bool


class SegmentFromCampaign(FromCampaign):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)


class SegmentCreated(BaseModel):
    id: int
    name: str
    members: int = 0


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=2000)
    from_addr: str = Field(min_length=1, max_length=400, description="'Name <addr>' or 'addr'")
    reply_to: str | None = Field(None, max_length=400)
    html: str | None = Field(None, description="The body: HTML, or Markdown with body_format 'markdown'")
    text: str | None = None
    body_format: Literal["html", "markdown"] = "html"
    template: str | None = Field(None, max_length=200, description="The layout the body goes into (a template name)")
    include: list[str] = Field(default_factory=list, description="Segments to send to (none: all contacts)")
    exclude: list[str] = Field(default_factory=list, description="Segments never to send to")
    skip_verdicts: list[str] = Field(default_factory=lambda: ["invalid"])
    track: list[str] = Field(default_factory=list)
    language: Literal["en", "vi"] | None = Field(
        None, description="Of the words sendwell writes into it, a built-in layout's footer (none: [web] language)"
    )


class CampaignEdit(BaseModel):
    """Only the fields given change; `include`/`exclude` replace the segment lists."""

    subject: str | None = Field(None, min_length=1, max_length=2000)
    from_addr: str | None = Field(None, min_length=1, max_length=400)
    reply_to: str | None = Field(None, max_length=400)
    html: str | None = None
    text: str | None = None
    body_format: Literal["html", "markdown"] | None = None
    template: str | None = Field(None, max_length=200, description='A template name; "" for none')
    include: list[str] | None = None
    exclude: list[str] | None = None
    skip_verdicts: list[str] | None = None
    track: list[str] | None = None
    language: Literal["en", "vi"] | None = None


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    html: str = Field(min_length=1, description="HTML with {{ content }} where a campaign's body goes")
    text: str | None = Field(None, description="Plain text with {{ content }} (none: generated from the HTML)")


class TemplateEdit(BaseModel):
    """Only the fields given change; `text: ""` goes back to a text part generated from the HTML."""

    name: str | None = Field(None, min_length=1, max_length=200)
    html: str | None = Field(None, min_length=1)
    text: str | None = None


class TemplateOut(BaseModel):
    id: int | None = Field(description="None: a built-in template as shipped, not stored yet")
    name: str
    built_in: bool
    edited: bool
    html: str
    text: str | None
    created_at: datetime | None
    updated_at: datetime | None
    used_by: list[str] = Field(description="The campaigns that use it")


class TemplateDraft(BaseModel):
    html: str = Field(min_length=1)
    text: str | None = None


class TemplateRendered(BaseModel):
    html: str
    text: str


class CampaignCreated(BaseModel):
    id: int
    name: str


class Deleted(BaseModel):
    deleted: int


class SendStarted(BaseModel):
    id: int
    name: str
    state: str
    queued: int | None = Field(None, description="Recipients queued now (when a draft was started), else null")


class StateChange(BaseModel):
    id: int
    name: str
    state: str
    skipped: int | None = Field(None, description="Unsent recipients skipped (cancel only)")
    requeued: int | None = Field(None, description="Recipients queued again (resend only)")


class ScheduleIn(BaseModel):
    at: str = Field(
        min_length=1, max_length=64, description="'2026-12-24 09:00' or ISO-8601; with an offset, `timezone` is unused"
    )
    timezone: str | None = Field(
        None, max_length=64, description="IANA zone of `at`, e.g. Asia/Ho_Chi_Minh (default: [sending] timezone)"
    )


class Scheduled(BaseModel):
    id: int
    name: str
    state: str
    scheduled_at: datetime = Field(description="When the worker starts it (UTC)")
    timezone: str
    local: str = Field(description="The time in `timezone`, as people read it")


class Resend(BaseModel):
    statuses: list[str] = Field(
        default=[RecipientStatus.DEFERRED.value, RecipientStatus.FAILED.value],
        description="deferred and/or failed",
        json_schema_extra=STATUS_NAMES,
    )


class Resumed(BaseModel):
    resumed: bool


class ContactFilterIn(BaseModel):
    """The contacts a list, an export or a bulk action covers; an empty value does not narrow."""

    search: str = Field("", max_length=320, description="Part of the address")
    field: str = Field("", max_length=200, description="A field's name")
    value: str = Field("", max_length=1000, description="Part of that field's value (empty: the field is set)")
    verdict: str = Field("", description="valid, risky, invalid, unknown or unchecked")
    blacklisted: str = Field("", description="yes, no, or a black-list reason")
    segment: str = Field("", max_length=200, description="A segment's name")


class ContactEdit(BaseModel):
    fields: dict[str, str] = Field(description="Every field the contact keeps (an empty value drops it)")
    segments: list[str] | None = Field(None, description="Every segment it is in (omitted: unchanged)")


class BulkIn(BaseModel):
    action: str = Field(description="add_to_segment, remove_from_segment, blacklist, verify or delete")
    emails: list[str] = Field(default=[], max_length=100_000, description="The chosen contacts…")
    all_matching: bool = Field(False, description="…or every contact `filter` matches")
    filter: ContactFilterIn | None = None
    segment: str = Field("", max_length=200, description="For add_to_segment and remove_from_segment")
    reason: str = Field("manual", description="For blacklist", json_schema_extra=REASON_NAMES)
    note: str = Field("", max_length=10_000, description="For blacklist")
    dns: bool = Field(True, description="For verify: also look up each domain's mail servers")


class BulkOut(BaseModel):
    action: str
    count: int
    verdicts: dict[str, int] | None = None
