"""The per-recipient ledger: claim due rows with a lease, record each outcome, release what was not sent;
and `Leases`, a worker's own book of the leases it holds.

A claim sets `lease_owner`/`lease_until` on a batch in one statement (PostgreSQL: `FOR UPDATE SKIP
LOCKED`, so workers never wait on each other; SQLite: the write lock of BEGIN IMMEDIATE). A worker
that dies leaves its lease to expire, and the rows become claimable again: nothing is lost, and the
only repeats are the messages that were on the wire when it died, because every outcome is committed
before the connection that produced it sends its next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, update

from sendwell.db.engine import as_utc
from sendwell.db.schema import Stamp, campaigns, recipients
from sendwell.model import CampaignState, FailureKind, RecipientStatus

R = recipients
OPEN = (RecipientStatus.QUEUED.value, RecipientStatus.DEFERRED.value)


@dataclass(slots=True)
class Job:
    """A claimed recipient, with what the message needs."""

    id: int
    campaign_id: int
    email: str
    display: str
    attempts: int
    queued_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Result:
    """What to write back for one job."""

    id: int
    status: RecipientStatus
    kind: FailureKind | None
    reason: str | None
    smtp_code: int | None = None
    enhanced_code: str | None = None
    smtp_answer: str | None = None
    message_id: str | None = None
    next_attempt_at: datetime | None = None
    sent: bool = False


class Leases:
    """The recipients this worker holds, and until when its lease on each runs (the ledger has the same).
    A renewal keeps at least two thirds of a lease ahead, so a lease found nearly out means the database
    was away: another worker may have taken the recipient over, and sending it now could mail it twice."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until: dict[int, datetime | None] = {}  # None: the lease was lost (not renewed)

    def __len__(self) -> int:
        return len(self.until)

    def ids(self) -> list[int]:
        return list(self.until)

    def take(self, ids: Iterable[int], now: datetime) -> None:
        until = now + timedelta(seconds=self.seconds)
        self.until.update((rid, until) for rid in ids)

    def renewed(self, ids: Iterable[int], kept: set[int], until: datetime) -> None:
        """Of `ids` asked to run until `until`, `kept` still are ours; the others are another worker's now."""
        for rid in ids:
            if rid in self.until:
                self.until[rid] = until if rid in kept else None

    def lapsing(self, rid: int, now: datetime) -> bool:
        until = self.until.get(rid)
        return until is None or now >= until - timedelta(seconds=self.seconds / 3)

    def let_go(self, rid: int) -> None:
        """The recipient is no longer in this worker's hands (recorded, given back, or taken over)."""
        self.until.pop(rid, None)

    def clear(self) -> None:
        self.until.clear()

    async def keep(
        self,
        renew: Callable[[list[int], datetime], Awaitable[set[int]]],
        clock: Callable[[], datetime],
        away: tuple[type[Exception], ...],
    ) -> None:
        """Renew the leases held every third of a lease, until cancelled; `renew(ids, until)` returns the
        ids still ours. While it raises `away` (the database is unreachable), the leases run down."""
        while True:
            await asyncio.sleep(max(0.2, self.seconds / 3))
            if self.until:
                until, held = clock() + timedelta(seconds=self.seconds), self.ids()
                with contextlib.suppress(*away):
                    self.renewed(held, await renew(held, until), until)


