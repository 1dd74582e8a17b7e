"""Database faults while a campaign sends: SQLite shared with CLI processes, PostgreSQL connections killed.

The PostgreSQL tests never restart the shared server: they terminate the backends of this test
session's own database from a separate connection (pg_terminate_backend), which is what a server
restart or a network cut looks like to the sender.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.pool import NullPool

from sendwell.db.schema import blacklist, contacts
from sendwell.sending.engine import send

from .conftest import fault_settings, ledger, statuses
from .faultsmtp import FaultServer
from factories import started_campaign


def _cli(db_url: str, *args: str, cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDWELL_")}
    return subprocess.Popen(
        [sys.executable, "-m", "sendwell.cli", "--database", db_url, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _write_list(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _send_in_thread(engine, settings, cid: int, linger: float) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        try:
            out["report"] = send(engine, settings, [cid], linger=linger)
        except Exception as err:  # the test reports it
            out["raised"] = err

    thread = threading.Thread(target=run, name="sender")
    thread.start()
    return thread, out


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_sqlite_cli_imports_while_a_send_runs_never_lock_nor_lose(sqlite_engine, tmp_path):
    """`contacts import` and `blacklist import` in other processes, on the same SQLite file, during a send."""
    db_url = str(sqlite_engine.url)
    campaign = [f"c{i}@example.org" for i in range(400)]
    late_banned = campaign[-40:]  # blacklisted while the campaign runs
    new_contacts = [f"n{i}@example.com,Name {i}" for i in range(6000)]
    more_contacts = [f"m{i}@example.com,Other {i}" for i in range(3000)] + [campaign[0] + ",Changed"]
    banned = [f"b{i}@example.net" for i in range(3000)] + late_banned
    files = [
        _write_list(tmp_path / "c1.csv", "email,name", new_contacts),
        _write_list(tmp_path / "c2.csv", "email,name", more_contacts),
        _write_list(tmp_path / "b.csv", "email", banned),
    ]
    with FaultServer(latency=0.02) as srv:
        cid = started_campaign(sqlite_engine, campaign)
        # a long SMTP timeout: answers held while the imports finish must not time out (and be sent twice)
        thread, out = _send_in_thread(sqlite_engine, fault_settings(srv.url, timeout=120), cid, linger=5)
        _wait(lambda: sum(srv.counts().values()) >= 10)  # the sender is writing outcomes
        procs = [
            _cli(db_url, "contacts", "import", str(files[0]), cwd=tmp_path),
            _cli(db_url, "contacts", "import", str(files[1]), cwd=tmp_path),
            _cli(db_url, "blacklist", "import", str(files[2]), cwd=tmp_path),
        ]
        while any(p.poll() is None for p in procs):
            # keep the send going until every import is over, so they really overlap
            if sum(srv.counts().values()) >= len(campaign) - 60:
                srv.hold()
            time.sleep(0.05)
        assert thread.is_alive(), "the send must still be running when the imports end"
        srv.release()
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=60)
            assert proc.returncode == 0, stderr
            assert "locked" not in stderr.lower() and "busy" not in stderr.lower(), stderr
        thread.join(60)
        assert not thread.is_alive()

    assert "raised" not in out, out
    assert out["report"].stopped == "done", out["report"]
    got = ledger(sqlite_engine, cid)
    # every recipient accounted for; the late-blacklisted ones were sent before the ban or skipped
    assert {a for a, s in got.items() if s == ("sent", None)} | set(late_banned) == set(campaign)
    skipped = {a for a, s in got.items() if s == ("skipped", "blacklisted")}
    assert set(got.values()) <= {("sent", None), ("skipped", "blacklisted")}
    assert srv.counts() == {a: 1 for a in campaign if a not in skipped}
    # nothing the other processes wrote was lost
    assert _count(sqlite_engine, contacts) == len(campaign) + len(new_contacts) + len(more_contacts) - 1
    assert _count(sqlite_engine, blacklist) == len(banned)


# -- PostgreSQL -----------------------------------------------------------------------------------

pg_only = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def _admin(db_url: str):
    return create_engine(db_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _terminate_others(conn, database: str, spare: set[int]) -> int:
    """Kill every backend of the test database except ours and `spare`: what a server restart does to us."""
    pids = (
        conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": database}
        )
        .scalars()
        .all()
    )
    killed = 0
    for pid in pids:
        if pid not in spare:
            killed += bool(conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar())
    return killed


@pg_only
def test_postgres_connections_killed_between_transactions_sender_carries_on(engine, db_url):
    """The sender's pooled connection dies while it waits on SMTP: it reconnects and finishes."""
    addrs = [f"k{i}@example.org" for i in range(200)]
    database = engine.url.database
    with FaultServer(latency=0.005) as srv:
        cid = started_campaign(engine, addrs)
        thread, out = _send_in_thread(engine, fault_settings(srv.url, timeout=10), cid, linger=5)
        admin = _admin(db_url)
        try:
            for _ in range(3):  # three "restarts", each while both connections wait on the relay
                seen = sum(srv.counts().values())
                _wait(lambda seen=seen: sum(srv.counts().values()) >= seen + 20 or not thread.is_alive())
                srv.hold()
                _wait(lambda: srv.waiting >= 2 or not thread.is_alive())
                with admin.connect() as conn:
                    _terminate_others(conn, database, set())
                srv.release()
        finally:
            srv.release()
            admin.dispose()
        thread.join(60)

    assert "raised" not in out, out
    assert out["report"].stopped == "done", out["report"]
    assert statuses(engine, cid) == {"sent": len(addrs)}
    assert srv.counts() == {a: 1 for a in addrs}


