"""A real Postfix as the relay, set up with the limits real relays have: a cap on connections per client,
a SIZE limit, a greeting check. Each test starts a private Postfix (tests/watch/postfix.py: its own config
and queue under a temporary folder, on 127.0.0.1) that discards what it accepts.

Postfix must be installed (apt-get install postfix) and the tests run as root; they skip otherwise (fail
under CI=true).
"""

from __future__ import annotations

import os
import pwd
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from watch.postfix import Postfix, free_port, unavailable

from sendwell import campaigns as campaign_service
from sendwell.config import Settings, SmtpSettings
from sendwell.db.schema import blacklist, campaigns, recipients
from sendwell.sending import control
from sendwell.sending.engine import send

from factories import add_contacts, started_campaign

TO = "to.example.org"  # Postfix relays it to discard(8): accepted, then dropped
DISCARD = f"""
relay_domains = {TO}
relay_transport = discard:
# loopback is in mynetworks, which Postfix exempts from the per-client limits unless told otherwise
smtpd_client_event_limit_exceptions =
"""


@pytest.fixture
def relay() -> Iterator[Callable[[str], Postfix]]:
    """Starts a private Postfix with these main.cf lines on top of the discarding relay."""
    why = unavailable()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + why)
        pytest.skip(why)
    nobody = pwd.getpwnam("nobody")
    started: list[Postfix] = []

    def start(extra: str) -> Postfix:
        mail = Path(tempfile.mkdtemp(prefix="sendwell-postfix-mail-"))
        mta = Postfix(
            mail=mail,
            uid=nobody.pw_uid,
            gid=nobody.pw_gid,
            mailboxes={},
            downstream_port=free_port(),
            extra=DISCARD + extra,
        )
        started.append(mta)
        return mta.start()

    yield start
    for mta in started:
        mta.stop()


def settings_for(mta: Postfix, **smtp) -> Settings:
    return replace(Settings(), smtp=replace(SmtpSettings(), urls=(mta.url,), timeout=5.0, **smtp))


def ledger(engine: Engine, cid: int) -> list:
    with engine.connect() as conn:
        q = select(recipients.c.email, recipients.c.status, recipients.c.attempts, recipients.c.smtp_answer)
        return list(conn.execute(q.where(recipients.c.campaign_id == cid)))


def campaign_row(engine: Engine, cid: int):
    with engine.connect() as conn:
        return conn.execute(select(campaigns.c.state, campaigns.c.server_problem).where(campaigns.c.id == cid)).one()


def test_relay_taking_two_connections_sends_over_two_and_charges_no_recipient(engine, relay):
    mta = relay("smtpd_client_connection_count_limit = 2\n")
    addresses = [f"user{i}@{TO}" for i in range(170)]
    cid = started_campaign(engine, addresses)
    started = time.monotonic()
    report = send(engine, settings_for(mta), [cid], linger=5)  # the default 4 connections
    took = time.monotonic() - started

    assert report.stopped == "done", report
    rows = ledger(engine, cid)
    assert Counter(r.status for r in rows) == {"sent": 170}, Counter(r.status for r in rows)
    assert {r.attempts for r in rows} == {1}  # nobody charged for a refused connection
    assert report.counts.get("deferred", 0) == 0
    assert "Connection concurrency limit exceeded" in mta.log()  # Postfix did refuse the extra connections
    assert any("accepts 2 of our connections" in w for w in report.warnings), report.warnings
    assert campaign_row(engine, cid).server_problem is None  # a limit, not a problem
    assert took < 20, f"170 messages took {took:.1f} s"  # seconds, not the minutes of pausing every connection


def test_message_larger_than_the_relays_size_pauses_the_campaign_before_sending(engine, relay):
    mta = relay("message_size_limit = 4000\n")
    add_contacts(engine, [f"user{i}@{TO}" for i in range(10)])
    cid = campaign_service.create_campaign(
        engine, name="big", subject="Big", from_addr="news@shop.example", text="A long letter. " * 600
    )
    campaign_service.start_campaign(engine, cid)
    report = send(engine, settings_for(mta), [cid], linger=2)

    assert report.stopped == "paused", report
    assert "accepts at most 4,000 (its SIZE)" in report.message and "bytes" in report.message, report.message
    state, problem = campaign_row(engine, cid)
    assert state == "paused" and "4,000" in problem
    rows = ledger(engine, cid)
    assert {(r.status, r.attempts) for r in rows} == {("queued", 0)}  # nothing sent, nobody charged
    assert "from=<" not in mta.log()  # no transaction reached Postfix


def test_first_transactions_refused_alike_pause_the_campaign_and_resend_recovers(engine, relay):
    mta = relay("smtpd_helo_required = yes\nsmtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n")
    addresses = [f"user{i}@{TO}" for i in range(60)]
    cid = started_campaign(engine, addresses)
    report = send(engine, settings_for(mta, helo_name="sender-without-domain"), [cid], linger=2)

    assert report.stopped == "paused", report
    assert "first 20 messages were all refused with the same answer" in report.message, report.message
    assert "504 5.5.2" in report.message and "need fully-qualified hostname" in report.message
    state, problem = campaign_row(engine, cid)
    assert state == "paused" and "504 5.5.2" in problem
    by_status = Counter(r.status for r in ledger(engine, cid))
    assert 20 <= by_status["failed"] <= 20 + 4 and by_status["failed"] + by_status["queued"] == 60, by_status
    with engine.connect() as conn:
        assert conn.execute(select(blacklist.c.email)).all() == []  # the sender's fault: nobody blacklisted

    assert control.resend(engine, cid, "failed") == by_status["failed"]
    again = send(engine, settings_for(mta, helo_name="sender.example.org"), [cid], linger=2)
    assert again.stopped == "done", again
    assert Counter(r.status for r in ledger(engine, cid)) == {"sent": 60}


def test_relay_refusing_this_client_at_greeting_pauses_the_campaign_charging_nobody(engine, relay):
    """Postfix rejecting the client at connect (smtpd_delay_reject = no): `554 5.7.1 … Client host rejected` as
    its greeting, every connection. About us, not a recipient: the campaign is paused saying so, nobody is
    charged, and each session is ended with QUIT as RFC 5321 asks (Postfix answers it `221`)."""
    mta = relay("smtpd_delay_reject = no\nsmtpd_client_restrictions = reject\n")
    cid = started_campaign(engine, [f"user{i}@{TO}" for i in range(20)])
    report = send(engine, settings_for(mta), [cid], linger=2)

    assert report.stopped == "paused", report
    state, problem = campaign_row(engine, cid)
    assert state == "paused" and "refuses our connections at connect (554 5.7.1" in problem, problem
    assert {(r.status, r.attempts) for r in ledger(engine, cid)} == {("queued", 0)}  # nothing sent, nobody charged
    assert "from=<" not in mta.log()
    assert "disconnect from" in mta.log() and "quit=1" in mta.log(), mta.log()[-2000:]
