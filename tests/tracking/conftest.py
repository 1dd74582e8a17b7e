"""A sent campaign with tracking, its recipients' tokens, and a clock around its send time."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from sendwell import campaigns, contacts
from sendwell.db.engine import utcnow
from sendwell.db.schema import recipients

SECRET = "test-secret"
BASE = "https://mail.shop.example"
HTML = """<html><head><title>News</title></head><body>
<p>Hello {{ first_name }}, <a href="https://shop.example/autumn">the autumn sale</a>.</p>
<p><a href="https://shop.example/account?id={{ uid }}&amp;from=mail">your account</a>,
<a href="mailto:help@shop.example">write to us</a>, <a href="#top">top</a>,
<a href="https://blog.shop.example/packing">how we pack</a>.</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</body></html>
"""
LINKS = [
    "https://shop.example/autumn",
    "https://shop.example/account?id={uid}&from=mail",
    "https://blog.shop.example/packing",
]


@dataclass
class Sent:
    campaign_id: int
    ids: dict[str, int]  # email → recipient id
    sent_at: datetime


def send_campaign(engine: Engine, track=("reads", "clicks"), html: str = HTML, name: str = "news") -> Sent:
    """Contacts with fields, a started campaign, every recipient marked sent an hour ago."""
    csv = "email,first_name,uid\nann@example.com,Ann,a1\nbob@example.com,Bob,b2\ncid@example.com,Cid,c3\n"
    contacts.import_contacts(engine, io.BytesIO(csv.encode()))
    cid = campaigns.create_campaign(
        engine, name=name, subject="News", from_addr="Shop <news@shop.example>", html=html, track=list(track)
    )
    campaigns.start_campaign(engine, cid)
    sent_at = utcnow().replace(second=0, microsecond=0) - timedelta(hours=1)  # minute-aligned: dedup per minute
    with engine.begin() as conn:
        conn.execute(
            update(recipients)
            .where(recipients.c.campaign_id == cid)
            .values(status="sent", sent_at=sent_at, message_id="<m@shop.example>")
        )
        rows = conn.execute(select(recipients.c.id, recipients.c.email).where(recipients.c.campaign_id == cid)).all()
    return Sent(cid, {r.email: r.id for r in rows}, sent_at)


def recipient(engine: Engine, rid: int):
    with engine.connect() as conn:
        return conn.execute(select(recipients).where(recipients.c.id == rid)).one()


@pytest.fixture
def sent(engine: Engine) -> Sent:
    return send_campaign(engine)
