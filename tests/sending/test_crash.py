"""Crash safety with real worker processes: SIGKILL mid-campaign loses nobody and repeats at most the messages
on the wire; two workers sharing one database never send a message twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from sendwell.db.schema import recipients

from . import sink
from .smtpd import ScriptedServer
from factories import started_campaign


class Receiver:
    """smtp-sink when Postfix is installed (fast, C), else aiosmtpd; both log every delivery."""

    def __enter__(self):
        self.server = sink.Sink() if sink.available() else ScriptedServer()
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def delivered(self) -> int:
        return self.server.delivered() if isinstance(self.server, sink.Sink) else len(self.server.accepted)

    def counts(self):
        return self.server.counts()


CONNECTIONS = 4


def worker(
    db_url: str, smtp_url: str, *extra: str, until_done: bool = True, env: dict[str, str] | None = None
) -> subprocess.Popen:
    env = {
        **os.environ,
        "SENDWELL_DATABASE_URL": db_url,
        "SENDWELL_SMTP_URL": smtp_url,
        "SENDWELL_SMTP_CONNECTIONS": str(CONNECTIONS),
        "SENDWELL_SENDING_LEASE_SECONDS": "2",
        "SENDWELL_SENDING_SECRET": "k",
        "SENDWELL_SENDING_BATCH_SIZE": "100",
        "SENDWELL_LIMIT_START": "100000",
    } | (env or {})
    args = [sys.executable, "-m", "sendwell.cli", "worker", *(["--until-done"] if until_done else []), *extra]
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def statuses(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(recipients.c.status, func.count()).group_by(recipients.c.status)).all())


def test_sigkill_mid_campaign_loses_nothing_and_repeats_at_most_one_per_connection(engine, db_url):
    addrs = [f"r{i}@x.org" for i in range(5000)]
    started_campaign(engine, addrs)
    with Receiver() as srv:
        first = worker(db_url, srv.url)
        wait_for(lambda: srv.delivered() >= 1500 or first.poll() is not None, 120)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = srv.delivered()
        assert killed_at < 5000, "the worker finished before it could be killed"
        second = worker(db_url, srv.url)
        _, err = second.communicate(timeout=180)
        assert second.returncode == 0, err
        counts = srv.counts()
    assert set(counts) == set(addrs), f"lost: {len(set(addrs) - set(counts))}"
    repeats = {a: n for a, n in counts.items() if n > 1}
    assert all(n == 2 for n in repeats.values()) and len(repeats) <= CONNECTIONS, repeats
    assert statuses(engine) == {"sent": 5000}


def test_two_workers_on_one_database_never_send_twice(engine, db_url):
    addrs = [f"r{i}@x.org" for i in range(1500)]
    started_campaign(engine, addrs)
    with Receiver() as srv:
        workers = [worker(db_url, srv.url) for _ in range(2)]
        for w in workers:
            _, err = w.communicate(timeout=180)
            assert w.returncode == 0, err
        counts = srv.counts()
    assert counts == dict.fromkeys(addrs, 1)
    assert statuses(engine) == {"sent": 1500}


def test_sigterm_stops_a_worker_cleanly_and_releases_its_leases(engine, db_url):
    from .smtpd import Script

    started_campaign(engine, [f"r{i}@x.org" for i in range(300)])
    with ScriptedServer(Script(delay=0.02)) as srv:
        proc = worker(db_url, srv.url, until_done=False)  # the service: runs until stopped
        wait_for(lambda: len(srv.accepted) >= 20, 60)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        delivered = srv.counts()
    with engine.connect() as conn:
        rows = conn.execute(select(recipients.c.email, recipients.c.status, recipients.c.lease_owner)).all()
    assert all(r.lease_owner is None for r in rows)
    assert {r.email for r in rows if r.status == "sent"} == set(delivered)
    assert {r.status for r in rows} == {"sent", "queued"}