@pg_only
def test_postgres_store_connection_killed_while_idle_next_call_runs_at_once(engine, db_url, caplog):
    """The store keeps one connection between its transactions; a restart kills it while idle. The next call
    runs on a new connection at once, no pause and no warning, as the pool's pre-ping did at each checkout."""
    import asyncio

    from sendwell.sending.sqlstore import open_store

    store = open_store(engine, fault_settings(""))
    admin = _admin(db_url)
    pid = text("SELECT pg_backend_pid()")

    async def calls() -> list[int]:
        backends = []
        for _ in range(3):
            backends.append(await store.db.run(lambda conn: conn.execute(pid).scalar()))
            assert await store.error_window() == []
            with admin.connect() as conn:
                assert _terminate_others(conn, engine.url.database, set()) >= 1
        backends.append(await store.db.run(lambda conn: conn.execute(pid).scalar()))
        return backends

    try:
        with caplog.at_level("WARNING", logger="sendwell.sending"):
            backends = asyncio.run(calls())
    finally:
        admin.dispose()
    assert len(set(backends)) == 4, backends  # a new backend after each kill, the same one between kills
    assert "connection lost" not in caplog.text


@pg_only
def test_postgres_store_connection_killed_while_idle_then_a_claim_runs_at_once(engine, db_url, caplog):
    """The same when the next call's first statement goes through the DB-API cursor (the claim, as the outcomes'
    record): psycopg's error is not SQLAlchemy's there, and the claim must still run at once on a new connection."""
    import asyncio

    from sendwell.db.engine import utcnow
    from sendwell.sending.sqlstore import open_store

    cid = started_campaign(engine, ["a@x.org", "b@x.org"])
    store = open_store(engine, fault_settings(""))
    admin = _admin(db_url)

    async def claim_after_kill() -> list[str]:
        assert await store.error_window() == []  # the store's connection is now kept
        with admin.connect() as conn:
            assert _terminate_others(conn, engine.url.database, set()) >= 1
        jobs, skipped = await store.claim([cid], "w1", 10, 30.0, utcnow())
        assert skipped == 0
        return sorted(j.email for j in jobs)

    try:
        with caplog.at_level("WARNING", logger="sendwell.sending"):
            assert asyncio.run(claim_after_kill()) == ["a@x.org", "b@x.org"]
    finally:
        store.close()
        admin.dispose()
    assert "connection lost" not in caplog.text