# Due retries first, then fresh rows: each one range of ix_recipients_claim (campaign, status, next_attempt_at),
# read in index order (without the ORDER BY, PostgreSQL seq-scans past every row already sent: 100 ms a claim at
# 250,000 sent rows). The RETURNING brings the queue time too (NULL: queued when the campaign started,
# audience.resolve). Plain DB-API SQL: SQLAlchemy's statement and row handling cost more than SQLite did.
_CLAIM = (
    "UPDATE recipients SET lease_owner = {m}, lease_until = {m} WHERE id IN ("
    "SELECT id FROM recipients WHERE campaign_id = {m} AND status = {m} AND {due} "
    "AND (lease_until IS NULL OR lease_until < {m}) ORDER BY campaign_id, status, next_attempt_at LIMIT {m}{lock}) "
    "RETURNING id, campaign_id, email, COALESCE(display, email), attempts, "
    "COALESCE(queued_at, (SELECT started_at FROM campaigns WHERE campaigns.id = recipients.campaign_id))"
)
# The contacts' fields and the black list, for the claimed addresses in one statement (SQLite plans a correlated
# subquery in RETURNING as a scan of the other table, so they are not in the RETURNING).
_LOOKUP = (
    "WITH e (email) AS ({values}) SELECT e.email, c.fields, b.email IS NOT NULL FROM e "
    "LEFT JOIN contacts c ON c.email = e.email LEFT JOIN blacklist b ON b.email = e.email"
)
_DUE = {
    RecipientStatus.DEFERRED.value: "next_attempt_at <= {m}",
    RecipientStatus.QUEUED.value: "(next_attempt_at IS NULL OR next_attempt_at <= {m})",
}


def claim(
    conn: Connection, *, campaign_id: int, owner: str, limit: int, lease_seconds: float, now: datetime
) -> tuple[list[Job], int]:
    """Lease up to `limit` due recipients of one campaign; blacklisted ones are marked skipped on the way.

    Returns (jobs to send, how many were skipped as blacklisted).
    """
    dialect = conn.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    lock = " FOR UPDATE SKIP LOCKED" if dialect.name == "postgresql" else ""
    impl = Stamp.dialect_impl(dialect)
    stamp = impl.bind_processor(dialect) or (lambda v: v)
    parse = impl.result_processor(dialect, None) or (lambda v: v)
    at, until = stamp(now), stamp(now + timedelta(seconds=lease_seconds))
    rows: list[tuple] = []
    found: dict[str, tuple[Any, bool]] = {}
    cursor = conn.connection.cursor()
    try:
        for status, due in _DUE.items():
            if len(rows) >= limit:
                break
            sql = _CLAIM.format(m=mark, due=due.format(m=mark), lock=lock)
            cursor.execute(sql, (owner, until, campaign_id, status, at, at, limit - len(rows)))
            rows += cursor.fetchall()
        emails = list({row[2] for row in rows})
        for i in range(0, len(emails), 500):
            chunk = emails[i : i + 500]
            cursor.execute(_LOOKUP.format(values=_values(dialect.name, mark, len(chunk))), chunk)
            found.update((email, (fields, listed)) for email, fields, listed in cursor.fetchall())
    finally:
        cursor.close()
    if not rows:
        return [], 0
    banned = {row[0] for row in rows if found[row[2]][1]}
    if banned:
        _skip(conn, banned, now)
    start = as_utc(now)  # `now` only if the campaign's start was never written
    # The rows queued when their campaign started share its start time: each distinct time parsed once.
    times: dict[Any, datetime] = {}
    # rows unpacked as tuples (the RETURNING order above)
    jobs = []
    for rid, cid, email, display, attempts, queued in rows:
        fields, listed = found[email]
        if not listed:
            fields = json.loads(fields) if isinstance(fields, (str, bytes)) else fields
            if (queued_at := times.get(queued)) is None:
                queued_at = times[queued] = (as_utc(parse(queued)) if queued else None) or start
            jobs.append(Job(rid, cid, email, display, attempts, queued_at, fields or {}))
    return jobs, len(banned)


def _values(dialect: str, mark: str, n: int) -> str:
    """A VALUES list of `n` one-column rows (PostgreSQL: typed, so an empty-looking parameter joins as text)."""
    one = f"({mark}::text)" if dialect == "postgresql" else f"({mark})"
    return "VALUES " + ", ".join([one] * n)


