"""Record pixel fetches and link clicks: an event per hit, the recipient's `read`/`clicked` from people's hits only.

Every genuine hit of a tracked campaign becomes an `events` row (type `open` or `click`, source
`human` or `machine`, the machine rule in `reason`, the link index in `detail`), deduplicated per
recipient, kind, link, source and minute. The recipient's `opened_at`, `clicked_at` and status are
then settled from the human events alone, so a scanner never makes anyone `clicked`: a click implies
a read, and only `sent`/`read`/`clicked` move (an `error`, `failed` or `skipped` row stays as it is).
Neither the IP address nor the user agent is stored; they only feed the machine rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from sendwell.db.engine import as_utc, utcnow
from sendwell.db.schema import campaigns, contacts, events, recipients
from sendwell.model import RecipientStatus
from sendwell.tracking import machine, tokens
from sendwell.tracking.links import link_count, link_for
from sendwell.tracking.machine import Hit, Source, Why

# Statuses tracking may move between; the others are the sending's or the bounces' verdict.
ENGAGEMENT = (RecipientStatus.SENT.value, RecipientStatus.READ.value, RecipientStatus.CLICKED.value)
TRACK_OPTION = {Hit.OPEN: "reads", Hit.CLICK: "clicks"}  # campaigns.track names


@dataclass(frozen=True, slots=True)
class Recorded:
    """What one hit did (for logs and tests)."""

    campaign_id: int
    recipient_id: int
    kind: Hit
    source: Source | None  # None when the campaign does not track this kind: nothing stored
    why: Why | None = None
    duplicate: bool = False
    link: int | None = None
    url: str | None = None  # a click's target


def _dedup_key(kind: Hit, rid: int, link: int | None, source: Source, at: datetime) -> str:
    return f"track:{kind}:{rid}:{'' if link is None else link}:{source}:{int(at.timestamp()) // 60}"


def _insert_event(conn: Connection, values: dict) -> int | None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(events).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    row = conn.execute(stmt.returning(events.c.id)).first()
    return row[0] if row else None


def _recipient(conn: Connection, cid: int, rid: int):  # a Row
    """The recipient row, locked on PostgreSQL: a scanner's parallel clicks then see each other (burst rule)."""
    q = (
        select(
            recipients.c.id,
            recipients.c.email,
            recipients.c.status,
            recipients.c.sent_at,
            campaigns.c.track,
            campaigns.c.html,
        )
        .join(campaigns, campaigns.c.id == recipients.c.campaign_id)
        .where(recipients.c.id == rid, recipients.c.campaign_id == cid)
    )
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(of=recipients)
    return conn.execute(q).first()


def _of_recipient(rid: int, email: str):  # a SQL condition
    # By email first: events.email is indexed, recipient_id is not.
    return (events.c.email == email, events.c.recipient_id == rid)


def _settle(conn: Connection, row) -> None:  # a Row
    """opened_at, clicked_at and the status from this recipient's human hits."""
    first = dict(
        conn.execute(
            select(events.c.type, func.min(events.c.at))
            .where(
                *_of_recipient(row.id, row.email),
                events.c.source == Source.HUMAN.value,
                events.c.type.in_([Hit.OPEN.value, Hit.CLICK.value]),
            )
            .group_by(events.c.type)
        ).all()
    )
    clicked = as_utc(first.get(Hit.CLICK.value))
    opened = min((as_utc(t) for t in first.values() if t is not None), default=None)
    values: dict = {"opened_at": opened, "clicked_at": clicked}
    if row.status in ENGAGEMENT:
        values["status"] = (
            RecipientStatus.CLICKED if clicked else RecipientStatus.READ if opened else RecipientStatus.SENT
        ).value
    conn.execute(update(recipients).where(recipients.c.id == row.id).values(**values))


