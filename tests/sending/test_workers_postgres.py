"""Several worker processes on one PostgreSQL database, each counting the day's usage in its own row (usage_shards)
and reserving its part of the daily limit in blocks: a SIGKILLed worker loses nobody, repeats at most the
messages it had on the wire, and together they never send past the daily limit."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from sendwell.config import LimitSettings
from sendwell.db.schema import recipients, usage_shards
from sendwell.sending import limit, usage

from .smtpd import Script, ScriptedServer
from .test_crash import CONNECTIONS, wait_for, worker
from factories import started_campaign

pg_only = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
DAILY_LIMIT = 1000
BATCH = 50  # what a worker claims (and reserves of the limit) at a time
# The killed worker's reservation (at most two blocks, the recipients it had leased included) is lost for the
# day by design; the survivors send all the rest.
FLOOR = DAILY_LIMIT - 2 * BATCH


@pg_only
def test_three_workers_one_killed_lose_nothing_and_never_pass_the_daily_limit(engine, db_url):
    addrs = [f"r{i}@x.org" for i in range(1600)]
    started_campaign(engine, addrs)
    env = {
        "SENDWELL_LIMIT_START": str(DAILY_LIMIT),
        "SENDWELL_LIMIT_CAP": str(DAILY_LIMIT),
        "SENDWELL_SENDING_BATCH_SIZE": str(BATCH),
    }
    with ScriptedServer(Script(delay=0.004)) as srv:  # slow enough to kill one worker mid-way
        workers = [worker(db_url, srv.url, env=env, until_done=False) for _ in range(3)]  # the service
        wait_for(lambda: len(srv.accepted) >= 250 or any(w.poll() is not None for w in workers), 120)
        killed = workers.pop(0)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        # The others go on, take the killed one's recipients over once its leases lapse (2 s) and wait at the
        # limit: first until they have sent all the killed one did not hold (a loaded machine may stall them a
        # few seconds), then watched until nothing went for 4 s.
        wait_for(lambda: recorded(engine, killed.pid) >= DAILY_LIMIT, 90)
        last = -1
        while (now := len(srv.accepted)) != last:
            last = now
            time.sleep(4)
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            _, err = w.communicate(timeout=60)
            assert w.returncode == 0 and "Traceback" not in err, err
        delivered = srv.counts()

    with engine.connect() as conn:
        rows = conn.execute(select(recipients.c.email, recipients.c.status, recipients.c.lease_owner)).all()
        day = limit.day_of(datetime.now(UTC), LimitSettings())
        shards = conn.execute(select(usage_shards).where(usage_shards.c.day == day)).all()
        today = usage.history(conn, 1)[0]
    status = {r.email: r.status for r in rows}
    sent = {a for a, s in status.items() if s == "sent"}
    assert Counter(status.values()).keys() <= {"sent", "queued"}, Counter(status.values())
    # nothing lost: every recipient recorded as sent was delivered; the rest wait, never dropped
    assert sent <= set(delivered), f"recorded sent, never delivered: {len(sent - set(delivered))}"
    unrecorded = set(delivered) - sent  # the killed worker's messages on the wire, not taken over yet
    repeats = {a: n for a, n in delivered.items() if n > 1}
    assert len(unrecorded) + len(repeats) <= CONNECTIONS and all(n == 2 for n in repeats.values()), (
        unrecorded,
        repeats,
    )
    # the daily limit: never passed, counting every delivery (repeats too) and every counted send
    assert sum(delivered.values()) <= DAILY_LIMIT, sum(delivered.values())
    assert today.sent == len(sent) <= DAILY_LIMIT, today
    # ... and it was reached, less exactly what the killed worker held reserved (at most two blocks)
    held = held_by(shards, killed.pid)
    assert held <= 2 * BATCH, shards
    assert len(sent) + held == DAILY_LIMIT, (len(sent), shards)
    assert sum(delivered.values()) >= FLOOR, sum(delivered.values())
    # each worker counted in its own row; the killed one's reservation stays (the day sends fewer, never more)
    assert len({s.owner for s in shards}) == 3, shards
    assert sum(s.sent for s in shards) == len(sent)
    assert all(r.lease_owner is None for r in rows if r.status == "sent")


def held_by(shards, pid: int) -> int:
    """What the worker of process `pid` (owner `host:pid:token`) reserved today and did not use."""
    return sum(s.granted - s.sent - s.address_errors for s in shards if s.owner.split(":")[-2] == str(pid))


def recorded(engine, killed_pid: int) -> int:
    """Messages counted today plus what the killed worker holds: the daily limit once the survivors are done."""
    with engine.connect() as conn:
        shards = conn.execute(select(usage_shards)).all()
    return sum(s.sent + s.address_errors for s in shards) + held_by(shards, killed_pid)