def _kill_inside_a_transaction(db_url: str, database: str, until) -> int:
    """Lock the ledger so the sender's next statement waits inside its transaction, then kill that backend."""
    admin = _admin(db_url)
    killed = 0
    try:
        with admin.connect() as locker, admin.connect() as killer:
            me = locker.execute(text("SELECT pg_backend_pid()")).scalar()
            locker.execute(text("BEGIN"))
            locker.execute(text("LOCK TABLE recipients IN ACCESS EXCLUSIVE MODE"))
            q = text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND wait_event_type = 'Lock' AND pid <> :me")
            _wait(lambda: killer.execute(q, {"d": database, "me": me}).first() is not None or until())
            for pid in killer.execute(q, {"d": database, "me": me}).scalars():
                killed += bool(killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar())
            locker.execute(text("ROLLBACK"))
    finally:
        admin.dispose()
    return killed


@pg_only
def test_postgres_connection_killed_inside_a_transaction_sender_reconnects_and_finishes(engine, db_url):
    """The backend is terminated while the sender's statement waits on it: the worse case of a restart."""
    addrs = [f"t{i}@example.org" for i in range(150)]
    with FaultServer(latency=0.005) as srv:
        cid = started_campaign(engine, addrs)
        thread, out = _send_in_thread(engine, fault_settings(srv.url, timeout=10), cid, linger=5)
        _wait(lambda: sum(srv.counts().values()) >= 30 or not thread.is_alive())
        assert _kill_inside_a_transaction(db_url, engine.url.database, lambda: not thread.is_alive()) == 1
        thread.join(60)

    assert "raised" not in out, out
    assert out["report"].stopped == "done", out["report"]
    assert statuses(engine, cid) == {"sent": len(addrs)}
    assert srv.counts() == {a: 1 for a in addrs}


@pg_only
def test_postgres_connection_killed_inside_a_transaction_next_send_finishes_nothing_lost(engine, db_url, clock):
    """Whatever the first sender does after losing its connection, the next run (a restarted worker, the
    operator sending again) finishes the campaign: nothing lost, at most the messages in flight repeated."""
    addrs = [f"t{i}@example.org" for i in range(150)]
    connections = 2
    with FaultServer(latency=0.005) as srv:
        settings = fault_settings(srv.url, timeout=10, connections=connections, lease_seconds=1.0)
        cid = started_campaign(engine, addrs)
        thread, out = _send_in_thread(engine, settings, cid, linger=5)
        _wait(lambda: sum(srv.counts().values()) >= 30 or not thread.is_alive())
        _kill_inside_a_transaction(db_url, engine.url.database, lambda: not thread.is_alive())
        thread.join(60)
        clock.advance(1.1)  # any lease the first sender could not give back has expired
        again = send(engine, settings, [cid], clock=clock, linger=5)
        counts = srv.counts()

    assert again.stopped == "done", again
    assert statuses(engine, cid) == {"sent": len(addrs)}
    assert set(counts) == set(addrs)
    assert sum(n - 1 for n in counts.values()) <= connections


def _refuse_connections(db_url: str, database: str, seconds: float) -> None:
    """The database refuses new connections and loses its current ones for `seconds`: a restart that takes time."""
    admin = _admin(make_url(db_url).set(database="postgres"))  # a database cannot lock itself out
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
            try:
                _terminate_others(conn, database, set())
                time.sleep(seconds)
            finally:
                conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
    finally:
        admin.dispose()


