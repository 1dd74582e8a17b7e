"""The contacts a filter selects (part of the address, a field's value, the verification verdict, black-list status,
segment) as one SQL condition, used alike to count, page, export and act on them; and one contact's whole history.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, func, select, true

from sendwell.blacklist import BlacklistChange
from sendwell.db.schema import (
    blacklist,
    blacklist_history,
    campaigns,
    contacts,
    events,
    recipients,
    segment_members,
    segments,
)
from sendwell.errors import UserError
from sendwell.model import BlacklistReason, Verdict

UNCHECKED = "unchecked"  # the verdict filter's value for contacts never verified
VERDICTS = (*(v.value for v in Verdict), UNCHECKED)
LISTED, NOT_LISTED = "yes", "no"
BLACKLISTED = (LISTED, NOT_LISTED, *(r.value for r in BlacklistReason))


@dataclass(frozen=True)
class ContactFilter:
    """What a list of contacts is narrowed to; an empty value does not narrow."""

    search: str = ""  # part of the address
    field: str = ""  # a field's name…
    value: str = ""  # …and part of its value (no value: the field is set)
    verdict: str = ""  # one of VERDICTS
    blacklisted: str = ""  # one of BLACKLISTED: yes, no, or the reason of the entry
    segment: str = ""  # a segment's name

    def as_params(self) -> dict[str, str]:
        """The non-empty values by name (a query string, a form's hidden fields)."""
        return {k: v for k, v in asdict(self).items() if v}

    def conditions(self, conn: Connection) -> list[ColumnElement[bool]]:
        """The SQL conditions on `contacts`; a value that names nothing (an unknown verdict or segment) says so."""
        where: list[ColumnElement[bool]] = []
        if self.search.strip():
            where.append(contacts.c.email.contains(self.search.strip().lower(), autoescape=True))
        if self.field.strip():
            cell = contacts.c.fields[self.field.strip()].as_string()
            if self.value.strip():
                where.append(func.lower(cell).contains(self.value.strip().lower(), autoescape=True))
            else:
                where.append(func.coalesce(cell, "") != "")
        elif self.value.strip():
            raise UserError("choose the field whose value to look for", field="field")
        if self.verdict:
            if self.verdict not in VERDICTS:
                raise UserError(f"{self.verdict!r} is not one of {', '.join(VERDICTS)}", field="verdict")
            where.append(
                contacts.c.verdict.is_(None) if self.verdict == UNCHECKED else contacts.c.verdict == self.verdict
            )
        if self.blacklisted:
            where.append(_blacklisted(self.blacklisted))
        if self.segment:
            sid = conn.execute(select(segments.c.id).where(segments.c.name == self.segment)).scalar()
            if sid is None:
                raise UserError(f"no segment named {self.segment!r}", field="segment")
            members = select(segment_members.c.email).where(segment_members.c.segment_id == sid)
            where.append(contacts.c.email.in_(members))
        return where


def _blacklisted(value: str) -> ColumnElement[bool]:
    if value not in BLACKLISTED:
        raise UserError(f"{value!r} is not one of {', '.join(BLACKLISTED)}", field="blacklisted")
    listed = select(blacklist.c.email)
    if value == NOT_LISTED:
        return contacts.c.email.not_in(listed)
    if value != LISTED:
        listed = listed.where(blacklist.c.reason == value)
    return contacts.c.email.in_(listed)


def _rows(conn: Connection, flt: ContactFilter) -> Any:
    return (
        select(
            contacts.c.id,
            contacts.c.email,
            contacts.c.display,
            contacts.c.fields,
            contacts.c.verdict,
            contacts.c.created_at,
            blacklist.c.reason.label("blacklisted"),
        )
        .select_from(contacts.outerjoin(blacklist, blacklist.c.email == contacts.c.email))
        .where(true(), *flt.conditions(conn))
    )


def count(engine: Engine, flt: ContactFilter) -> int:
    with engine.connect() as conn:
        q = select(func.count()).select_from(contacts).where(true(), *flt.conditions(conn))
        return conn.execute(q).scalar_one()


def page(engine: Engine, flt: ContactFilter, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """One page of the matching contacts with their black-list reason, in the order they were added."""
    with engine.connect() as conn:
        q = _rows(conn, flt).order_by(contacts.c.id).limit(limit).offset(offset)
        return [dict(r._mapping) for r in conn.execute(q)]


def iter_matching(engine: Engine, flt: ContactFilter, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every matching contact, streamed by keyset pagination (flat memory on any size)."""
    last = 0
    while True:
        with engine.connect() as conn:
            q = _rows(conn, flt).where(contacts.c.id > last).order_by(contacts.c.id).limit(batch)
            rows = [dict(r._mapping) for r in conn.execute(q)]
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]


def field_names(engine: Engine, sample: int = 1000) -> list[str]:
    """The field names of the latest contacts (a filter form's choices), sorted."""
    with engine.connect() as conn:
        rows = conn.execute(select(contacts.c.fields).order_by(contacts.c.id.desc()).limit(sample)).scalars()
        return sorted({k for fields in rows for k in (fields or {})})


@dataclass(frozen=True, slots=True)
class CampaignPart:
    """A campaign the address was in, and its status there."""

    campaign_id: int
    campaign: str
    status: str
    kind: str | None
    reason: str | None
    smtp_answer: str | None
    sent_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContactEvent:
    """A bounce, complaint, unsubscribe… recorded for the address."""

    at: datetime
    type: str
    reason: str | None
    hard: bool | None
    status_code: str | None
    detail: str | None
    source: str | None
    campaign: str | None


@dataclass(frozen=True, slots=True)
class ContactHistory:
    campaigns: list[CampaignPart]
    events: list[ContactEvent]
    blacklist: list[BlacklistChange]
    segments: list[str]


def history(engine: Engine, key: str, limit: int = 200) -> ContactHistory:
    """What happened to an address (its comparison key), latest first: the campaigns it was in with its status
    there, the events (bounces, complaints, unsubscribes…), the black-list changes, and its segments."""
    with engine.connect() as conn:
        sent = conn.execute(
            select(
                campaigns.c.id.label("campaign_id"),
                campaigns.c.name.label("campaign"),
                recipients.c.status,
                recipients.c.kind,
                recipients.c.reason,
                recipients.c.smtp_answer,
                recipients.c.sent_at,
                recipients.c.opened_at,
                recipients.c.clicked_at,
            )
            .join(campaigns, campaigns.c.id == recipients.c.campaign_id)
            .where(recipients.c.email == key)
            .order_by(recipients.c.id.desc())
            .limit(limit)
        ).all()
        happened = conn.execute(
            select(
                events.c.at,
                events.c.type,
                events.c.reason,
                events.c.hard,
                events.c.status_code,
                events.c.detail,
                events.c.source,
                campaigns.c.name.label("campaign"),
            )
            .outerjoin(campaigns, campaigns.c.id == events.c.campaign_id)
            .where(events.c.email == key)
            .order_by(events.c.id.desc())
            .limit(limit)
        ).all()
        listed = conn.execute(
            select(blacklist_history)
            .where(blacklist_history.c.email == key)
            .order_by(blacklist_history.c.id.desc())
            .limit(limit)
        ).all()
        member_of = conn.execute(
            select(segments.c.name)
            .join(segment_members, segment_members.c.segment_id == segments.c.id)
            .where(segment_members.c.email == key)
            .order_by(segments.c.name)
        ).scalars()
        return ContactHistory(
            [CampaignPart(**r._mapping) for r in sent],
            [ContactEvent(**r._mapping) for r in happened],
            [BlacklistChange(**r._mapping) for r in listed],
            list(member_of),
        )
