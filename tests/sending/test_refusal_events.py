"""A live refusal takes the path of a bounce: one reason vocabulary, an event with its evidence, the hygiene
policy deciding, and `blacklist show` explaining the suppression; relay failures leave no trace on the address."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from sendwell import blacklist
from sendwell.bounces.classify import classify
from sendwell.bounces.report import Reason
from sendwell.db.schema import blacklist as blacklist_table
from sendwell.db.schema import events, recipients
from sendwell.sending.engine import send
from sendwell.sending.outcome import Reply, Stage
from sendwell.sending.refusal import judge

from .conftest import sender_settings
from .smtpd import Script, ScriptedServer, free_port
from factories import started_campaign

POSTFIX_UNKNOWN = "550 5.1.1 <dead@x.org>: Recipient address rejected: User unknown in local recipient table"


def ledger(engine, cid):
    with engine.connect() as conn:
        return {r.email: r for r in conn.execute(select(recipients).where(recipients.c.campaign_id == cid))}


def all_events(engine):
    with engine.connect() as conn:
        return conn.execute(select(events).order_by(events.c.id)).all()


def test_rcpt_refusal_is_blacklisted_through_an_event_and_explained(engine, db_url, server):
    server.script = Script(
        rcpt={"dead@x.org": POSTFIX_UNKNOWN, "spam@x.org": "550 5.7.1 message refused as spam"},
        eod={"late@x.org": "550 5.1.1 user unknown"},
    )
    cid = started_campaign(engine, ["ok@x.org", "dead@x.org", "spam@x.org", "late@x.org"])
    report = send(engine, sender_settings(server.url, retry_schedule=(3600,)), [cid], linger=0.5)
    assert report.counts["sent"] == 1 and report.counts["error"] == 1

    rows = ledger(engine, cid)
    # The ledger names the fact as a DSN would, with the server's answer beside it.
    assert (rows["dead@x.org"].status, rows["dead@x.org"].kind, rows["dead@x.org"].reason) == (
        "error",
        "recipient",
        "userunknown",
    )
    assert (rows["dead@x.org"].smtp_code, rows["dead@x.org"].enhanced_code) == (550, "5.1.1")
    assert "User unknown in local recipient table" in rows["dead@x.org"].smtp_answer
    assert (rows["spam@x.org"].status, rows["spam@x.org"].reason) == ("failed", "spamdetected")
    assert rows["ok@x.org"].reason == "delivered"
    # a 5.1.1 after DATA is not the address (docs/statuses.md): failed, never blacklisted
    assert (rows["late@x.org"].status, rows["late@x.org"].kind, rows["late@x.org"].reason) == (
        "failed",
        "other",
        "userunknown",
    )

    # Every final refusal is an event with its evidence; only the dead address is suppressed, by its event.
    evs = {e.email: e for e in all_events(engine)}
    assert set(evs) == {"dead@x.org", "spam@x.org", "late@x.org"}
    dead = evs["dead@x.org"]
    assert (dead.type, dead.reason, dead.status_code, dead.hard, dead.campaign_id, dead.recipient_id) == (
        "bounce",
        "userunknown",
        "5.1.1",
        True,
        cid,
        rows["dead@x.org"].id,
    )
    assert dead.source == f"smtp:127.0.0.1:{server.port}" and dead.detail == POSTFIX_UNKNOWN
    assert dead.raw.decode().startswith("RCPT TO:<dead@x.org>\r\n550 5.1.1")
    assert not evs["spam@x.org"].hard and not evs["late@x.org"].hard
    with engine.connect() as conn:
        listed = {r.email: r for r in conn.execute(select(blacklist_table))}
    assert set(listed) == {"dead@x.org"}
    entry = listed["dead@x.org"]
    assert (entry.reason, entry.source, entry.note, entry.event_id) == (
        "hard_bounce",
        f"campaign:{cid}",
        "5.1.1 userunknown",
        dead.id,
    )

    shown = blacklist.show(engine, "dead@x.org")
    assert shown.entry.event.detail == POSTFIX_UNKNOWN and shown.entry.event.campaign == "c1"

    env = {**os.environ, "SENDWELL_DATABASE_URL": db_url, "COLUMNS": "200"}
    out = subprocess.run(
        [sys.executable, "-m", "sendwell.cli", "blacklist", "show", "dead@x.org"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "is blacklisted: hard_bounce (source campaign:" in out.stdout
    assert (
        f"because of event #{dead.id} bounce userunknown 5.1.1 (hard) via smtp:127.0.0.1:{server.port}, "
        f"campaign 'c1' (#{cid})"
    ) in out.stdout
    assert f"answer: {POSTFIX_UNKNOWN}" in out.stdout


RELAY_FAILURES = [
    Script(mail="421 4.3.2 try later"),
    Script(rcpt=dict.fromkeys(("a@x.org", "b@x.org"), "421 4.7.0 bye")),
    Script(drop_at="rcpt"),
    None,
]


@pytest.mark.parametrize("script", RELAY_FAILURES, ids=["421-mail", "421-rcpt", "dropped", "refused"])
def test_relay_failures_leave_no_event_and_no_suppression(engine, script):
    cid = started_campaign(engine, ["a@x.org", "b@x.org"])
    if script is None:  # nothing listens
        url, srv = f"smtp://127.0.0.1:{free_port()}", None
    else:
        srv = ScriptedServer(script).start()
        url = srv.url
    try:
        send(engine, sender_settings(url, retry_schedule=(0.2, 5.0)), [cid], linger=0.3)
    finally:
        if srv is not None:
            srv.stop()
    assert {(r.status, r.kind) for r in ledger(engine, cid).values()} <= {("deferred", "server"), ("queued", None)}
    assert ("deferred", "server") in {(r.status, r.kind) for r in ledger(engine, cid).values()}
    assert all_events(engine) == [] and blacklist.count(engine) == 0


def test_switched_off_auto_blacklist_still_records_the_event(engine, server):
    server.script = Script(rcpt={"dead@x.org": "550 5.1.1 no such user"})
    cid = started_campaign(engine, ["dead@x.org"])
    send(engine, sender_settings(server.url, auto_blacklist=False), [cid], linger=0.3)
    assert ledger(engine, cid)["dead@x.org"].status == "error"
    assert [(e.reason, e.hard) for e in all_events(engine)] == [("userunknown", True)]
    assert blacklist.count(engine) == 0


DSN = """From: MAILER-DAEMON@mx.example.net
To: bounces@shop.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

