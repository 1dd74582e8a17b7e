"""Recording a group of outcomes: the same rows and counts whichever way the store writes them, and on PostgreSQL
plain outcomes in one round trip (one statement in autocommit, no BEGIN/COMMIT), the connection transactional again
after it. Round trips are counted in libpq's own protocol trace of the store's connection."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from sendwell.db.engine import utcnow
from sendwell.db.schema import recipients, usage_shards
from sendwell.model import FailureKind, RecipientStatus
from sendwell.sending.queue import Job, Result
from sendwell.sending.sqlstore import SqlSendStore, open_store
from sendwell.sending.store import Outcome

from .conftest import sender_settings
from factories import started_campaign

pg_only = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def sent(job: Job) -> Outcome:
    return Outcome(
        job,
        Result(
            job.id, RecipientStatus.SENT, None, None, 250, "2.0.0", "250 2.0.0 Ok", f"<{job.id}@t.example>", sent=True
        ),
    )


def deferred(job: Job) -> Outcome:
    later = utcnow() + timedelta(minutes=5)
    return Outcome(
        job, Result(job.id, RecipientStatus.DEFERRED, FailureKind.RECIPIENT, "mailbox busy", 450, next_attempt_at=later)
    )


def rows(engine) -> dict[str, tuple[Any, ...]]:
    r = recipients.c
    q = select(
        r.email,
        r.status,
        r.attempts,
        r.message_id,
        r.sent_at.is_not(None),
        r.next_attempt_at.is_not(None),
        r.lease_owner,
    )
    with engine.connect() as conn:
        return {row[0]: tuple(row[1:]) for row in conn.execute(q)}


def counted(engine, owner: str) -> tuple[int, int]:
    with engine.connect() as conn:
        got = conn.execute(
            select(usage_shards.c.sent, usage_shards.c.address_errors).where(usage_shards.c.owner == owner)
        ).all()
    return (sum(s for s, _ in got), sum(e for _, e in got))


def traced(store: SqlSendStore, call: Callable[[], Any]) -> list[str]:
    """The protocol messages of `call` on the store's kept PostgreSQL connection (libpq's PQtrace)."""
    conn, _ = store.db._connection()
    pgconn = conn.connection.driver_connection.pgconn  # type: ignore[union-attr]
    with tempfile.TemporaryFile() as f:
        pgconn.trace(f.fileno())
        try:
            call()
        finally:
            pgconn.untrace()
        f.seek(0)
        return f.read().decode().splitlines()


async def claimed(store: SqlSendStore, cid: int, n: int) -> list[Job]:
    jobs, skipped = await store.claim([cid], "w1", n, 30.0, utcnow())
    assert skipped == 0
    return sorted(jobs, key=lambda j: j.email)


def test_outcomes_written_alike_on_the_long_and_the_short_way(engine):
    """The first group finds no usage row for the worker (the long transaction makes it); later ones are plain
    (on PostgreSQL the one statement). Each row is written once, the counts are exact."""
    addrs = [f"r{i}@example.org" for i in range(6)]
    cid = started_campaign(engine, addrs)
    store = open_store(engine, sender_settings("smtp://127.0.0.1:1"))

    async def go() -> None:
        jobs = await claimed(store, cid, 6)
        await store.record([sent(j) for j in jobs[:2]], utcnow(), None, owner="w1")
        await store.record([sent(j) for j in jobs[2:5]], utcnow(), None, owner="w1")
        await store.record([deferred(jobs[5])], utcnow(), None, owner="w1")

    try:
        asyncio.run(go())
    finally:
        store.close()
    got = rows(engine)
    for a in addrs[:5]:
        assert got[a][:2] == ("sent", 1), got[a]  # once, not twice
        assert got[a][2].startswith("<") and got[a][3] is True and got[a][5] is None
    assert got[addrs[5]] == ("deferred", 1, None, False, True, None)
    assert counted(engine, "w1") == (5, 0)


class Steps:
    """The store on the test database, driven a call at a time on a loop of its own."""

    def __init__(self, engine) -> None:
        self.store = open_store(engine, sender_settings("smtp://127.0.0.1:1"))
        self.loop = asyncio.new_event_loop()

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def claim(self, cid: int, n: int) -> list[Job]:
        return self.run(claimed(self.store, cid, n))

    def record(self, outcomes: list[Outcome], owner: str, problem: str | None = None) -> None:
        self.run(self.store.record(outcomes, utcnow(), problem, owner=owner))

    def traced(self, outcomes: list[Outcome], owner: str, problem: str | None = None) -> list[str]:
        """The protocol messages of recording `outcomes`."""
        return traced(self.store, lambda: self.record(outcomes, owner, problem))

    def backend(self) -> int:
        return self.run(self.store.db.run(lambda c: c.execute(text("SELECT pg_backend_pid()")).scalar()))


@pytest.fixture
def steps(engine) -> Iterator[Steps]:
    s = Steps(engine)
    yield s
    s.store.close()
    s.loop.close()


@pg_only
def test_plain_outcomes_take_one_round_trip_on_postgres(engine, steps):
    addrs = [f"p{i}@example.org" for i in range(8)]
    jobs = steps.claim(started_campaign(engine, addrs), 8)
    steps.record([sent(jobs[0])], "w1")  # makes w1's usage row
    plain = steps.traced([sent(j) for j in jobs[1:6]], "w1")
    assert sum("ReadyForQuery" in m for m in plain) == 1, plain
    assert not any('Query\t "BEGIN"' in m or '"COMMIT"' in m for m in plain), plain
    # a server problem is more than rows: the long transaction, BEGIN to COMMIT
    trouble = Outcome(
        jobs[6], Result(jobs[6].id, RecipientStatus.DEFERRED, FailureKind.SERVER, "421", 421, next_attempt_at=utcnow())
    )
    long = steps.traced([trouble], "w1", "relay down")
    assert any('"BEGIN"' in m for m in long) and any('"COMMIT"' in m for m in long), long

    # the connection is transactional again after the one statement: a failing transaction leaves nothing
    def half(conn) -> None:
        conn.execute(text("UPDATE recipients SET status = 'failed' WHERE email = :e"), {"e": addrs[7]})
        conn.execute(text("SELECT 1/0"))

    steps.record([sent(jobs[7])], "w1")
    with pytest.raises(Exception, match="division by zero"):
        steps.run(steps.store.db.run(half))
    assert steps.run(steps.store.db.run(lambda c: c.execute(text("SHOW synchronous_commit")).scalar())) == "on"
    assert rows(engine)[addrs[7]][:2] == ("sent", 1)
    assert counted(engine, "w1") == (7, 0)


def bounced(job: Job) -> Outcome:
    """An address error without a refusal to keep as an event (what a plain group may hold)."""
    return Outcome(
        job, Result(job.id, RecipientStatus.ERROR, FailureKind.RECIPIENT, "no such user", 550, "5.1.1", "550 5.1.1 no")
    )


def details(engine) -> dict[str, tuple[Any, ...]]:
    r = recipients.c
    q = select(r.email, r.status, r.kind, r.reason, r.smtp_code, r.enhanced_code, r.smtp_answer, r.attempts)
    with engine.connect() as conn:
        return {row[0]: tuple(row[1:]) for row in conn.execute(q)}


@pg_only
def test_a_mixed_plain_group_keeps_every_value_and_counts_sent_and_address_errors(engine, steps):
    """Sent, deferred and bounced rows in one statement (the VALUES list is typed by its first row, a sent one
    whose kind and retry time are NULL); nothing to count for a deferred-only group, and no usage row for it."""
    addrs = [f"m{i}@example.org" for i in range(5)]
    jobs = steps.claim(started_campaign(engine, addrs), 5)
    only_deferred = steps.traced([deferred(jobs[4])], "w2")
    assert sum("ReadyForQuery" in m for m in only_deferred) == 1, only_deferred
    assert counted(engine, "w2") == (0, 0)  # no row made for it
    steps.record([sent(jobs[0])], "w2")  # the long way: the row
    plain = steps.traced([sent(jobs[1]), deferred(jobs[2]), bounced(jobs[3])], "w2")
    assert sum("ReadyForQuery" in m for m in plain) == 1, plain
    got = details(engine)
    assert got[addrs[1]] == ("sent", None, None, 250, "2.0.0", "250 2.0.0 Ok", 1)
    assert got[addrs[2]] == ("deferred", "recipient", "mailbox busy", 450, None, None, 1)
    assert got[addrs[3]] == ("error", "recipient", "no such user", 550, "5.1.1", "550 5.1.1 no", 1)
    assert got[addrs[4]][:3] == ("deferred", "recipient", "mailbox busy")
    assert counted(engine, "w2") == (2, 1)


@pg_only
def test_the_one_statement_after_its_connection_was_killed_runs_again_at_once(engine, db_url, steps, caplog):
    """A restart kills the store's idle connection; the next plain group fails on it (psycopg's error, no
    transaction to roll back), is said as a lost connection and runs at once on a new one: written once."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    addrs = [f"k{i}@example.org" for i in range(3)]
    jobs = steps.claim(started_campaign(engine, addrs), 3)
    steps.record([sent(jobs[0])], "w3")
    before = steps.backend()
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as c:
            assert c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": before}).scalar()
    finally:
        admin.dispose()
    with caplog.at_level("WARNING", logger="sendwell.sending"):
        steps.record([sent(j) for j in jobs[1:]], "w3")
    assert steps.backend() != before
    assert "connection lost" not in caplog.text
    assert {a: v[:2] for a, v in rows(engine).items()} == {a: ("sent", 1) for a in addrs}
    assert counted(engine, "w3") == (3, 0)


@pg_only
def test_a_bad_value_in_the_one_statement_is_a_store_error(engine, steps):
    """An error that is not a lost connection (here a code longer than its column) stops the run as a database
    error, as on the long way; psycopg's own exception must not get past the store."""
    from sendwell.db.sendstore import StoreError

    jobs = steps.claim(started_campaign(engine, ["b0@example.org", "b1@example.org"]), 2)
    steps.record([sent(jobs[0])], "w4")
    odd = Outcome(jobs[1], Result(jobs[1].id, RecipientStatus.SENT, None, None, 250, "2.0.0." * 5, "250", sent=True))
    with pytest.raises(StoreError, match="too long"):
        steps.record([odd], "w4")
    assert rows(engine)["b1@example.org"][:2] == ("queued", 0)
    assert counted(engine, "w4") == (1, 0)
