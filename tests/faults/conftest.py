"""Fixtures for the fault tests: a fault-injecting SMTP server, campaigns in the ledger, short timeouts."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import Engine, select

from sendwell import campaigns
from sendwell.config import SendingSettings, Settings, SmtpSettings
from sendwell.db.engine import utcnow
from sendwell.db.schema import contacts, recipients

from .faultsmtp import FaultServer

FINAL_OR_WAITING = {"sent", "deferred", "error", "failed", "skipped"}


def add_contacts(engine: Engine, addresses: list[str]) -> None:
    now = utcnow()
    rows = [
        {
            "email": a,
            "display": a,
            "domain": a.rsplit("@", 1)[1],
            "fields": {"first_name": a.split("@")[0]},
            "created_at": now,
            "updated_at": now,
        }
        for a in addresses
    ]
    with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(contacts.insert(), rows[i : i + 5000])


def make_campaign(engine: Engine, addresses: list[str], *, name: str = "c1") -> int:
    """Contacts for `addresses` and a started campaign to all of them (one queued row each)."""
    add_contacts(engine, addresses)
    cid = campaigns.create_campaign(
        engine,
        name=name,
        subject="Hello {{ first_name }}",
        from_addr="Shop <news@shop.example>",
        html="<p>Hi {{ first_name }}</p>",
        text="Hi {{ first_name }}",
    )
    campaigns.start_campaign(engine, cid)
    return cid


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


@pytest.fixture
def fault_server():
    with FaultServer(stall_seconds=5.0) as srv:
        yield srv
