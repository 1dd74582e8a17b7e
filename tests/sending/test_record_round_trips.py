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
def test_a_mixed_plain_group_keeps_every_value_and_counts_sent_and_address_errors(engine):
    """Sent, deferred and bounced rows in one statement (the VALUES list is typed by its first row, a sent one
    whose kind and retry time are NULL); nothing to count for a deferred-only group, and no usage row for it."""
    addrs = [f"m{i}@example.org" for i in range(5)]
    cid = started_campaign(engine, addrs)
    store = open_store(engine, sender_settings("smtp://127.0.0.1:1"))
    loop = asyncio.new_event_loop()
    try:
        jobs = loop.run_until_complete(claimed(store, cid, 5))
        only_deferred = traced(
            store, lambda: loop.run_until_complete(store.record([deferred(jobs[4])], utcnow(), None, owner="w2"))
        )
        assert sum("ReadyForQuery" in m for m in only_deferred) == 1, only_deferred
        assert counted(engine, "w2") == (0, 0)  # no row made for it
        loop.run_until_complete(store.record([sent(jobs[0])], utcnow(), None, owner="w2"))  # the long way: the row
        group = [sent(jobs[1]), deferred(jobs[2]), bounced(jobs[3])]
        plain = traced(store, lambda: loop.run_until_complete(store.record(group, utcnow(), None, owner="w2")))
        assert sum("ReadyForQuery" in m for m in plain) == 1, plain
    finally:
        store.close()
        loop.close()
    got = details(engine)
    assert got[addrs[1]] == ("sent", None, None, 250, "2.0.0", "250 2.0.0 Ok", 1)
    assert got[addrs[2]] == ("deferred", "recipient", "mailbox busy", 450, None, None, 1)
    assert got[addrs[3]] == ("error", "recipient", "no such user", 550, "5.1.1", "550 5.1.1 no", 1)
    assert got[addrs[4]][:3] == ("deferred", "recipient", "mailbox busy")
    assert counted(engine, "w2") == (2, 1)


@pg_only
def test_the_one_statement_after_its_connection_was_killed_runs_again_at_once(engine, db_url, caplog):
    """A restart kills the store's idle connection; the next plain group fails on it (psycopg's error, no
    transaction to roll back), is said as a lost connection and runs at once on a new one: written once."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    addrs = [f"k{i}@example.org" for i in range(3)]
    cid = started_campaign(engine, addrs)
    store = open_store(engine, sender_settings("smtp://127.0.0.1:1"))
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    loop = asyncio.new_event_loop()
    try:
        jobs = loop.run_until_complete(claimed(store, cid, 3))
        loop.run_until_complete(store.record([sent(jobs[0])], utcnow(), None, owner="w3"))
        before = loop.run_until_complete(store.db.run(lambda c: c.execute(text("SELECT pg_backend_pid()")).scalar()))
        with admin.connect() as c:
            assert c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": before}).scalar()
        with caplog.at_level("WARNING", logger="sendwell.sending"):
            loop.run_until_complete(store.record([sent(j) for j in jobs[1:]], utcnow(), None, owner="w3"))
        after = loop.run_until_complete(store.db.run(lambda c: c.execute(text("SELECT pg_backend_pid()")).scalar()))
    finally:
        store.close()
        loop.close()
        admin.dispose()
    assert after != before
    assert "connection lost" not in caplog.text
    assert {a: v[:2] for a, v in rows(engine).items()} == {a: ("sent", 1) for a in addrs}
    assert counted(engine, "w3") == (3, 0)


@pg_only
def test_a_bad_value_in_the_one_statement_is_a_store_error(engine):
    """An error that is not a lost connection (here a code longer than its column) stops the run as a database
    error, as on the long way; psycopg's own exception must not get past the store."""
    from sendwell.db.sendstore import StoreError

    cid = started_campaign(engine, ["b0@example.org", "b1@example.org"])
    store = open_store(engine, sender_settings("smtp://127.0.0.1:1"))
    loop = asyncio.new_event_loop()
    try:
        jobs = loop.run_until_complete(claimed(store, cid, 2))
        loop.run_until_complete(store.record([sent(jobs[0])], utcnow(), None, owner="w4"))
        odd = Outcome(
            jobs[1], Result(jobs[1].id, RecipientStatus.SENT, None, None, 250, "2.0.0." * 5, "250", sent=True)
        )
        with pytest.raises(StoreError, match="too long"):
            loop.run_until_complete(store.record([odd], utcnow(), None, owner="w4"))
    finally:
        store.close()
        loop.close()
    assert rows(engine)["b1@example.org"][:2] == ("queued", 0)
    assert counted(engine, "w4") == (1, 0)
