"""The sender against a misbehaving SMTP server: every fault at every stage, then recovery.

Each test runs a real campaign through `sending.engine.send` over a socket to `FaultServer`, with a
1 s SMTP timeout and a 0.2/0.5/1 s retry schedule, and checks what the user would see: every
recipient accounted for, no `error` for anything the server (not the address) did wrong, the
campaign done once the server recovers, and each address accepted exactly once.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import select

from sendwell import history
from sendwell.db.schema import campaigns, recipients
from sendwell.sending.engine import send

from .conftest import fault_settings, ledger, statuses
from .faultsmtp import Action, Fault, FaultServer, Stage
from factories import started_campaign

ADDRS = [f"user{i}@example.org" for i in range(16)]

# Server faults the sender must ride out: (stage, what the server does). None of them may produce
# `error`; all of them except the 4xx at end of data are the relay's problem (kind `server`). Refusals at the
# greeting charge nobody: GREETING_REFUSALS below.
SERVER_FAULTS = [
    (Stage.CONNECT, Action.DROP),
    (Stage.CONNECT, Action.RESET),
    (Stage.CONNECT, Action.STALL),
    (Stage.EHLO, Action.DROP),
    (Stage.EHLO, Action.STALL),
    (Stage.MAIL, "421 4.4.5 too many connections"),
    (Stage.MAIL, "451 4.3.0 local error in processing"),
    (Stage.MAIL, "452 4.3.1 insufficient system storage"),
    (Stage.MAIL, Action.RESET),
    (Stage.RCPT, "421 4.4.2 timeout exceeded"),
    (Stage.RCPT, Action.DROP),
    (Stage.RCPT, Action.STALL),
    (Stage.DATA, "421 4.3.2 closing"),
    (Stage.DATA, Action.RESET),
    (Stage.BODY, Action.CUT),
    (Stage.BODY, Action.RESET),
    (Stage.BODY, Action.STALL),
    (Stage.EOD, "421 4.3.0 queue write failed"),
    (Stage.EOD, Action.DROP),
    (Stage.EOD, Action.RESET),
    (Stage.EOD, Action.STALL),
]


def _id(case: tuple[Stage, str]) -> str:
    stage, answer = case
    return f"{stage.value}-{answer.split(' ')[0] if not isinstance(answer, Action) else answer.value}"


def server_problem(engine, cid: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(campaigns.c.server_problem).where(campaigns.c.id == cid)).scalar()


@pytest.mark.parametrize("case", SERVER_FAULTS, ids=[_id(c) for c in SERVER_FAULTS])
def test_server_fault_never_marks_error_and_campaign_finishes_after_recovery(sqlite_engine, fault_server, case):
    stage, answer = case
    cid = started_campaign(sqlite_engine, ADDRS)
    fault_server.arm(Fault(stage, answer, times=2))
    report = send(sqlite_engine, fault_settings(fault_server.url), [cid], linger=5)

    assert fault_server.fired() == 2
    assert report.counts["error"] == 0
    assert report.counts["deferred"] >= 1  # the faulted attempts were recorded as deferred, then retried
    assert report.stopped == "done", report
    assert ledger(sqlite_engine, cid) == {a: ("sent", None) for a in ADDRS}
    # exactly once: each address accepted once; a message read in full but never answered may be
    # sent again (the one in flight per connection), and the log shows no more than that.
    assert fault_server.counts() == {a: 1 for a in ADDRS}
    assert sum(fault_server.unacked_counts().values()) <= fault_server.fired()
    # Over once messages went through: no current problem on the campaign, the problem kept in its history.
    assert server_problem(sqlite_engine, cid) is None, "an outage that is over is not shown as current"
    past = [h.summary for h in history.of_campaign(sqlite_engine, cid, actions=[history.SERVER_PROBLEM])]
    assert past, "the campaign's history keeps the server problem"
    if not isinstance(answer, Action):  # the server's own answer, not "connection reset" after it hung up
        assert any(answer.split(" ")[0] in p for p in past), past


@pytest.mark.parametrize(
    "case", [(Stage.MAIL, "451 4.3.0 try later"), (Stage.EOD, Action.RESET), (Stage.RCPT, Action.STALL)], ids=_id
)
def test_lasting_server_fault_leaves_recipients_deferred_server_never_error(engine, fault_server, case):
    stage, answer = case
    cid = started_campaign(engine, ADDRS[:6])
    fault_server.arm(Fault(stage, answer))  # for ever
    report = send(engine, fault_settings(fault_server.url, retry_schedule=(0.2, 5.0)), [cid], linger=1)

    assert report.stopped == "server", report
    got = ledger(engine, cid)
    assert set(got.values()) <= {("deferred", "server"), ("queued", None)}, got
    assert ("deferred", "server") in set(got.values())
    assert fault_server.counts() == {}
    assert server_problem(engine, cid)


GREETING_REFUSALS = [(Stage.CONNECT, "421 4.3.2 too busy, try later"), (Stage.EHLO, "421 4.3.2 shutting down")]


def attempts(engine, cid: int) -> Counter:
    with engine.connect() as conn:
        return Counter(conn.execute(select(recipients.c.attempts).where(recipients.c.campaign_id == cid)).scalars())


@pytest.mark.parametrize("case", GREETING_REFUSALS, ids=[_id(c) for c in GREETING_REFUSALS])
def test_a_greeting_refused_for_a_while_charges_no_recipient(sqlite_engine, fault_server, case):
    """A refusal at the greeting names no recipient: every connection waits, nobody is deferred or charged an
    attempt, and the campaign finishes once the relay takes connections again."""
    stage, answer = case
    cid = started_campaign(sqlite_engine, ADDRS)
    fault_server.arm(Fault(stage, answer, times=2))
    report = send(sqlite_engine, fault_settings(fault_server.url), [cid], linger=5)

    assert fault_server.fired() == 2
    assert report.stopped == "done", report
    assert report.counts.get("deferred", 0) == 0 and report.counts["error"] == 0
    assert attempts(sqlite_engine, cid) == {1: len(ADDRS)}  # the one that delivered, nothing for the refusals
    assert fault_server.counts() == {a: 1 for a in ADDRS}
    assert server_problem(sqlite_engine, cid) is None
    past = [h.summary for h in history.of_campaign(sqlite_engine, cid, actions=[history.SERVER_PROBLEM])]
    assert any(answer.split(" ")[0] in p and "no recipient is charged" in p for p in past), past


def test_a_relay_refusing_every_connection_at_greeting_waits_and_charges_nobody(engine, fault_server):
    cid = started_campaign(engine, ADDRS[:6])
    fault_server.arm(Fault(Stage.CONNECT, "421 4.3.2 busy"))  # for ever
    report = send(engine, fault_settings(fault_server.url, retry_schedule=(0.2, 5.0)), [cid], linger=1)

    assert report.stopped == "server", report
    assert "refuses our connections at connect (421 4.3.2 busy)" in report.message, report.message
    assert ledger(engine, cid) == {a: ("queued", None) for a in ADDRS[:6]}
    assert attempts(engine, cid) == {0: 6}
    assert "421 4.3.2 busy" in (server_problem(engine, cid) or "")
    assert fault_server.quits >= 1  # each refused session ended with QUIT (RFC 5321 4.1.1.10)


def test_a_relay_refusing_every_connection_with_a_5xx_pauses_the_campaign_charging_nobody(engine, fault_server):
    """`554` at the greeting: the relay will not serve this sender (its access list, our address or name): the
    campaign is paused saying so; nothing was sent, no recipient is charged or blacklisted."""
    cid = started_campaign(engine, ADDRS[:6])
    fault_server.arm(Fault(Stage.CONNECT, "554 5.7.1 no service for you"))
    report = send(engine, fault_settings(fault_server.url, retry_schedule=(0.2, 5.0)), [cid], linger=1)

    assert report.stopped == "paused", report
    with engine.connect() as conn:
        state, problem = conn.execute(
            select(campaigns.c.state, campaigns.c.server_problem).where(campaigns.c.id == cid)
        ).one()
    assert state == "paused"
    assert "refuses our connections at connect (554 5.7.1 no service for you)" in problem, problem
    assert "resume the campaign" in problem
    assert ledger(engine, cid) == {a: ("queued", None) for a in ADDRS[:6]}
    assert attempts(engine, cid) == {0: 6}
    assert fault_server.counts() == {}
    assert fault_server.quits >= 1


def test_outage_for_some_seconds_then_campaign_finishes_in_one_send(engine, fault_server):
    cid = started_campaign(engine, ADDRS)
    fault_server.arm(Fault(Stage.CONNECT, "421 4.3.2 maintenance", seconds=1.5))
    started = time.monotonic()
    report = send(engine, fault_settings(fault_server.url, retry_schedule=(0.2, 0.5, 1.0)), [cid], linger=5)

    assert report.stopped == "done", report
    assert time.monotonic() - started >= 1.4  # it really waited for the server
    assert statuses(engine, cid) == {"sent": len(ADDRS)}
    assert fault_server.counts() == {a: 1 for a in ADDRS}


def test_campaign_stopped_by_an_outage_finishes_on_the_next_send(engine, fault_server, clock):
    cid = started_campaign(engine, ADDRS)
    fault_server.arm(Fault(Stage.MAIL, "421 4.3.2 down"))
    first = send(engine, fault_settings(fault_server.url, retry_schedule=(0.2, 5.0)), [cid], linger=0.5)
    assert first.stopped == "server"
    assert first.counts["error"] == 0
    fault_server.arm()  # the relay is back
    clock.advance(0.5)  # the deferred rows come due
    second = send(engine, fault_settings(fault_server.url, retry_schedule=(0.2, 5.0)), [cid], clock=clock, linger=6)
    assert second.stopped == "done", second
    assert statuses(engine, cid) == {"sent": len(ADDRS)}
    assert fault_server.counts() == {a: 1 for a in ADDRS}


def test_relay_failing_past_the_retry_horizon_ends_failed_server_never_error(sqlite_engine, fault_server):
    cid = started_campaign(sqlite_engine, ADDRS[:4])
    fault_server.arm(Fault(Stage.CONNECT, Action.RESET))
    # a horizon of ~0.7 s: the second or third attempt is past it
    settings = fault_settings(fault_server.url, retry_schedule=(0.3,), horizon_hours=0.7 / 3600)
    send(sqlite_engine, settings, [cid], linger=3)
    got = ledger(sqlite_engine, cid)
    assert set(got.values()) == {("failed", "server")}, got


def test_mixed_faults_on_many_connections_every_recipient_accounted_once(engine, fault_server):
    """Several kinds of fault at once, four connections, 120 recipients: nothing lost, nothing doubled."""
    addrs = [f"m{i}@example.net" for i in range(120)]
    cid = started_campaign(engine, addrs)
    fault_server.arm(
        Fault(Stage.CONNECT, "421 4.3.2 busy", times=2),
        Fault(Stage.RCPT, Action.DROP, times=3),
        Fault(Stage.BODY, Action.CUT, times=2),
        Fault(Stage.EOD, Action.RESET, times=3),
        Fault(Stage.EOD, "451 4.3.0 try again", times=2),
        Fault(Stage.MAIL, "452 4.3.1 no room", times=2),
    )
    report = send(engine, fault_settings(fault_server.url, connections=4, batch_size=20), [cid], linger=6)

    assert report.stopped == "done", report
    assert report.counts["error"] == 0
    assert statuses(engine, cid) == {"sent": len(addrs)}
    assert fault_server.counts() == {a: 1 for a in addrs}
    assert sum(fault_server.unacked_counts().values()) <= 3  # the EOD resets: read, never answered


# Answers about one recipient, through a real socket: only "this address does not exist" at RCPT
# TO is `error`; policy refusals are `failed`/policy; a 5.1.1 anywhere but RCPT is not the address.
RCPT_CASES = {
    "dead@example.org": (Stage.RCPT, "550 5.1.1 <dead@example.org>: user unknown", ("error", "recipient")),
    "gone@example.org": (Stage.RCPT, "550 5.1.2 bad destination system", ("error", "recipient")),
    "spam@example.org": (Stage.RCPT, "550 5.7.1 rejected by policy", ("failed", "policy")),
    "full@example.org": (Stage.RCPT, "452 4.2.2 mailbox full", ("deferred", "mailbox_full")),
    "body@example.org": (Stage.EOD, "554 5.7.1 message content rejected", ("failed", "policy")),
    "bare@example.org": (Stage.EOD, "554 transaction failed", ("failed", "policy")),
    "late@example.org": (Stage.EOD, "550 5.1.1 user unknown", ("failed", "other")),
    "data@example.org": (Stage.DATA, "554 5.1.1 no valid recipients", ("failed", "other")),
    "grey@example.org": (Stage.RCPT, "451 4.7.1 greylisted", ("deferred", "throttled")),
}


def test_each_answer_through_a_socket_ends_in_its_status(engine, fault_server):
    fine = [f"fine{i}@example.org" for i in range(4)]
    cid = started_campaign(engine, fine + list(RCPT_CASES))
    fault_server.arm(*(Fault(stage, answer, only=frozenset({addr})) for addr, (stage, answer, _) in RCPT_CASES.items()))
    send(engine, fault_settings(fault_server.url, retry_schedule=(3600.0,)), [cid], linger=0.5)

    got = ledger(engine, cid)
    assert {a: got[a] for a in RCPT_CASES} == {a: want for a, (_, _, want) in RCPT_CASES.items()}
    assert {a: got[a] for a in fine} == {a: ("sent", None) for a in fine}
    assert fault_server.counts() == {a: 1 for a in fine}


def test_address_words_before_rcpt_never_mark_the_recipient_error(engine, fault_server):
    """A relay answering MAIL FROM with 550 5.1.1 is refusing our sender, not the recipient."""
    cid = started_campaign(engine, ADDRS[:4])
    fault_server.arm(Fault(Stage.MAIL, "550 5.1.1 sender address rejected: user unknown"))
    report = send(engine, fault_settings(fault_server.url, retry_schedule=(0.2, 5.0)), [cid], linger=0.5)
    assert report.counts["error"] == 0
    assert set(ledger(engine, cid).values()) <= {("deferred", "server"), ("queued", None)}


def test_server_recovering_while_a_send_runs_in_another_thread(sqlite_engine, fault_server):
    """The operator's view: a send is stuck on a dead relay; the relay comes back; the send finishes."""
    cid = started_campaign(sqlite_engine, ADDRS)
    fault_server.arm(Fault(Stage.CONNECT, Action.DROP))
    result = {}
    thread = threading.Thread(
        target=lambda: result.update(r=send(sqlite_engine, fault_settings(fault_server.url), [cid], linger=8))
    )
    thread.start()
    time.sleep(1.0)
    assert fault_server.counts() == {}
    fault_server.arm()
    thread.join(30)
    assert not thread.is_alive()
    assert result["r"].stopped == "done", result["r"]
    assert fault_server.counts() == {a: 1 for a in ADDRS}


