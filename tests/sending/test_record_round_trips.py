"""Recording a group of outcomes: the same rows and counts whichever way the store writes them, and on PostgreSQL
plain outcomes in one round trip (one statement in autocommit, no BEGIN/COMMIT), the connection transactional again
after it. Round trips are counted in libpq's own protocol trace of the store's connection."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
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


@pg_only
def test_plain_outcomes_take_one_round_trip_on_postgres(engine):
    addrs = [f"p{i}@example.org" for i in range(8)]
    cid = started_campaign(engine, addrs)
    store = open_store(engine, sender_settings("smtp://127.0.0.1:1"))
    loop = asyncio.new_event_loop()
    try:
        jobs = loop.run_until_complete(claimed(store, cid, 8))
        loop.run_until_complete(store.record([sent(jobs[0])], utcnow(), None, owner="w1"))  # makes w1's usage row
        plain = traced(
            store,
            lambda: loop.run_until_complete(store.record([sent(j) for j in jobs[1:6]], utcnow(), None, owner="w1")),
        )
        assert sum("ReadyForQuery" in m for m in plain) == 1, plain
        assert not any('Query\t "BEGIN"' in m or '"COMMIT"' in m for m in plain), plain
        # a server problem is more than rows: the long transaction, BEGIN to COMMIT
        trouble = Outcome(
            jobs[6],
            Result(jobs[6].id, RecipientStatus.DEFERRED, FailureKind.SERVER, "421", 421, next_attempt_at=utcnow()),
        )
        long = traced(
            store, lambda: loop.run_until_complete(store.record([trouble], utcnow(), "relay down", owner="w1"))
        )
        assert any('"BEGIN"' in m for m in long) and any('"COMMIT"' in m for m in long), long

        # the connection is transactional again after the one statement: a failing transaction leaves nothing
        def half(conn) -> None:
            conn.execute(text("UPDATE recipients SET status = 'failed' WHERE email = :e"), {"e": addrs[7]})
            conn.execute(text("SELECT 1/0"))

        loop.run_until_complete(store.record([sent(jobs[7])], utcnow(), None, owner="w1"))
        with pytest.raises(Exception, match="division by zero"):
            loop.run_until_complete(store.db.run(half))
        assert (
            loop.run_until_complete(store.db.run(lambda c: c.execute(text("SHOW synchronous_commit")).scalar())) == "on"
        )
    finally:
        store.close()
        loop.close()
    assert rows(engine)[addrs[7]][:2] == ("sent", 1)
    assert counted(engine, "w1") == (7, 0)
