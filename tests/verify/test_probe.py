"""The SMTP probe against a real MX (aiosmtpd on 127.0.0.1): RCPT TO only, never DATA."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sendwell.model import Verdict
from sendwell.verify.probe import ProbeStatus, classify
from sendwell.verify.run import Verifier, verify_texts
from sendwell.verify.verdict import Reason


def test_existing_mailbox_is_valid_and_unknown_one_invalid(probe_options, probe_mx):
    handler, _ = probe_mx
    alice, ghost = verify_texts(["alice@ok.example.org", "ghost@ok.example.org"], probe_options)
    assert alice.verdict is Verdict.VALID and alice.reasons == ()
    assert ghost.verdict is Verdict.INVALID and ghost.reasons == (Reason.MAILBOX_REJECTED,)
    assert "550" in ghost.detail
    assert handler.data_commands == 0
    # A random mailbox is asked first (catch-all detection), then each address, in one session.
    assert handler.rcpts[0].startswith("sendwell-probe-") and handler.rcpts[1:] == [
        "alice@ok.example.org",
        "ghost@ok.example.org",
    ]
    assert len(handler.sessions) == 1


def test_catch_all_domain_is_risky(probe_options, probe_mx):
    [result] = verify_texts(["anyone@catchall.example.org"], probe_options)
    assert result.verdict is Verdict.RISKY and result.reasons == (Reason.CATCH_ALL,)


def test_greylisting_is_unknown_not_invalid(probe_options):
    [result] = verify_texts(["carol@grey.example.org"], probe_options)
    assert result.verdict is Verdict.UNKNOWN and result.reasons == (Reason.PROBE_UNDECIDED,)
    assert "450" in result.detail


def test_a_block_of_the_prober_decides_nothing(probe_options):
    [result] = verify_texts(["dave@blocked.example.org"], probe_options)
    assert result.verdict is Verdict.UNKNOWN and "554" in result.detail


def test_timeout_is_unknown(probe_options):
    [result] = verify_texts(["erin@tarpit.example.org"], probe_options)
    assert result.verdict is Verdict.UNKNOWN and result.reasons == (Reason.PROBE_UNDECIDED,)
    assert "timed out" in result.detail


def test_unreachable_mx_is_unknown(probe_options, dns_server):
    options = replace(probe_options, probe_options=replace(probe_options.probe_options, port=1))
    [result] = verify_texts(["frank@ok.example.org"], options)
    assert result.verdict is Verdict.UNKNOWN and result.reasons == (Reason.PROBE_UNDECIDED,)


def test_probe_is_off_by_default(dns_options, probe_mx):
    handler, _ = probe_mx
    [result] = verify_texts(["ghost@ok.example.org"], dns_options)
    assert result.verdict is Verdict.VALID and handler.rcpts == []


def test_sessions_to_one_domain_are_paced(probe_options, probe_mx):
    handler, _ = probe_mx
    options = replace(
        probe_options, probe_options=replace(probe_options.probe_options, rcpt_per_session=1, domain_interval=0.3)
    )
    results = Verifier(options).verify(["alice@ok.example.org", "bob@ok.example.org", "ghost@ok.example.org"])
    assert [r.verdict for r in results] == [Verdict.VALID, Verdict.VALID, Verdict.INVALID]
    gaps = [b - a for a, b in zip(handler.sessions, handler.sessions[1:], strict=False)]
    assert len(handler.sessions) == 3 and min(gaps) >= 0.25


@pytest.mark.parametrize(
    ("code", "message", "status"),
    [
        (250, "2.1.5 OK", ProbeStatus.ACCEPTED),
        (550, "5.1.1 User unknown", ProbeStatus.REJECTED),
        (550, "No such user", ProbeStatus.REJECTED),
        (553, "5.1.3 Bad recipient address syntax", ProbeStatus.REJECTED),
        (550, "5.7.1 Relaying denied", ProbeStatus.UNDECIDED),
        (554, "5.7.1 Client host rejected", ProbeStatus.UNDECIDED),
        (450, "4.2.0 Greylisted", ProbeStatus.UNDECIDED),
        (421, "4.3.2 Service not available", ProbeStatus.UNDECIDED),
    ],
)
def test_rcpt_reply_meaning(code, message, status):
    assert classify(code, message) is status