def test_fault_server_logs_what_it_accepted(fault_server):
    """The instrument itself: a plain SMTP client sees the scripted answers and the log counts."""
    import smtplib

    fault_server.arm(Fault(Stage.RCPT, "550 5.1.1 no such user", only=frozenset({"dead@example.org"})))
    with smtplib.SMTP("127.0.0.1", fault_server.port, timeout=5) as smtp:
        smtp.sendmail("a@example.org", ["ok@example.org"], b"Subject: x\r\n\r\n.leading dot\r\n")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("a@example.org", ["dead@example.org"], b"Subject: y\r\n\r\nbody\r\n")
    assert fault_server.counts() == {"ok@example.org": 1}
    assert fault_server.accepted[0].data.endswith(b".leading dot\r\n")  # dot-unstuffed
    assert fault_server.fired() == 1


def test_fault_server_recovers_after_n_faults_and_after_t_seconds():
    import smtplib

    with FaultServer() as srv:
        srv.arm(Fault(Stage.CONNECT, "421 4.3.2 busy", times=2))
        for _ in range(2):
            with pytest.raises(smtplib.SMTPConnectError):
                smtplib.SMTP("127.0.0.1", srv.port, timeout=5)
        smtplib.SMTP("127.0.0.1", srv.port, timeout=5).quit()
        srv.arm(Fault(Stage.MAIL, "451 4.3.0 later", seconds=0.3))
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as smtp:
            assert smtp.mail("a@example.org")[0] == 451
            time.sleep(0.4)
            assert smtp.mail("a@example.org")[0] == 250