def _hit(
    conn: Connection,
    row,
    cid: int,
    kind: Hit,
    link: int | None,
    user_agent: str | None,
    ip: str | None,
    at: datetime,
    links_in_message: int,
) -> tuple[Source, Why | None, bool]:
    why = machine.judge(kind, user_agent, ip, at, as_utc(row.sent_at))
    source = Source.MACHINE if why else Source.HUMAN
    new = _insert_event(
        conn,
        {
            "at": at,
            "type": kind.value,
            "email": row.email,
            "campaign_id": cid,
            "recipient_id": row.id,
            "detail": None if link is None else json.dumps({"link": link}),
            "source": source.value,
            "reason": why.value if why else None,
            "dedup_key": _dedup_key(kind, row.id, link, source, at),
        },
    )
    if new is None:
        return source, why, True
    changed = source is Source.HUMAN
    if kind is Hit.CLICK:
        recent = conn.execute(
            select(events.c.id, events.c.at, events.c.detail, events.c.source).where(
                *_of_recipient(row.id, row.email),
                events.c.type == Hit.CLICK.value,
                events.c.at >= at - machine.BURST_WINDOW,
                events.c.at <= at,
            )
        ).all()
        clicks = sorted((as_utc(r.at), json.loads(r.detail or "{}").get("link", -1)) for r in recent)
        if machine.is_burst(clicks, links_in_message):
            flip = [r.id for r in recent if r.source == Source.HUMAN.value]
            if flip:
                conn.execute(
                    update(events)
                    .where(events.c.id.in_(flip))
                    .values(source=Source.MACHINE.value, reason=Why.BURST.value)
                )
                changed = True
            source, why = Source.MACHINE, why or Why.BURST
    if changed:
        _settle(conn, row)
    return source, why, False


def record_open(
    engine: Engine, token: str, user_agent: str | None, ip: str | None, at: datetime | None = None, *, secret: str
) -> Recorded | None:
    """Record a fetch of the 1×1 image; None for a forged or unknown token (the caller answers alike)."""
    ids = tokens.decode_open(secret, token)
    if ids is None:
        return None
    cid, rid = ids
    at = at or utcnow()
    with engine.begin() as conn:
        row = _recipient(conn, cid, rid)
        if row is None:
            return None
        if TRACK_OPTION[Hit.OPEN] not in (row.track or []):
            return Recorded(cid, rid, Hit.OPEN, None)
        source, why, dup = _hit(conn, row, cid, Hit.OPEN, None, user_agent, ip, at, 0)
    return Recorded(cid, rid, Hit.OPEN, source, why, dup)


def click(
    engine: Engine, token: str, user_agent: str | None, ip: str | None, at: datetime | None = None, *, secret: str
) -> Recorded | None:
    """Record a click and find its target; None for a forged or unknown token or a link that is gone."""
    ids = tokens.decode_click(secret, token)
    if ids is None:
        return None
    cid, rid, link = ids
    at = at or utcnow()
    with engine.begin() as conn:
        row = _recipient(conn, cid, rid)
        if row is None or not row.html:
            return None
        fields = conn.execute(select(contacts.c.fields).where(contacts.c.email == row.email)).scalar()
        url = link_for(row.html, link, rid, row.email, fields)
        if url is None:
            return None
        if TRACK_OPTION[Hit.CLICK] not in (row.track or []):
            return Recorded(cid, rid, Hit.CLICK, None, link=link, url=url)
        source, why, dup = _hit(conn, row, cid, Hit.CLICK, link, user_agent, ip, at, link_count(row.html))
    return Recorded(cid, rid, Hit.CLICK, source, why, dup, link, url)


def record_click(
    engine: Engine, token: str, user_agent: str | None, ip: str | None, at: datetime | None = None, *, secret: str
) -> str | None:
    """Record a click; the URL to redirect to (from the stored campaign), or None to show the neutral page."""
    done = click(engine, token, user_agent, ip, at, secret=secret)
    return done.url if done else None
