"""Scheduling: when a draft campaign starts (a time in a zone, never in the past), and starting the due ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, func, select

from sendwell.campaigns import STARTABLE, NotDue, _campaign_row, start_in
from sendwell.db.engine import as_utc, utcnow
from sendwell.db.schema import campaigns
from sendwell.errors import UserError
from sendwell.model import CampaignState


def zone(name: str, setting: bool = False) -> ZoneInfo:
    """The named zone; `setting`: the name comes from the installation's settings, not from the request."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        what = f"{name!r} is not a time zone (e.g. UTC, Europe/Paris, Asia/Ho_Chi_Minh)"
        raise (UserError(f"[sending] timezone: {what}") if setting else UserError(what, field="timezone")) from None


def parse_time(at: str, tz: ZoneInfo, now: datetime) -> datetime:
    """`2026-12-24 09:00` or any ISO-8601 time, in `tz` unless it carries its own offset; as UTC, after `now`."""
    try:
        when = datetime.fromisoformat(at.strip())
    except ValueError:
        raise UserError(
            f"{at!r} is not a time: give e.g. 2026-12-24 09:00 or 2026-12-24T09:00+07:00", field="at"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    if when <= now:
        raise UserError(f"{local(when, tz)} is in the past (it is now {local(now, tz)}): give a later time", field="at")
    return as_utc(when.astimezone(now.tzinfo))


def local(when: datetime, tz: ZoneInfo) -> str:
    """How a time is shown back: in the zone it was given in, with that zone's name."""
    return f"{as_utc(when).astimezone(tz):%Y-%m-%d %H:%M} {tz.key}"


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A campaign's start time as it was set: in UTC, and as people read it in the zone it was given in."""

    id: int
    name: str
    scheduled_at: datetime  # UTC
    timezone: str
    local: str  # e.g. `2026-12-24 09:00 Asia/Ho_Chi_Minh`


def schedule_campaign(
    engine: Engine,
    name_or_id: str | int,
    at: str,
    timezone: str | None,
    *,
    default_tz: str,
    now: datetime | None = None,
) -> Scheduled:
    """Schedule a draft (or move a scheduled campaign's time); the audience is resolved when it starts."""
    tz = zone(timezone) if timezone else zone(default_tz, setting=True)
    when = parse_time(at, tz, now or utcnow())
    with engine.begin() as conn:
        row = _campaign_row(conn, name_or_id)
        if row.state not in STARTABLE:
            raise UserError(f"campaign {row.name!r} is {row.state}; only a draft can be scheduled")
        conn.execute(
            campaigns.update()
            .where(campaigns.c.id == row.id, campaigns.c.state == row.state)
            .values(state=CampaignState.SCHEDULED.value, scheduled_at=when, schedule_tz=tz.key)
        )
    return Scheduled(row.id, row.name, when, tz.key, local(when, tz))


def unschedule_campaign(engine: Engine, name_or_id: str | int) -> str:
    """A scheduled campaign back to a draft; returns its name."""
    with engine.begin() as conn:
        row = _campaign_row(conn, name_or_id)
        if row.state != CampaignState.SCHEDULED:
            raise UserError(f"campaign {row.name!r} is {row.state}, not scheduled")
        conn.execute(
            campaigns.update()
            .where(campaigns.c.id == row.id, campaigns.c.state == CampaignState.SCHEDULED.value)
            .values(state=CampaignState.DRAFT.value, scheduled_at=None, schedule_tz=None)
        )
    return str(row.name)


def start_due(conn: Connection, now: datetime, only: Sequence[int] | None = None) -> dict[int, int]:
    """Start the scheduled campaigns whose time has come (resolving their audience now), in this transaction:
    {campaign id: recipients queued}. Safe with several workers: each campaign is started once."""
    q = select(campaigns.c.id).where(
        campaigns.c.state == CampaignState.SCHEDULED.value, campaigns.c.scheduled_at <= now
    )
    if only:
        q = q.where(campaigns.c.id.in_(list(only)))
    started = {}
    for cid in conn.execute(q.order_by(campaigns.c.scheduled_at)).scalars().all():
        try:
            started[cid] = start_in(conn, cid, due=now)
        except NotDue:
            continue
    return started


def next_scheduled(conn: Connection, only: Sequence[int] | None = None) -> datetime | None:
    """When the earliest scheduled campaign (of `only`, when given) is due, or None."""
    q = select(func.min(campaigns.c.scheduled_at)).where(campaigns.c.state == CampaignState.SCHEDULED.value)
    if only:
        q = q.where(campaigns.c.id.in_(list(only)))
    return as_utc(conn.execute(q).scalar())