def _skip(conn: Connection, ids: set[int], now: datetime) -> None:
    conn.execute(
        update(R)
        .where(R.c.id.in_(ids))
        .values(
            status=RecipientStatus.SKIPPED.value,
            kind=FailureKind.BLACKLISTED.value,
            reason="on the black list",
            lease_owner=None,
            lease_until=None,
            updated_at=now,
        )
    )


_RECORD = (
    "UPDATE recipients SET status = {m}, kind = {m}, reason = {m}, attempts = attempts + 1, smtp_code = {m}, "
    "enhanced_code = {m}, smtp_answer = {m}, message_id = {m}, next_attempt_at = {m}, "
    "sent_at = COALESCE({m}, sent_at), updated_at = {m}, lease_owner = NULL, lease_until = NULL WHERE id = {m}"
)
# PostgreSQL: all outcomes in one statement, the rows joined from a VALUES list (typed by its first row). An
# executemany runs the statement once per row, and each run cost the server more than the row's update did.
_RECORD_ROWS = (
    "UPDATE recipients AS r SET status = v.status, kind = v.kind, reason = v.reason, attempts = r.attempts + 1, "
    "smtp_code = v.smtp_code, enhanced_code = v.enhanced_code, smtp_answer = v.smtp_answer, "
    "message_id = v.message_id, next_attempt_at = v.next_attempt_at, sent_at = COALESCE(v.sent_at, r.sent_at), "
    "updated_at = v.updated_at, lease_owner = NULL, lease_until = NULL "
    "FROM (VALUES {rows}) AS v (status, kind, reason, smtp_code, enhanced_code, smtp_answer, message_id, "
    "next_attempt_at, sent_at, updated_at, id){join} WHERE r.id = v.id"
)
_TYPED_ROW = (
    "(%s::text, %s::text, %s::text, %s::int, %s::text, %s::text, %s::text, "
    "%s::timestamptz, %s::timestamptz, %s::timestamptz, %s::bigint)"
)
_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
# The commit of the one-statement record need not wait for the WAL flush (as sendstore_postgres.recording says);
# set_config(..., true) is the statement's own SET LOCAL.
_QUICK = ", (SELECT set_config('synchronous_commit', 'off', true)) AS quick"


def _outcome_rows(conn: Connection, results: Iterable[Result], now: datetime) -> list[tuple[Any, ...]]:
    dialect = conn.dialect
    stamp = Stamp.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
    at = stamp(now)
    return [
        (
            r.status.value,
            r.kind.value if r.kind else None,
            (r.reason or "")[:64] or None,
            r.smtp_code,
            r.enhanced_code,
            r.smtp_answer,
            r.message_id,
            stamp(r.next_attempt_at) if r.next_attempt_at else None,
            at if r.sent else None,
            at,
            r.id,
        )
        for r in results
    ]


def _rows_statement(rows: Sequence[tuple[Any, ...]], join: str = "") -> tuple[str, list[Any]]:
    sql = _RECORD_ROWS.format(rows=", ".join([_TYPED_ROW] + [_ROW] * (len(rows) - 1)), join=join)
    return sql, [value for row in rows for value in row]


def record(conn: Connection, results: Iterable[Result], now: datetime) -> None:
    """Write outcomes and drop their leases: one statement on PostgreSQL, one executemany on SQLite.

    Plain DB-API SQL on the transaction's own DB-API cursor: this runs for every message, and SQLAlchemy's
    statement handling (exec_driver_sql included) cost more than the database itself did.
    """
    rows = _outcome_rows(conn, results, now)
    if not rows:
        return
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(*_rows_statement(rows))
        else:
            cursor.executemany(_RECORD.format(m="?"), rows)
    finally:
        cursor.close()