@pg_only
@pytest.mark.parametrize(
    "outage, reconnect, finished",
    [(2.0, 30.0, True), (3.0, 0.5, False)],
    ids=["outage-shorter-than-reconnect", "outage-longer-than-reconnect"],
)
def test_postgres_down_for_a_while_sender_waits_or_stops_cleanly(engine, db_url, outage, reconnect, finished, clock):
    """While the database refuses connections the sender waits up to `database.reconnect_seconds`: a shorter
    outage costs a pause; a longer one stops the run with a message (no traceback), and the next run finishes."""
    addrs = [f"d{i}@example.org" for i in range(150)]
    settings = fault_settings("", timeout=10, lease_seconds=1.0)
    settings = replace(settings, database=replace(settings.database, reconnect_seconds=reconnect))
    with FaultServer(latency=0.005) as srv:
        settings = replace(settings, smtp=replace(settings.smtp, urls=(srv.url,)))
        cid = started_campaign(engine, addrs)
        thread, out = _send_in_thread(engine, settings, cid, linger=5)
        _wait(lambda: sum(srv.counts().values()) >= 30 or not thread.is_alive())
        _refuse_connections(db_url, engine.url.database, outage)
        thread.join(60)
        assert "raised" not in out, out
        if finished:
            assert out["report"].stopped == "done", out["report"]
        else:
            assert out["report"].stopped == "error", out["report"]
            assert "database is unreachable" in out["report"].message
            clock.advance(1.1)  # the leases it could not give back expire
            assert send(engine, settings, [cid], clock=clock, linger=5).stopped == "done"
        counts = srv.counts()

    assert statuses(engine, cid) == {"sent": len(addrs)}
    assert set(counts) == set(addrs)
    assert sum(n - 1 for n in counts.values()) <= (0 if finished else settings.smtp.connections)


@pg_only
def test_a_stop_during_a_database_outage_ends_the_run_at_once(engine, db_url, clock):
    """SIGTERM (here: the same stop the signal handler makes) while the database is away must not wait
    for `reconnect_seconds`: the run ends within a few seconds and the next run finishes the campaign."""
    import asyncio

    from sendwell.sending.engine import Sender

    addrs = [f"s{i}@example.org" for i in range(150)]
    settings = fault_settings("", timeout=10, lease_seconds=1.0)
    with FaultServer(latency=0.005) as srv:
        settings = replace(
            settings,
            smtp=replace(settings.smtp, urls=(srv.url,)),
            database=replace(settings.database, reconnect_seconds=60),
        )
        cid = started_campaign(engine, addrs)
        sender, box = Sender(engine, settings, campaign_ids=[cid], linger=5), {}

        async def main():
            box["loop"] = asyncio.get_running_loop()
            return await sender.run_async()

        thread = threading.Thread(target=lambda: box.setdefault("report", asyncio.run(main())))
        thread.start()
        _wait(lambda: sum(srv.counts().values()) >= 30 or not thread.is_alive())
        outage = threading.Thread(target=_refuse_connections, args=(db_url, engine.url.database, 8.0))
        outage.start()
        time.sleep(1.0)  # the sender is retrying by now
        stopped_at = time.monotonic()
        box["loop"].call_soon_threadsafe(sender._finish, "interrupted", "stopped by SIGTERM")
        thread.join(30)
        took = time.monotonic() - stopped_at
        outage.join()
        assert not thread.is_alive() and took < 6.0, took
        assert box["report"].stopped == "interrupted"
        clock.advance(1.1)  # leases it could not give back expire
        assert send(engine, settings, [cid], clock=clock, linger=5).stopped == "done"
        counts = srv.counts()
    assert statuses(engine, cid) == {"sent": len(addrs)}
    assert set(counts) == set(addrs)
    assert sum(n - 1 for n in counts.values()) <= settings.smtp.connections


@pg_only
def test_a_relay_reservation_lost_with_its_connection_is_not_counted_twice(engine, monkeypatch):
    """The connection dies after the relay's block was reserved, before the commit: the transaction is rolled
    back and run again. Only the committed reservation may count, or the worker would send past the cap."""
    from sendwell.sending import usage

    real, kills = usage.reserve_relay, []

    def reserve_then_die(conn, *args):
        reserved = real(conn, *args)
        if not kills:  # the first time only: the backend is really terminated, before the commit
            kills.append(conn.execute(text("SELECT pg_backend_pid()")).scalar())
            conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return reserved

    monkeypatch.setattr(usage, "reserve_relay", reserve_then_die)
    addrs = [f"t{i}@example.org" for i in range(100)]
    with FaultServer() as srv:
        cid = started_campaign(engine, addrs)
        report = send(engine, fault_settings(srv.url + "?daily_limit=40"), [cid], linger=0)
        counts = srv.counts()

    assert kills, "the fault was injected"
    assert sum(counts.values()) == 40, report  # 72 when the rolled-back block stayed in the quota
    assert statuses(engine, cid) == {"sent": 40, "queued": 60}
