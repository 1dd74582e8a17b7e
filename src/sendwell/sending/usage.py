"""The daily limit's database side: one `daily_usage` row per day plus one `usage_shards` row per worker and day
(summed when read), rolling-hour counts and the breaker in `state`.

Counts are written in the same transaction as the outcomes they count, so a crash cannot make the
limit forget a message. Each worker counts in its own shard, so concurrent commits of several workers
never wait on one row; the day's row is locked only to reserve a block of the day's limit (`reserve_day`),
which keeps the limit exact: a worker sends only what it reserved (sending/quota.py). The policy (how a new
day's limit is set, when the breaker trips) is in sending/limit.py. In the rolling window every commit also
updates the hour counts in `state` (one shared row: the calendar day scales better).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from sendwell.config import LimitSettings
from sendwell.db.engine import as_utc
from sendwell.db.schema import daily_usage, events, relay_usage, state, usage_shards
from sendwell.sending import limit

BREAKER = "breaker"
ROLLING = "usage_rolling"  # {"<hour ISO>": sends} for the rolling 24-hour window
D = daily_usage
U = usage_shards


@dataclass(frozen=True, slots=True)
class DayUsage:
    """One day of the limit's history."""

    day: str
    limit: int
    sent: int
    address_errors: int
    error_rate: float  # address errors / (sent + address errors), to 4 places
    complaints: int


@dataclass(frozen=True, slots=True)
class Breaker:
    """The tripped circuit breaker: why, and since when (ISO 8601, UTC)."""

    reason: str
    at: str


@dataclass(frozen=True, slots=True)
class RelayUsage:
    """A relay with a daily cap of its own, and today's use of it."""

    relay: str
    daily_limit: int
    sent_today: int
    remaining: int


@dataclass(frozen=True, slots=True)
class LimitToday:
    day: str
    limit: int
    used: int  # sent, or held by a worker to send
    remaining: int
    sent: int
    address_errors: int
    error_rate: float


@dataclass(frozen=True, slots=True)
class LimitReport:
    """Today's allowance, the breaker, the policy in words, the capped relays and the history."""

    relays: list[RelayUsage]
    today: LimitToday
    window: str
    next_reset: str  # ISO 8601
    breaker: Breaker | None
    policy: str
    history: list[DayUsage]


# The statements of the sender's checks and reservations are built once: building one cost more than running it
# (the day's row, with two scalar subqueries: ten times more), several times per transaction.
_STATE = select(state.c.value).where(state.c.key == bindparam("key"))


def get_state(conn: Connection, key: str) -> Any:
    value = conn.execute(_STATE, {"key": key}).scalar()
    return None if value is None else json.loads(value)


def set_state(conn: Connection, key: str, value: Any, now: datetime) -> None:
    text = json.dumps(value)
    if conn.execute(update(state).where(state.c.key == key).values(value=text, updated_at=now)).rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(state.insert().values(key=key, value=text, updated_at=now))
        except IntegrityError:  # another process wrote it first
            conn.execute(update(state).where(state.c.key == key).values(value=text, updated_at=now))


def _shards(day: Any, column: Any) -> Any:
    """The workers' part of a count for `day` (a value or a column)."""
    return select(func.coalesce(func.sum(column), 0)).where(U.c.day == day).scalar_subquery()


_ROW = select(
    D.c.limit,
    (D.c.sent + _shards(D.c.day, U.c.sent)).label("sent"),
    (D.c.address_errors + _shards(D.c.day, U.c.address_errors)).label("address_errors"),
).where(D.c.day == bindparam("day"))


def _row(conn: Connection, day: str) -> limit.DayStats | None:
    r = conn.execute(_ROW, {"day": day}).first()
    return None if r is None else limit.DayStats(r.limit, r.sent, r.address_errors)


def today(conn: Connection, settings: LimitSettings, now: datetime) -> tuple[str, limit.DayStats]:
    """Today's row, created from the last recorded day by the growth policy when the day begins."""
    day = limit.day_of(now, settings)
    stats = _row(conn, day)
    if stats is not None:
        return day, stats
    prev = conn.execute(select(D.c.day).where(D.c.day < day).order_by(D.c.day.desc()).limit(1)).scalar()
    new_limit = limit.next_limit(_row(conn, prev) if prev else None, settings)
    try:
        with conn.begin_nested():
            conn.execute(D.insert().values(day=day, limit=new_limit, sent=0, address_errors=0, complaints=0))
    except IntegrityError:
        pass  # another worker created it
    stats = _row(conn, day)
    assert stats is not None
    return day, stats