def record_counted(
    conn: Connection, results: Sequence[Result], now: datetime, count: tuple[str, Sequence[Any]] | None
) -> bool:
    """PostgreSQL: `record` and `count` (an UPDATE of one usage row; None: nothing to count) as one statement, run
    as its own transaction (SqlTransactions.run(alone=True)): one round trip for a group of outcomes, where BEGIN,
    the statements and COMMIT took five. The outcomes are joined to the counted row, so when `count` finds no
    row (a new day) nothing is written and False is returned."""
    rows = _outcome_rows(conn, results, now)
    if not rows:
        return True
    cursor = conn.connection.cursor()
    try:
        if count is None:
            cursor.execute(*_rows_statement(rows, join=_QUICK))
            return True
        sql, params = _rows_statement(rows, join=", counted" + _QUICK)
        counting, counting_params = count
        cursor.execute(
            f"WITH counted AS ({counting} RETURNING 1), recorded AS ({sql}) SELECT count(*) FROM counted",
            [*counting_params, *params],
        )
        row = cursor.fetchone()
    finally:
        cursor.close()
    return bool(row and row[0])


def release(conn: Connection, ids: Iterable[int], owner: str) -> None:
    """Give back `owner`'s leases of rows claimed but not sent (pause, shutdown, back-off); a lease that
    lapsed and was taken over is the new owner's."""
    ids = list(ids)
    for i in range(0, len(ids), 500):
        conn.execute(
            update(R)
            .where(R.c.id.in_(ids[i : i + 500]), R.c.lease_owner == owner, R.c.status.in_(OPEN))
            .values(lease_owner=None, lease_until=None)
        )


def renew(conn: Connection, ids: Iterable[int], owner: str, until: datetime) -> set[int]:
    """Extend `owner`'s leases on `ids`; returns the ids it still holds (a lease that lapsed may have
    been taken over by another worker, whose message it now is)."""
    ids, kept = list(ids), set[int]()
    for i in range(0, len(ids), 500):
        kept.update(
            conn.execute(
                update(R)
                .where(R.c.id.in_(ids[i : i + 500]), R.c.lease_owner == owner, R.c.status.in_(OPEN))
                .values(lease_until=until)
                .returning(R.c.id)
            ).scalars()
        )
    return kept


def open_count(conn: Connection, campaign_id: int, *, due_before: datetime | None = None) -> int:
    """Recipients not yet final; with `due_before`, only those whose next try comes before it."""
    from sqlalchemy import func

    q = select(func.count()).select_from(R).where(R.c.campaign_id == campaign_id, R.c.status.in_(OPEN))
    if due_before is not None:
        q = q.where(or_(R.c.next_attempt_at.is_(None), R.c.next_attempt_at <= due_before))
    return conn.execute(q).scalar_one()


def next_due(conn: Connection, campaign_id: int) -> datetime | None:
    """When the earliest deferred recipient of the campaign is due."""
    from sqlalchemy import func

    value = conn.execute(
        select(func.min(R.c.next_attempt_at)).where(
            R.c.campaign_id == campaign_id, R.c.status == RecipientStatus.DEFERRED.value
        )
    ).scalar()
    return as_utc(value)


def finish_if_done(conn: Connection, campaign_id: int, now: datetime) -> bool:
    """Mark a sending campaign done when no recipient is left open."""
    if open_count(conn, campaign_id):
        return False
    return (
        conn.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign_id, campaigns.c.state == CampaignState.SENDING.value)
            .values(state=CampaignState.FINISHED.value, finished_at=now)
        ).rowcount
        > 0
    )


# Built once (the sender's check runs one before each claim): building it cost more than running it.
_STATES = select(campaigns.c.id, campaigns.c.state)
_STATES_OF = _STATES.where(campaigns.c.id.in_(bindparam("ids", expanding=True)))
_STATES_SENDING = _STATES.where(campaigns.c.state == CampaignState.SENDING.value)


def sending_campaigns(conn: Connection, only: Sequence[int] | None = None) -> dict[int, str]:
    """{campaign id: state} of the campaigns to look at (all sending ones, or the given ids)."""
    rows = conn.execute(_STATES_OF, {"ids": list(only)}) if only else conn.execute(_STATES_SENDING)
    return {r.id: r.state for r in rows}
