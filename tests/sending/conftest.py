"""Fixtures for the sending tests: campaigns with recipients in the ledger, settings pointed at a test server."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from sqlalchemy import Engine

from sendwell import campaigns
from sendwell.config import DkimSettings, LimitSettings, SendingSettings, Settings, SmtpSettings
from sendwell.db.engine import utcnow
from sendwell.db.schema import contacts

from .smtpd import ScriptedServer


def add_contacts(engine: Engine, addresses: list[str], fields: dict[str, dict] | None = None) -> None:
    now = utcnow()
    rows = [
        {
            "email": a,
            "display": a,
            "domain": a.rsplit("@", 1)[1],
            "fields": (fields or {}).get(a, {}),
            "created_at": now,
            "updated_at": now,
        }
        for a in addresses
    ]
    with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(contacts.insert(), rows[i : i + 5000])


def make_campaign(
    engine: Engine, addresses: list[str], *, name: str = "c1", fields: dict[str, dict] | None = None, start: bool = True
) -> int:
    """Contacts for `addresses`, a campaign to all contacts, started (recipients queued)."""
    add_contacts(engine, addresses, fields)
    cid = campaigns.create_campaign(
        engine,
        name=name,
        subject="Hello {{ first_name }}",
        from_addr="Shop <news@shop.example>",
        html="<p>Hi {{ first_name }}</p>",
        text="Hi {{ first_name }}",
    )
    if start:
        campaigns.start_campaign(engine, cid)
    return cid


def sender_settings(url: str | tuple[str, ...], **changes) -> Settings:
    urls = (url,) if isinstance(url, str) else url
    s = Settings()
    return replace(
        s,
        smtp=replace(
            SmtpSettings(),
            urls=urls,
            connections=changes.pop("connections", 2),
            timeout=changes.pop("timeout", 2.0),
            rest_seconds=0.5,
        ),
        sending=replace(
            SendingSettings(),
            retry_schedule=changes.pop("retry_schedule", (0.2, 0.5, 1.0)),
            secret="test-secret",
            batch_size=changes.pop("batch_size", 50),
            lease_seconds=changes.pop("lease_seconds", 30.0),
            retry_horizon_hours=changes.pop("retry_horizon_hours", 72.0),
            auto_blacklist_hard_errors=changes.pop("auto_blacklist", True),
        ),
        # The key directory a test put in SENDWELL_DKIM_DIR, as config.py would read it for a real run.
        dkim=DkimSettings(dir=changes.pop("dkim_dir", os.environ.get("SENDWELL_DKIM_DIR", "dkim"))),
        limit=replace(LimitSettings(), **changes),
    )


@pytest.fixture
def server():
    with ScriptedServer() as srv:
        yield srv