def used(conn: Connection, settings: LimitSettings, now: datetime, stats: limit.DayStats | None = None) -> int:
    """Messages counted against today's limit: the calendar day (`stats`, today's row, when just read), or
    the last 24 hours."""
    if settings.window != "rolling":
        return (stats or today(conn, settings, now)[1]).used
    buckets = get_state(conn, ROLLING) or {}
    since = now - timedelta(hours=24)
    return sum(n for hour, n in buckets.items() if datetime.fromisoformat(hour) > since)


def remaining(conn: Connection, settings: LimitSettings, now: datetime) -> int:
    return max(0, today(conn, settings, now)[1].limit - used(conn, settings, now))


_BUMP = (
    "UPDATE usage_shards SET sent = sent + {m}, address_errors = address_errors + {m} WHERE day = {m} AND owner = {m}"
)


def counting(
    settings: LimitSettings, now: datetime, *, sent: int, address_errors: int, owner: str
) -> tuple[str, tuple[Any, ...]] | None:
    """What `add` runs once `owner`'s row of the day exists, as (PostgreSQL SQL, parameters), for a caller that
    makes it part of its own statement; None with a rolling window, where `add` writes more."""
    if settings.window == "rolling":
        return None
    return _BUMP.format(m="%s"), (sent, address_errors, limit.day_of(now, settings), owner)


def add(
    conn: Connection, settings: LimitSettings, now: datetime, *, sent: int, address_errors: int, owner: str = ""
) -> None:
    """Count messages that reached a recipient (accepted, or refused as a bad address), in `owner`'s shard."""
    if not sent and not address_errors:
        return
    day = limit.day_of(now, settings)
    bump = _BUMP.format(m="?" if conn.dialect.paramstyle == "qmark" else "%s")
    # on the DB-API cursor, as queue.record: once per commit of outcomes, where exec_driver_sql's own
    # handling cost more than the statement
    cursor = conn.connection.cursor()
    try:
        cursor.execute(bump, (sent, address_errors, day, owner))
        if cursor.rowcount == 0:  # a new day or worker
            _shard(conn, settings, now, owner)
            cursor.execute(bump, (sent, address_errors, day, owner))
    finally:
        cursor.close()
    if settings.window == "rolling":
        buckets = get_state(conn, ROLLING) or {}
        hour = now.replace(minute=0, second=0, microsecond=0).isoformat()
        buckets[hour] = buckets.get(hour, 0) + sent + address_errors
        since = now - timedelta(hours=25)
        set_state(conn, ROLLING, {h: n for h, n in buckets.items() if datetime.fromisoformat(h) > since}, now)


_SHARD = select(U.c.owner).where(U.c.day == bindparam("day"), U.c.owner == bindparam("owner"))
_DAY_LIMIT = select(D.c.limit).where(D.c.day == bindparam("day"))
_DAY_LIMIT_LOCKED = _DAY_LIMIT.with_for_update()  # PostgreSQL; SQLite's transaction holds the write lock
_HELD = select(U.c.granted, U.c.sent, U.c.address_errors).where(U.c.day == bindparam("day"))
_GRANT = (
    update(U)
    .where(U.c.day == bindparam("b_day"), U.c.owner == bindparam("b_owner"))  # not the columns' own names
    .values(granted=U.c.granted + bindparam("grant"))
)


def _shard(conn: Connection, settings: LimitSettings, now: datetime, owner: str) -> str:
    """Make sure today's row and `owner`'s shard of it exist; returns the day."""
    day, _ = today(conn, settings, now)
    if conn.execute(_SHARD, {"day": day, "owner": owner}).first() is None:
        try:
            with conn.begin_nested():
                conn.execute(U.insert().values(day=day, owner=owner, sent=0, address_errors=0, granted=0))
        except IntegrityError:  # the same owner's other transaction (a retried one) made it
            pass
    return day


