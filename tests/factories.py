"""Campaigns in a known state for tests, made through the services: one place instead of a copy per directory.

Import as `from factories import sent_campaign, started_campaign` (tests/ is on sys.path through its conftest.py).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select, update

from sendwell import campaigns, segments
from sendwell.db.engine import utcnow
from sendwell.db.schema import contacts, recipients


def add_contacts(engine: Engine, addresses: list[str], fields: dict[str, dict] | None = None) -> None:
    """Contact rows for `addresses` written straight to the table (fast for 100k); `fields` by address."""
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


def started_campaign(
    engine: Engine, addresses: list[str], *, name: str = "c1", fields: dict[str, dict] | None = None, start: bool = True
) -> int:
    """Contacts for `addresses` and a campaign to all contacts (a template using first_name), started unless
    `start` is False: one queued ledger row each, ready for the engine."""
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


def sent_campaign(
    engine: Engine,
    addresses: list[str],
    *,
    name: str = "c",
    from_addr: str = "me@example.com",
    message_ids: dict[str, str] | None = None,
) -> tuple[int, dict[str, int]]:
    """A campaign to segment "s" of `addresses`, all recipients sent five minutes ago (with the Message-IDs given
    by address), as bounces and webhooks find it; returns (campaign id, {email: recipient id})."""
    segments.create(engine, "s")
    segments.add(engine, "s", addresses)
    cid = campaigns.create_campaign(engine, name=name, subject="s", from_addr=from_addr, text="t", include=["s"])
    campaigns.start_campaign(engine, cid)
    with engine.begin() as conn:
        conn.execute(update(recipients).values(status="sent", sent_at=utcnow() - timedelta(minutes=5)))
        for email, mid in (message_ids or {}).items():
            conn.execute(update(recipients).where(recipients.c.email == email).values(message_id=mid))
        rows = conn.execute(select(recipients.c.id, recipients.c.email)).all()
    return cid, {r.email: r.id for r in rows}
