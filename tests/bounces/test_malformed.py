"""Whatever arrives in the bounce mailbox, classify() answers without needing its crash net ("unreadable"), and
blames only an address the message holds: garbage is `other` with nobody in it, and a cut or mangled bounce
still names its recipient while the part that names it is there."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sendwell.bounces import BounceReport, MessageKind, classify
from sendwell.bounces.mime import load_text

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = sorted(FIXTURES.glob("*.eml"))[0].read_bytes()
EXPECTED = [json.loads(line) for line in (FIXTURES / "expected.jsonl").read_text().splitlines() if line.strip()]

EXIM = (
    b"From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\nTo: bounces@sender.example\r\n"
    b"Subject: Mail delivery failed: returning message to sender\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    b"This message was created automatically by mail delivery software.\r\n\r\n"
    b"A message that you sent could not be delivered to one or more of its\r\n"
    b"recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
    b"  kim@example.org\r\n    host mx.example.org [192.0.2.1]\r\n"
    b"    SMTP error from remote mail server after RCPT TO:<kim@example.org>:\r\n"
    b"    550 5.1.1 <kim@example.org>: Recipient address rejected: User unknown\r\n\r\n"
    b"------ This is a copy of the message, including all the headers. ------\r\n\r\n"
    b"Message-ID: <m1@sender.example>\r\nTo: kim@example.org\r\nSubject: news\r\n"
)


def _sound(raw: bytes, report: BounceReport) -> BounceReport:
    """The classifier answered on its own (not from its crash net) and every address it blames is in the bytes."""
    assert report.format != "unreadable"
    for r in report.recipients:
        assert r.address.encode() in raw.lower(), f"{r.address} is not in the message"
    return report


def test_empty_and_blank_input():
    assert classify(b"").kind is MessageKind.OTHER
    assert classify(b"\r\n\r\n  ").kind is MessageKind.OTHER


def test_text_instead_of_bytes_is_accepted():
    report = classify(EXIM.decode())  # type: ignore[arg-type]
    assert [r.address for r in report.recipients] == ["kim@example.org"]


@pytest.mark.parametrize("seed", range(5))
def test_binary_garbage_is_other_with_nobody_blamed(seed):
    report = _sound(raw := random.Random(seed).randbytes(64 * 1024), classify(raw))
    assert report.kind is MessageKind.OTHER and report.recipients == ()


def test_truncated_bounce_still_answers():
    for cut in (10, 100, len(SAMPLE) // 3, len(SAMPLE) // 2, len(SAMPLE) - 1):
        _sound(SAMPLE[:cut], classify(SAMPLE[:cut]))
    report = _sound(raw := EXIM[: EXIM.index(b"------ This is a copy")], classify(raw))
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    assert report.first.hard


def _cut_before_the_original(name: str) -> bytes | None:
    """The bounce without the message it returns (what a size-limited mailbox or MTA keeps), or None when the
    recipient is not named in what is left of the body."""
    raw = (FIXTURES / name).read_bytes()
    original = re.search(rb"(?im)^content-type:\s*(message/rfc822|text/rfc822-headers)", raw)
    if original is None:
        return None
    cut = raw[: original.start()]
    body = re.split(rb"\r?\n\r?\n", cut, maxsplit=1)[-1]
    recipient = next(e["recipients"][0] for e in EXPECTED if e["file"] == name)
    return cut if recipient.encode() in body.lower() else None


CUT_BOUNCES = [
    e["file"]
    for e in EXPECTED
    if len(e["recipients"]) == 1 and e["reason"] != "feedback" and _cut_before_the_original(e["file"])
]
# A truncated copy the classifier does not read yet: strict, so fixing it turns this test red until the entry goes.
KNOWN_GAPS = {"ad6cc18a76e28bc5.eml": "BIGLOBE's notice is only recognized with the returned message attached"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[n], strict=True)) if n in KNOWN_GAPS else n
        for n in CUT_BOUNCES
    ],
)
def test_a_real_bounce_cut_before_the_returned_message_still_names_its_recipient(name):
    expected = next(e for e in EXPECTED if e["file"] == name)
    report = _sound(raw := _cut_before_the_original(name) or b"", classify(raw))
    assert [r.address for r in report.recipients] == expected["recipients"]
    assert (report.first.reason.value, report.first.hard) == (expected["reason"], expected["hard"])


def test_enough_real_bounces_are_cut():
    assert len(CUT_BOUNCES) >= 30  # the parametrized test above is not silently empty


def test_wrong_and_unknown_charsets():
    broken = EXIM.replace(b"charset=us-ascii", b"charset=no-such-charset").replace(b"news", b"\xff\xfe\x80 news")
    report = classify(broken)
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    latin = EXIM.replace(b"charset=us-ascii", b"charset=utf-8") + "Grüße".encode("latin-1")
    assert classify(latin).first.reason.value == "userunknown"


def test_broken_mime_structure():
    no_end = (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain\r\n\r\n<kim@example.org>: host mx said: 550 5.1.1 "
        b"User unknown (in reply to RCPT TO command)\r\n"
    )
    report = classify(no_end)
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    for raw in (
        b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n--\r\n',
        b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n" * 50,
        b"Content-Transfer-Encoding: base64\r\nContent-Type: text/plain\r\n\r\n!!!not base64===\r\n",
    ):
        assert _sound(raw, classify(raw)).kind is MessageKind.OTHER


def test_bounce_quoting_a_20_mb_attachment():
    big = (
        b"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n" * (20 * 1024 * 1024 // 70)
        + b"--b1--\r\n"
    )
    raw = EXIM + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n' + big
    assert len(raw) > 20 * 1024 * 1024
    report = classify(raw)
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    assert report.original.message_id == "<m1@sender.example>"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4096))
def test_never_raises_on_arbitrary_bytes(raw):
    _sound(raw, classify(raw))


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(EXIM)), st.binary(max_size=64))
def test_never_raises_on_mangled_bounces(cut, junk):
    report = _sound(raw := EXIM[:cut] + junk + EXIM[cut:], classify(raw))
    if cut >= EXIM.index(b"------ This is a copy"):  # only the returned copy was mangled: the notice is intact
        assert [r.address for r in report.recipients] == ["kim@example.org"] and report.first.hard


def test_decoded_text_is_never_read_as_escape_letters() -> None:
    # A part re-read from text already decoded (8-bit bytes became U+FFFD) used to be turned back into bytes by
    # raw-unicode-escape: "\ufffd@example.co.jp" became the letters "\\ufffd@…", and the classifier blamed
    # "ufffd@example.co.jp", an address the message never named (found by tests/fuzz).
    part = load_text("Content-Type: text/plain\n\n<\ufffd\ufffd@example.co.jp>: unknown user\n")
    body = part.get_payload(decode=True)
    assert b"ufffd" not in body
    assert "\ufffd\ufffd@example.co.jp".encode() in body