def test_a_2xx_answer_to_data_is_not_taken_as_delivery(sqlite_engine, fault_server):
    cid = started_campaign(sqlite_engine, ADDRS[:3])
    fault_server.arm(Fault(Stage.DATA, "250 2.0.0 ok", times=1))
    send(sqlite_engine, fault_settings(fault_server.url, connections=1), [cid], linger=3)
    got = ledger(sqlite_engine, cid)
    sent = {a for a, s in got.items() if s == ("sent", None)}
    assert set(fault_server.counts()) == sent, "every recipient marked sent was accepted by the server"


def test_a_refused_transaction_that_backs_off_ends_its_session_with_quit(sqlite_engine, fault_server):
    """A server problem after the greeting (451 at MAIL) closes the session politely: QUIT, then close."""
    cid = started_campaign(sqlite_engine, ADDRS[:4])
    fault_server.arm(Fault(Stage.MAIL, "451 4.3.0 local error in processing", times=1))
    report = send(sqlite_engine, fault_settings(fault_server.url, connections=1), [cid], linger=5)
    assert report.stopped == "done", report
    assert fault_server.quits >= 2  # the session refused at MAIL, and the last one at the end


def test_mail_from_declares_the_size_the_relay_advertises_and_greets_with_the_configured_name(
    sqlite_engine, fault_server
):
    fault_server.size = 1_000_000
    cid = started_campaign(sqlite_engine, ADDRS[:2])
    settings = fault_settings(fault_server.url, connections=1)
    settings = replace(settings, smtp=replace(settings.smtp, helo_name="sender.example.org"))
    assert send(sqlite_engine, settings, [cid], linger=3).stopped == "done"
    assert fault_server.helo_names == ["sender.example.org"]
    assert len(fault_server.mail_args) == 2
    assert all(re.fullmatch(r"FROM:<bounces\+\S+> SIZE=\d+", a) for a in fault_server.mail_args), fault_server.mail_args