I could not deliver your message.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: {status}
Diagnostic-Code: smtp; {answer}

--b--
"""

SAME_FACTS = [
    ("dead@x.org", "5.1.1", POSTFIX_UNKNOWN),
    (
        "nohost@nowhere.example",
        "5.1.2",
        "550 5.1.2 <nohost@nowhere.example>: Recipient address rejected: Domain not found",
    ),
    ("full@x.org", "5.2.2", "552 5.2.2 <full@x.org>: mailbox full, quota exceeded"),
    ("spam@x.org", "5.7.1", "550 5.7.1 message refused as spam"),
]


@pytest.mark.parametrize(("rcpt", "status", "answer"), SAME_FACTS, ids=[f[0] for f in SAME_FACTS])
def test_live_answer_and_dsn_give_one_reason_name(rcpt, status, answer):
    dsn = classify(DSN.format(rcpt=rcpt, status=status, answer=answer).replace("\n", "\r\n").encode())
    code, text = answer.split(" ", 1)
    live = judge(Reply(Stage.RCPT, int(code), status, text))
    assert live is not None and dsn.first is not None
    assert (live.reason, live.hard) == (dsn.first.reason, dsn.first.hard)


def test_a_refusal_at_helo_is_named_as_a_dsn_names_it():
    """The stage names are the DSN reader's: "access denied" after EHLO is about our host, live or quoted."""
    answer = "550 5.7.1 Access denied"
    dsn = classify(
        DSN.format(rcpt="ann@x.org", status="5.7.1", answer=answer + " (in reply to EHLO command)")
        .replace("\n", "\r\n")
        .encode()
    )
    live = judge(Reply(Stage.HELO, 550, "5.7.1", "5.7.1 Access denied"))
    assert dsn.first is not None and dsn.first.reason is Reason.BLOCKED
    assert live is not None and live.reason is dsn.first.reason


def test_no_answer_is_no_judgment():
    assert judge(Reply(Stage.RCPT, problem=None, text="TimeoutError")) is None
