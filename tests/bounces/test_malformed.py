"""Whatever arrives in the bounce mailbox, classify() answers and never raises."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sendwell.bounces import MessageKind, classify

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = sorted(FIXTURES.glob("*.eml"))[0].read_bytes()

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


def test_empty_and_blank_input():
    assert classify(b"").kind is MessageKind.OTHER
    assert classify(b"\r\n\r\n  ").kind is MessageKind.OTHER


def test_text_instead_of_bytes_is_accepted():
    report = classify(EXIM.decode())  # type: ignore[arg-type]
    assert [r.address for r in report.recipients] == ["kim@example.org"]


def test_binary_garbage():
    report = classify(os.urandom(64 * 1024))
    assert report.kind in set(MessageKind)


def test_truncated_bounce_still_answers():
    for cut in (10, 100, len(SAMPLE) // 3, len(SAMPLE) // 2, len(SAMPLE) - 1):
        classify(SAMPLE[:cut])
    report = classify(EXIM[: EXIM.index(b"------ This is a copy")])
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    assert report.first.hard


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
    classify(b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n--\r\n')
    classify(b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n" * 50)
    classify(b"Content-Transfer-Encoding: base64\r\nContent-Type: text/plain\r\n\r\n!!!not base64===\r\n")


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
    report = classify(raw)
    assert report.kind in set(MessageKind)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(EXIM)), st.binary(max_size=64))
def test_never_raises_on_mangled_bounces(cut, junk):
    classify(EXIM[:cut] + junk + EXIM[cut:])
