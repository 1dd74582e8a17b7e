"""Campaigns in a known state for tests, made through the services: one place instead of a copy per directory.

Import as `from factories import campaign, sent_campaign` (tests/ is on sys.path through its conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

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


def campaign(
    engine: Engine,
    people: Iterable[str] | Mapping[str, dict] = (),
    *,
    name: str = "news",
    subject: str = "Hi {{ first_name }}",
    from_addr: str = "Shop <news@shop.example>",
    html: str | None = "<p>Hello {{ first_name }}</p>",
    text: str | None = "Hello {{ first_name }}",
    statuses: Mapping[str, str] | None = None,
    **options: Any,
) -> int:
    """Contacts for `people` (addresses, or {address: fields}) and a draft campaign to all contacts (templates using
    first_name; `options` go to create_campaign). With `statuses` ({address: status}) it is started and those
    recipients are put in that status, the others left queued."""
    fields = people if isinstance(people, Mapping) else None
    add_contacts(engine, list(people), fields)
    cid = campaigns.create_campaign(
        engine, name=name, subject=subject, from_addr=from_addr, html=html, text=text, **options
    )
    if statuses is not None:
        campaigns.start_campaign(engine, cid)
        with engine.begin() as conn:
            for email, status in statuses.items():
                conn.execute(update(recipients).where(recipients.c.email == email).values(status=status))
    return cid


def started_campaign(
    engine: Engine, addresses: list[str], *, name: str = "c1", fields: dict[str, dict] | None = None, start: bool = True
) -> int:
    """`campaign` to `addresses` (with `fields` by address), started unless `start` is False: one queued ledger row
    each, ready for the engine."""
    people = {a: (fields or {}).get(a, {}) for a in addresses}
    cid = campaign(
        engine,
        people,
        name=name,
        subject="Hello {{ first_name }}",
        html="<p>Hi {{ first_name }}</p>",
        text="Hi {{ first_name }}",
    )
    if start:
        campaigns.start_campaign(engine, cid)
    return cid


def sent_campaign(
    engine: Engine, addresses: list[str], *, name: str = "c", from_addr: str = "me@example.com"
) -> tuple[int, dict[str, int]]:
    """A campaign to segment "s" of `addresses`, all recipients sent five minutes ago, as bounces and webhooks
    find it; returns (campaign id, {email: recipient id})."""
    segments.create(engine, "s")
    segments.add(engine, "s", addresses)
    cid = campaigns.create_campaign(engine, name=name, subject="s", from_addr=from_addr, text="t", include=["s"])
    campaigns.start_campaign(engine, cid)
    with engine.begin() as conn:
        conn.execute(update(recipients).values(status="sent", sent_at=utcnow() - timedelta(minutes=5)))
        rows = conn.execute(select(recipients.c.id, recipients.c.email)).all()
    return cid, {r.email: r.id for r in rows}


def two_sent_campaigns(
    engine: Engine, address: str, *, from_addr: str = "me@example.com", message_id=None
) -> list[tuple[int, int, str]]:
    """Two campaigns sent to `address`, the first an hour ago, the second five minutes ago, each row with its
    Message-ID (`message_id(cid, rid)`, ours by default); [(campaign id, recipient id, Message-ID)], oldest
    first. A report that names only the address is the second's: one quoting the first's Message-ID is not."""
    from sendwell.sending import msgid

    make = message_id or (lambda cid, rid: msgid.new(cid, rid, from_addr.rpartition("@")[2]))
    segments.create(engine, "both")
    segments.add(engine, "both", [address])
    sent = []
    for minutes_ago, name in ((60, "first"), (5, "second")):
        cid = campaigns.create_campaign(engine, name=name, subject="s", from_addr=from_addr, text="t", include=["both"])
        campaigns.start_campaign(engine, cid)
        with engine.begin() as conn:
            rid = conn.execute(select(recipients.c.id).where(recipients.c.campaign_id == cid)).scalar_one()
            mid = make(cid, rid)
            conn.execute(
                update(recipients)
                .where(recipients.c.id == rid)
                .values(status="sent", message_id=mid, sent_at=utcnow() - timedelta(minutes=minutes_ago))
            )
        sent.append((cid, rid, mid))
    return sent
