"""A campaign's message as one recipient gets it (built by the send engine's own builder), and the merge-field
check: for each field the templates use, how many recipients of the audience would see it blank.

The audience is read with the rules `audience.resolve` uses (a draft), or from the ledger (a started
campaign), and counted in SQL: one pass over the audience whatever its size, never a row per contact in Python.
"""

from __future__ import annotations

import email
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from email import policy
from typing import Any

import jinja2
from sqlalchemy import Connection, Engine, String, and_, case, func, literal, or_, select
from sqlalchemy.sql import ColumnElement, Subquery

from sendwell import audience, campaigns, dkim, mergefields
from sendwell.addresses import AddressError, normalize
from sendwell.config import Settings
from sendwell.db.schema import campaign_segments, contacts, recipients
from sendwell.errors import UserError
from sendwell.mergefields import Cover
from sendwell.model import CampaignState, RecipientStatus
from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign

PARTS = ("text", "html", "eml")
PICK_LIMIT = 50  # recipients offered by the "preview as" picker


@dataclass(frozen=True, slots=True)
class FieldCount:
    name: str
    cover: str  # none | missing | all: what the template's default()/if covers (see mergefields)
    missing: int  # recipients whose contact lacks the field (or who are no contact at all)
    blank: int  # recipients whose field is there but empty ("")
    unfilled: int  # who would see it blank in the message, once the template's cover is counted


@dataclass(frozen=True, slots=True)
class FieldCheck:
    recipients: int
    fields: list[FieldCount]

    @property
    def unfilled(self) -> list[FieldCount]:
        return [f for f in self.fields if f.unfilled]

    def as_dict(self) -> dict[str, Any]:
        return {"recipients": self.recipients, "fields": [asdict(f) for f in self.fields]}


@dataclass(frozen=True, slots=True)
class Preview:
    campaign_id: int
    recipient: str  # the address whose fields filled the templates
    recipient_id: int  # its ledger row (a started campaign), else 0: tokens then name no one
    in_audience: bool
    subject: str
    text: str | None
    html: str | None
    eml: bytes  # the message as handed to the relay (DKIM-signed when a key covers the From domain)
    message_id: str
    envelope_from: str

    def part(self, name: str) -> str | bytes | None:
        return {"text": self.text, "html": self.html, "eml": self.eml}[name]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["eml"] = self.eml.decode("utf-8", "replace")
        return data


# --- the audience ------------------------------------------------------------------------------------------------


def _members(conn: Connection, camp: campaigns.Campaign) -> tuple[Subquery, dict[str, Any]]:
    """(subquery of email, display of who the campaign sends to, its parameters)."""
    if camp.state != CampaignState.DRAFT:  # started: its ledger, less those it skipped
        q = select(recipients.c.email, func.coalesce(recipients.c.display, recipients.c.email).label("display")).where(
            recipients.c.campaign_id == camp.id, recipients.c.status != RecipientStatus.SKIPPED.value
        )
        return q.subquery("m"), {}
    segs = conn.execute(select(campaign_segments).where(campaign_segments.c.campaign_id == camp.id)).all()
    stmt, params = audience.members(
        include=[s.segment_id for s in segs if s.mode == "include"],
        exclude=[s.segment_id for s in segs if s.mode == "exclude"],
        all_contacts=camp.all_contacts,
        skip=camp.skip_verdicts or [],
    )
    return stmt.columns(email=String, display=String).subquery("m"), params


def audience_sample(engine: Engine, campaign: str | int, search: str = "", limit: int = PICK_LIMIT) -> list[str]:
    """The first recipients of the audience by address (those containing `search`): the "preview as" choices."""
    camp = campaigns.get_campaign(engine, campaign)
    with engine.connect() as conn:
        m, params = _members(conn, camp)
        q = select(m.c.email).order_by(m.c.email).limit(limit)
        if search.strip():
            q = q.where(m.c.email.contains(search.strip().lower(), autoescape=True))
        return list(conn.execute(q, params).scalars())


# --- the merge-field check ---------------------------------------------------------------------------------------


def _value(name: str) -> ColumnElement:
    return contacts.c.fields[name].as_string()


def _blank(value: ColumnElement) -> ColumnElement:
    """An empty string: what Jinja2 takes as false (default(x, true) and {% if %} catch it; "  " they do not)."""
    return and_(value.is_not(None), value == "")


def _unset(name: str) -> ColumnElement:
    """Neither there nor filled: `name` is built from name, or first_name and last_name, stripped
    (message.display_name)."""
    return or_(_value(name).is_(None), func.trim(_value(name)) == "")


def _counts(name: str) -> tuple[ColumnElement, ColumnElement]:
    """SQL for (missing, blank) of one field over the audience joined to contacts."""
    if name == "name":  # always defined (maybe ""): a default() never applies, so all of it counts as blank
        return literal(0), func.sum(case((and_(*(_unset(n) for n in mergefields.NAME_SOURCES)), 1), else_=0))
    value = _value(name)
    return func.sum(case((value.is_(None), 1), else_=0)), func.sum(case((_blank(value), 1), else_=0))


def _unfilled(cover: Cover, missing: int, blank: int) -> int:
    return {Cover.NONE: missing + blank, Cover.MISSING: blank, Cover.ALL: 0}[cover]


def _used(camp: campaigns.Campaign) -> list[mergefields.FieldUse]:
    try:
        content = CampaignContent.of(asdict(camp))  # the body in its layout: the layout's fields count too
        return mergefields.fields_used((camp.subject, content.text, content.html))
    except jinja2.TemplateSyntaxError as err:  # saved before the checks existed: say so instead of failing
        raise UserError(f"template error on line {err.lineno}: {err.message}") from None


