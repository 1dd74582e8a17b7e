"""The issue's end-to-end story: send, the receiving server bounces later, `bounces watch` reads the bounce
from a real IMAP mailbox, and the next campaign does not mail the dead address again."""

from __future__ import annotations

import io
import mailbox
import time
from dataclasses import replace

from sqlalchemy import select

from sendwell import blacklist, campaigns, contacts
from sendwell.bounces import imap
from sendwell.config import Settings
from sendwell.db.schema import recipients
from sendwell.demo.server import Behaviour, SimulatedServer
from sendwell.sending.engine import send

from .conftest import PASSWORD

GHOST = "ghost@example.net"
LIVE = ["ann@example.net", "bob@example.net", "cat@example.net"]


def test_late_bounce_read_over_imap_keeps_the_next_campaign_away(engine, account, tmp_path):
    contacts.import_contacts(engine, io.BytesIO(("email\n" + "\n".join([GHOST, *LIVE]) + "\n").encode()))
    bounce_box = tmp_path / "bounce-maildir"
    with SimulatedServer(Behaviour(late_bounce={GHOST}), bounce_box) as server:
        base = Settings()
        settings = replace(base, smtp=replace(base.smtp, urls=(server.url,), timeout=5.0))
        first = campaigns.create_campaign(
            engine, name="first", subject="Hello", from_addr="news@shop.example", text="Hi"
        )
        campaigns.start_campaign(engine, first)
        send(engine, settings, [first])
        assert server.handler.delivered[GHOST] == 1  # accepted at RCPT TO: only the later bounce tells
        deadline = time.monotonic() + 10
        while not len(mailbox.Maildir(str(bounce_box), create=False)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for raw in mailbox.Maildir(str(bounce_box), factory=None, create=False):  # the MTA delivers to the mailbox
            account.append(bytes(raw))

        mailbox_url, _ = imap.parse_url(account.url, no_tls=True)
        stats = imap.Watcher(mailbox_url, PASSWORD, imap.ingest_processor(engine, settings)).run(once=True)
        assert stats.errors_marked == 1 and stats.blacklisted == 1
        with engine.connect() as conn:
            status = conn.execute(
                select(recipients.c.status).where(recipients.c.campaign_id == first, recipients.c.email == GHOST)
            ).scalar_one()
        assert status == "error"
        assert blacklist.show(engine, GHOST).entry.reason == "hard_bounce"
        assert account.subjects("Processed") == ["Undelivered Mail Returned to Sender"]

        second = campaigns.create_campaign(
            engine, name="second", subject="Again", from_addr="news@shop.example", text="Hi again"
        )
        campaigns.start_campaign(engine, second)
        send(engine, settings, [second])
    assert server.handler.delivered[GHOST] == 1  # never tried again
    assert all(server.handler.delivered[a] == 2 for a in LIVE)
