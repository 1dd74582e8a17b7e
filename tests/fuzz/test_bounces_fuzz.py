"""The bounce classifier on hostile input: mutated real bounces, broken headers, amplification.

`classify` never raises (it answers format "unreadable" when something inside crashed), so these
tests check that it never *needs* to: an unreadable bounce is a lost bounce, and its dead address
stays on the list. The real bounces are the regression sample in tests/bounces/fixtures
(BSD-2-Clause, see its NOTICE.md).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendwell.bounces import BounceReport, classify, scan

FIXTURES = sorted((Path(__file__).parents[1] / "bounces" / "fixtures").glob("*.eml"))
HANG = 10.0  # seconds: far above any honest message here; only a runaway pattern gets near it


def _fixture(i: int) -> bytes:
    return FIXTURES[i % len(FIXTURES)].read_bytes()


def _classify_in_time(raw: bytes) -> BounceReport:
    started = time.monotonic()
    report = classify(raw)
    assert time.monotonic() - started < HANG, f"classify took {time.monotonic() - started:.1f} s"
    return report


def _encoded(raw: bytes) -> bool:
    """The message holds a base64 or quoted-printable part, where an address need not appear as bytes."""
    return re.search(rb"(?i)content-transfer-encoding:\s*(base64|quoted-printable)", raw) is not None


# One mutation: (kind, position, end, junk). Positions are fractions of the message length.
mutation = st.tuples(
    st.sampled_from(["cut", "insert", "replace", "crlf", "lf", "cr", "dup", "swap", "upper", "nul", "highbit"]),
    st.floats(0, 1),
    st.floats(0, 1),
    st.binary(max_size=48),
)


def _mutate(raw: bytes, kind: str, a: float, b: float, junk: bytes) -> bytes:
    i, j = sorted((int(a * len(raw)), int(b * len(raw))))
    if kind == "cut":
        return raw[:i]
    if kind == "insert":
        return raw[:i] + junk + raw[i:]
    if kind == "replace":
        return raw[:i] + junk + raw[j:]
    if kind == "crlf":
        return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if kind == "lf":
        return raw.replace(b"\r\n", b"\n")
    if kind == "cr":
        return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    if kind == "dup":
        return raw[:j] + raw[i:j] * 3 + raw[j:]
    if kind == "swap":
        return raw[j:] + raw[i:j] + raw[:i]
    if kind == "upper":
        return raw[:i] + raw[i:j].upper() + raw[j:]
    if kind == "nul":
        return raw[:i] + b"\x00" + raw[i:]
    return raw[:i] + bytes(c | 0x80 if c > 0x20 else c for c in raw[i:j]) + raw[j:]  # 8-bit garbage


@pytest.mark.skipif(not FIXTURES, reason="no bounce fixtures")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, 10_000), mutations=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_real_bounces_never_crash_the_classifier(which, mutations):
    raw = _fixture(which)
    for m in mutations:
        raw = _mutate(raw, *m)
    report = _classify_in_time(raw)
    # 8-bit and NUL bytes included (test_broken_content_type_headers_still_give_the_failed_recipient): the crash
    # net ("unreadable") is never needed, and nobody is blamed who is not in the message.
    assert report.format != "unreadable"
    assert all(r.address.encode() in raw.lower() or _encoded(raw) for r in report.recipients)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=8192))
def test_arbitrary_bytes_finish_in_time(raw):
    _classify_in_time(raw)


@settings(max_examples=80, deadline=None)
@given(
    headers=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "Content-Type",
                    "Content-Transfer-Encoding",
                    "Subject",
                    "From",
                    "Content-Disposition",
                    "MIME-Version",
                    "X-Failed-Recipients",
                ]
            ),
            st.text(max_size=60),
        ),
        max_size=6,
    ),
    body=st.text(max_size=300),
)
def test_arbitrary_header_text_never_crashes(headers, body):
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    raw = (head + "\r\n" + body).encode("utf-8", "surrogatepass")
    assert _classify_in_time(raw).format != "unreadable"


@pytest.mark.skipif(not FIXTURES, reason="no bounce fixtures")
def test_every_real_bounce_nested_in_another_still_classifies():
    for path in FIXTURES[:20]:
        inner = path.read_bytes()
        outer = (
            b"From: postmaster@relay.example\r\nSubject: Returned mail\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n--outer\r\nContent-Type: text/plain\r\n\r\n'
            b"see attached\r\n--outer\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--outer--\r\n"
        )
        assert _classify_in_time(outer).format != "unreadable", path.name


BROKEN_HEADERS = {
    "8-bit boundary": (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B\xe9"\r\n\r\n--B\xe9\r\n'
        b"Content-Type: text/plain\r\n\r\n<kim@example.org>: 550 5.1.1 user unknown\r\n--B\xe9--\r\n"
    ),
    "8-bit charset": (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b'Content-Type: text/plain; charset="utf-8\xe9"\r\n\r\n'
        b"<kim@example.org>: 550 5.1.1 user unknown\r\n"
    ),
    "NUL in charset": (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b'Content-Type: text/plain; charset="utf\x008"\r\n\r\n'
        b"<kim@example.org>: 550 5.1.1 user unknown\r\n"
    ),
}


@pytest.mark.parametrize("name", list(BROKEN_HEADERS))
def test_broken_content_type_headers_still_give_the_failed_recipient(name):
    report = _classify_in_time(BROKEN_HEADERS[name])
    assert report.format != "unreadable"
    assert [r.address for r in report.recipients] == ["kim@example.org"]


def _repeated_blocks(n: int) -> bytes:
    """A plain-text bounce pasting the same recipient's DSN fields n times (seen in broken MTAs and mutations)."""
    block = "Final-Recipient: rfc822;kim@example.jp\r\nAction: failed\r\nRemote-MTA: dns; mx.example.jp\r\n\r\n"
    blocks = block * n
    return (
        "From: MAILER-DAEMON@mx.example.net\r\nTo: b@s.example\r\nSubject: Undelivered Mail\r\n"
        "Content-Type: text/plain\r\n\r\nDelivery to the following recipient failed.\r\n\r\n" + blocks
    ).encode()


def test_an_address_named_in_many_blocks_is_reported_once():
    report = _classify_in_time(_repeated_blocks(40))
    assert [r.address for r in report.recipients] == ["kim@example.jp"]


def test_diagnostic_text_per_address_stays_bounded():
    raw = _repeated_blocks(200)
    hits = scan.scan(raw.decode(), set())
    assert hits and max(len(h.diagnostic) for h in hits) <= 2000
