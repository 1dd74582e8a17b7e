"""Fixtures for the fault tests: a fault-injecting SMTP server, campaigns in the ledger, short timeouts."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import Engine, select

from sendwell.config import SendingSettings, Settings, SmtpSettings
from sendwell.db.schema import recipients

from .faultsmtp import FaultServer

FINAL_OR_WAITING = {"sent", "deferred", "error", "failed", "skipped"}
# The event loop each fault server's runs go on (fault_server below): a relay URL not listed runs on the default.
LOOPS: dict[str, str] = {}


def fault_settings(
    url: str,
    *,
    connections: int = 2,
    timeout: float = 1.0,
    retry_schedule: tuple[float, ...] = (0.2, 0.5, 1.0),
    horizon_hours: float = 72.0,
    batch_size: int = 50,
    lease_seconds: float = 30.0,
) -> Settings:
    """Short timeouts and a fast retry schedule, so every fault test is over in seconds."""
    s = Settings()
    return replace(
        s,
        smtp=replace(SmtpSettings(), urls=(url,), connections=connections, timeout=timeout, rest_seconds=0.2),
        sending=replace(
            SendingSettings(),
            event_loop=LOOPS.get(url, "auto"),
            retry_schedule=retry_schedule,
            retry_horizon_hours=horizon_hours,
            secret="fault-secret",
            batch_size=batch_size,
            lease_seconds=lease_seconds,
        ),
    )


def ledger(engine: Engine, cid: int) -> dict[str, tuple[str, str | None]]:
    """{email: (status, kind)} of the campaign's recipients."""
    with engine.connect() as conn:
        q = select(recipients.c.email, recipients.c.status, recipients.c.kind).where(recipients.c.campaign_id == cid)
        return {r.email: (r.status, r.kind) for r in conn.execute(q)}


def statuses(engine: Engine, cid: int) -> Counter:
    return Counter(status for status, _ in ledger(engine, cid).values())


@pytest.fixture(params=[(False, "asyncio"), (True, "auto")], ids=["one-by-one", "pipelining"])
def fault_server(request):
    """Every fault test runs against a server without PIPELINING and against one with it, where the engine
    writes the next message's MAIL/RCPT/DATA behind each body (sending/relay.py). The first runs the sender
    on asyncio's own loop, the second on the default (uvloop where installed: sending/eventloop.py), so every
    fault is met on both loops without running each test four times."""
    pipelining, loop = request.param
    with FaultServer(stall_seconds=5.0, pipelining=pipelining) as srv:
        LOOPS[srv.url] = loop
        try:
            yield srv
        finally:
            LOOPS.pop(srv.url, None)
