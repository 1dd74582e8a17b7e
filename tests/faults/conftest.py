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


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelining"])
def fault_server(request):
    """Every fault test runs against a server without PIPELINING and against one with it, where the engine
    writes the next message's MAIL/RCPT/DATA behind each body (sending/relay.py)."""
    with FaultServer(stall_seconds=5.0, pipelining=request.param) as srv:
        yield srv