def reserve_day(conn: Connection, settings: LimitSettings, now: datetime, owner: str, want: int) -> int:
    """Reserve up to `want` messages of today's limit for `owner`; returns how many were granted.

    What is free is the limit less what was used (all shards and the day's row, or the last 24 hours) and
    less what other workers reserved and have not used yet. The day's row is locked while we decide
    (PostgreSQL: FOR UPDATE; SQLite: the transaction's write lock), so two workers never grant the same
    messages: together they never send past the limit."""
    day = _shard(conn, settings, now, owner)
    lock = _DAY_LIMIT_LOCKED if conn.dialect.name == "postgresql" else _DAY_LIMIT
    daily = conn.execute(lock, {"day": day}).scalar_one()
    shards = conn.execute(_HELD, {"day": day}).all()
    held = sum(max(0, r.granted - r.sent - r.address_errors) for r in shards)  # a row per worker: few
    grant = max(0, min(want, daily - used(conn, settings, now) - held))  # read after the lock: up to date
    if grant:
        conn.execute(_GRANT, {"b_day": day, "b_owner": owner, "grant": grant})
    return grant


def return_day(conn: Connection, day: str, owner: str, unused: int) -> None:
    """Give back reserved messages of `day` this worker did not send."""
    conn.execute(update(U).where(U.c.day == day, U.c.owner == owner).values(granted=U.c.granted - unused))


def reserve_relay(conn: Connection, day: str, relay: str, want: int, cap: int) -> int:
    """Reserve up to `want` of `relay`'s messages for `day` under its `cap`; returns how many were granted.

    The row counts what was reserved (sent, or held by a worker to send), so workers sharing a relay
    never go over its cap together; the row is locked while we decide (PostgreSQL: FOR UPDATE,
    SQLite: the write lock of the transaction)."""
    row = select(relay_usage.c.sent).where(relay_usage.c.day == day, relay_usage.c.relay == relay)
    if conn.dialect.name == "postgresql":
        row = row.with_for_update()
    taken = conn.execute(row).scalar()
    if taken is None:
        try:
            with conn.begin_nested():
                conn.execute(relay_usage.insert().values(day=day, relay=relay, sent=0))
        except IntegrityError:  # another worker created it meanwhile
            pass
        taken = conn.execute(row).scalar() or 0
    grant = max(0, min(want, cap - taken))
    if grant:
        conn.execute(
            update(relay_usage)
            .where(relay_usage.c.day == day, relay_usage.c.relay == relay)
            .values(sent=relay_usage.c.sent + grant)
        )
    return grant


def return_relay(conn: Connection, day: str, relay: str, unused: int) -> None:
    """Give back reserved messages this worker did not send."""
    conn.execute(
        update(relay_usage)
        .where(relay_usage.c.day == day, relay_usage.c.relay == relay)
        .values(sent=relay_usage.c.sent - unused)
    )


def relays_today(conn: Connection, settings: LimitSettings, now: datetime) -> dict[str, int]:
    """{relay key: messages reserved today (sent, or held by a worker to send)}."""
    return relays_on(conn, limit.day_of(now, settings))


def relays_on(conn: Connection, day: str) -> dict[str, int]:
    """{relay key: messages reserved on `day`}."""
    return dict(conn.execute(select(relay_usage.c.relay, relay_usage.c.sent).where(relay_usage.c.day == day)).all())


def history(conn: Connection, days: int = 30) -> list[DayUsage]:
    rows = conn.execute(
        select(
            D.c.day,
            D.c.limit,
            (D.c.sent + _shards(D.c.day, U.c.sent)).label("sent"),
            (D.c.address_errors + _shards(D.c.day, U.c.address_errors)).label("address_errors"),
            D.c.complaints,
        )
        .order_by(D.c.day.desc())
        .limit(days)
    ).all()
    return [
        DayUsage(
            r.day,
            r.limit,
            r.sent,
            r.address_errors,
            round(limit.rate(r.address_errors, r.sent + r.address_errors), 4),
            r.complaints,
        )
        for r in rows
    ]


def complaints_since(conn: Connection, since: datetime) -> int:
    return conn.execute(
        select(func.count()).select_from(events).where(events.c.type == "complaint", events.c.at >= since)
    ).scalar_one()