def field_check(engine: Engine, campaign: str | int) -> FieldCheck:
    """For every field the subject and bodies use, how many recipients have it missing or blank, in one query."""
    camp = campaigns.get_campaign(engine, campaign)
    used = _used(camp)
    with engine.connect() as conn:
        m, params = _members(conn, camp)
        sums = [c for u in used for c in _counts(u.name)]
        q = select(func.count(), *sums).select_from(m.outerjoin(contacts, contacts.c.email == m.c.email))
        row = conn.execute(q, params).one()
    figures = [int(v or 0) for v in row[1:]]
    fields = []
    for k, u in enumerate(used):
        missing, blank = figures[2 * k], figures[2 * k + 1]
        fields.append(FieldCount(u.name, u.cover.name.lower(), missing, blank, _unfilled(u.cover, missing, blank)))
    return FieldCheck(int(row[0]), fields)


_CHECKED: OrderedDict[tuple[Any, ...], tuple[float, FieldCheck]] = OrderedDict()
_CHECKED_LOCK = threading.Lock()
CHECK_SECONDS = 60.0  # how long a page view reuses a merge-field check (an import shows within a minute)


def field_check_cached(engine: Engine, campaign: str | int, max_age: float = CHECK_SECONDS) -> FieldCheck:
    """field_check, reused for `max_age` seconds while the campaign's templates, segments and skipped verdicts
    are unchanged: the draft page shows it on every view, and on a large audience it is a scan of it."""
    camp = campaigns.get_campaign(engine, campaign)
    key = (
        engine.url.render_as_string(),
        camp.id,
        camp.state,
        camp.subject,
        camp.text,
        camp.html,
        tuple(camp.include),
        tuple(camp.exclude),
        tuple(camp.skip_verdicts or ()),
    )
    now = time.monotonic()
    with _CHECKED_LOCK:
        hit = _CHECKED.get(key)
    if hit is not None and now - hit[0] <= max_age:
        return hit[1]
    checked = field_check(engine, camp.id)
    with _CHECKED_LOCK:
        _CHECKED[key] = (now, checked)
        _CHECKED.move_to_end(key)
        while len(_CHECKED) > 64:  # drafts being edited: a few keys each
            _CHECKED.popitem(last=False)
    return checked


# --- the message -------------------------------------------------------------------------------------------------


def links_of(engine: Engine, settings: Settings) -> Links:
    from sendwell.keys import app_secret

    return Links(app_secret(engine, settings), settings.sending.bounce_domain, settings.sending.public_url)


def recipient_of(conn: Connection, camp: campaigns.Campaign, contact: str | None) -> tuple[str, int, bool, dict]:
    """(address, ledger row id or 0, in the audience, contact fields) of the recipient to preview."""
    m, params = _members(conn, camp)
    if contact is None:
        first = conn.execute(select(m.c.email).order_by(m.c.email).limit(1), params).scalar()
        if first is None:
            raise UserError(
                f"campaign {camp.name!r} has no recipients: name a contact to preview as", field="contact", named=True
            )
        key, member = first, True
    else:
        try:
            key = normalize(contact)
        except AddressError as err:
            raise UserError(f"{contact!r}: {err}", field="contact") from None
        member = conn.execute(select(m.c.email).where(m.c.email == key), params).first() is not None
    fields = conn.execute(select(contacts.c.fields).where(contacts.c.email == key)).scalar()
    if not member and fields is None:
        raise UserError(f"{contact}: neither a contact nor a recipient of campaign {camp.name!r}", field="contact")
    rid = conn.execute(
        select(recipients.c.id).where(recipients.c.campaign_id == camp.id, recipients.c.email == key)
    ).scalar()
    return key, rid or 0, member, dict(fields or {})


def build(
    engine: Engine,
    settings: Settings,
    camp: campaigns.Campaign,
    address: str,
    recipient_id: int,
    fields: dict[str, Any],
    subject_prefix: str = "",
) -> tuple[Any, bytes]:
    """The engine's message for one recipient (rendered by PreparedCampaign, signed as the engine signs):
    (Rendered, the bytes handed to the relay)."""
    prepared = PreparedCampaign(CampaignContent.of(asdict(camp), subject_prefix), links_of(engine, settings))
    try:
        rendered = prepared.render(Personal(recipient_id, address, fields))
    except Exception as err:  # the engine records the same failure as a template error
        raise UserError(f"the message cannot be built for {address}: {type(err).__name__}: {err}") from None
    signer = dkim.Signer.for_from_domain(camp.from_addr, settings.dkim.dir)
    return rendered, signer.sign(rendered.data) if signer is not None else rendered.data


def preview(engine: Engine, settings: Settings, campaign: str | int, contact: str | None = None) -> Preview:
    """The message `contact` (default: the audience's first recipient) gets, as the engine would send it."""
    camp = campaigns.get_campaign(engine, campaign)
    with engine.connect() as conn:
        address, rid, member, fields = recipient_of(conn, camp, contact)
    rendered, data = build(engine, settings, camp, address, rid, fields)
    msg = email.message_from_bytes(data, policy=policy.default)
    parts = {kind: msg.get_body((kind,)) for kind in ("plain", "html")}
    # As a mail reader shows them: decoded, with its own line ends (the wire's CRLF stays in `eml`).
    text, html = (p.get_content().replace("\r\n", "\n") if p is not None else None for p in parts.values())
    return Preview(
        camp.id,
        address,
        rid,
        member,
        str(msg["Subject"] or ""),
        text,
        html,
        data,
        rendered.message_id,
        rendered.envelope_from,
    )