def sent_since(conn: Connection, settings: LimitSettings, since: datetime) -> int:
    first = limit.day_of(since, settings)
    base = conn.execute(select(func.coalesce(func.sum(D.c.sent), 0)).where(D.c.day >= first)).scalar_one()
    return base + conn.execute(select(func.coalesce(func.sum(U.c.sent), 0)).where(U.c.day >= first)).scalar_one()


def breaker(conn: Connection) -> Breaker | None:
    """The tripped circuit breaker, or None when sending may go on."""
    value = get_state(conn, BREAKER)
    return Breaker(value["reason"], value["at"]) if value and value.get("paused") else None


def trip(conn: Connection, reason: str, now: datetime) -> None:
    set_state(conn, BREAKER, {"paused": True, "reason": reason, "at": now.isoformat()}, now)


def reset(conn: Connection, now: datetime, actor: str = "") -> bool:
    """Resume after the breaker tripped; True when it was tripped."""
    was = breaker(conn) is not None
    set_state(conn, BREAKER, {"paused": False, "resumed_at": now.isoformat(), "actor": actor}, now)
    return was


def last_error_window(conn: Connection, settings: LimitSettings) -> list[bool]:
    """The last `window_sends` sends as address-error flags, oldest first (seeds a worker's window)."""
    from sendwell.db.schema import recipients as R
    from sendwell.model import FailureKind, RecipientStatus

    delivered = [RecipientStatus.SENT.value, RecipientStatus.READ.value, RecipientStatus.CLICKED.value]
    q = (
        select(R.c.status, R.c.kind)
        .where(R.c.status.in_([*delivered, RecipientStatus.ERROR.value]))
        .where(R.c.updated_at.is_not(None))
    )
    resumed = as_time((get_state(conn, BREAKER) or {}).get("resumed_at"))
    if resumed is not None:  # the operator resumed: judge only what was sent since
        q = q.where(R.c.updated_at > resumed)
    rows = conn.execute(q.order_by(R.c.updated_at.desc()).limit(settings.window_sends)).all()
    return [r.status == RecipientStatus.ERROR.value and r.kind == FailureKind.RECIPIENT.value for r in reversed(rows)]


def as_time(value: str | None) -> datetime | None:
    return as_utc(datetime.fromisoformat(value)) if value else None


def limit_report(
    engine: Engine, settings: LimitSettings, now: datetime | None = None, relay_caps: dict[str, int] | None = None
) -> LimitReport:
    """What `sendwell limit` shows: today's allowance, the breaker, the policy, the relays with a
    daily cap ({relay key: cap}) and the history."""
    from sendwell.db.engine import utcnow

    now = now or utcnow()
    with engine.begin() as conn:
        day, stats = today(conn, settings, now)
        spent = used(conn, settings, now)
        tripped = breaker(conn)
        past = history(conn)
        relayed = relays_today(conn, settings, now) if relay_caps else {}
    return LimitReport(
        relays=[
            RelayUsage(key, cap, relayed.get(key, 0), max(0, cap - relayed.get(key, 0)))
            for key, cap in (relay_caps or {}).items()
        ],
        today=LimitToday(
            day,
            stats.limit,
            spent,
            max(0, stats.limit - spent),
            stats.sent,
            stats.address_errors,
            round(stats.error_rate, 4),
        ),
        window="rolling 24 hours" if settings.window == "rolling" else f"calendar day in {settings.timezone}",
        next_reset=limit.next_day_start(now, settings).isoformat(),
        breaker=tripped,
        policy=(
            f"start {settings.start}, cap {settings.cap}; next day doubles when at least half was used with "
            f"under {settings.grow_below:.0%} address errors, halves above {settings.shrink_above:.0%}; "
            f"pause above {settings.pause_error_rate:.0%} errors over the last {settings.window_sends} "
            f"sends or {settings.pause_complaint_rate:.1%} complaints"
        ),
        history=past,
    )


def resume_breaker(engine: Engine, actor: str = "cli") -> bool:
    from sendwell.db.engine import utcnow

    with engine.begin() as conn:
        return reset(conn, utcnow(), actor)
