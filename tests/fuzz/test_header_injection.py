"""Header injection is impossible: whatever a subject, name or merge field holds, the built message has
exactly the header lines of a harmless one (checked on the bytes that go to the relay)."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendwell import campaigns
from sendwell.errors import UserError
from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign

LINKS = Links("fuzz-secret", "bounces.example", "https://mail.example")
HOSTILE = st.lists(
    st.sampled_from(
        [
            "a",
            "Z",
            " ",
            "\r",
            "\n",
            "\r\n",
            "\x00",
            "\t",
            ":",
            "Bcc: evil@x.example",
            "\r\nBcc: evil@x.example",
            "\n\n<html>",
            "\x0b",
            "\x0c",
            "\x1b",
            "\x7f",
            "\u2028",
            "\u2029",
            "\x85",
            "é",
            "日本",
            "=?utf-8?q?=0D=0ABcc:_x?=",
            '"',
            "<>",
            "\x00sendwell-part\x00",
            "{{ email }}",
            "--",
            ".",
            "\r\n.\r\n",
            "x" * 200,
        ]
    ),
    max_size=12,
).map("".join)
_FIELD_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*: ")


def header_block(data: bytes) -> list[bytes]:
    head, sep, _ = data.partition(b"\r\n\r\n")
    assert sep, "the message has a header/body separator"
    return head.split(b"\r\n")


def header_names(data: bytes) -> list[bytes]:
    lines = header_block(data)
    for line in lines:
        assert b"\r" not in line and b"\n" not in line and b"\x00" not in line, line
        assert line[:1] in (b" ", b"\t") or _FIELD_LINE.match(line), line
    return [line.split(b":", 1)[0].lower() for line in lines if line[:1] not in (b" ", b"\t")]


def part_headers(data: bytes) -> list[bytes]:
    """The header lines after each boundary line of the message (a body line "--x" is no boundary)."""
    boundary = re.search(rb'boundary="([^"]+)"', data)[1]
    return re.findall(rb"\r\n--" + re.escape(boundary) + rb"\r\n((?:[A-Za-z-]+: [^\r\n]*\r\n)+)", data)


def _prepared(subject: str = "Hello {{ first_name }}") -> PreparedCampaign:
    content = CampaignContent(
        7,
        subject,
        "Shop <news@shop.example>",
        "<p>Hi {{ first_name }} {{ note }}</p>",
        "Hi {{ first_name }} {{ note }}",
    )
    return PreparedCampaign(content, LINKS)


BASELINE = _prepared().render(Personal(1, "ann@example.com", {"first_name": "Ann"}))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=HOSTILE, note=HOSTILE, name=HOSTILE, last=HOSTILE)
def test_merge_fields_and_names_never_add_a_header_line(first, note, name, last):
    p = Personal(2, "bob@example.com", {"first_name": first, "last_name": last, "note": note}, name=name)
    r = _prepared().render(p)
    assert header_names(r.data) == header_names(BASELINE.data)
    assert len(part_headers(r.data)) == len(part_headers(BASELINE.data))
    msg = email.message_from_bytes(r.data, policy=policy.default)
    assert "bcc" not in {k.lower() for k in msg}
    if "=?" not in name + first + last:  # the decoded view: see test_encoded_word_lookalikes_in_fields_stay_text
        assert msg["To"].addresses[0].addr_spec == "bob@example.com"
        assert "\n" not in str(msg["Subject"]) and "\r" not in str(msg["Subject"])
    assert [p.get_content_type() for p in msg.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    # every line ends in CRLF: the relay writes rendered messages as they are (Connection.send(crlf=True))
    assert r.data.count(b"\n") == r.data.count(b"\r\n") and r.data.count(b"\r") == r.data.count(b"\r\n")


def test_a_merge_field_holding_the_boundary_cannot_start_a_part():
    prepared = _prepared()
    evil = f"\r\n--{prepared.boundary}\r\nContent-Type: text/html\r\nBcc: evil@x.example\r\n\r\n<b>phish</b>"
    r = prepared.render(Personal(2, "bob@example.com", {"first_name": "Bob", "note": evil}))
    assert len(part_headers(r.data)) == len(part_headers(BASELINE.data))
    msg = email.message_from_bytes(r.data, policy=policy.default)
    assert [p.get_content_type() for p in msg.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    text_part = list(msg.walk())[1]
    assert text_part["Content-Transfer-Encoding"] == "base64"  # the one encoding without "-"
    assert "Bcc: evil@x.example" in text_part.get_content()  # delivered as the text it is


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=HOSTILE.filter(lambda s: "{" not in s))
def test_subject_text_never_adds_a_header_line(subject):
    r = _prepared(subject or "x").render(Personal(3, "cy@example.com", {"first_name": "Cy"}))
    assert header_names(r.data) == header_names(BASELINE.data)


@pytest.mark.parametrize(
    "field,value",
    [
        ("subject", "Hi\r\nBcc: evil@x.example"),
        ("subject", "Hi\nthere"),
        ("subject", "Hi\x00"),
        ("from_addr", "Shop <news@shop.example>\r\nBcc: evil@x.example"),
        ("from_addr", "Sh\rop <news@shop.example>"),
        ("reply_to", "r@shop.example\nBcc: evil@x.example"),
    ],
)
def test_campaign_headers_with_line_breaks_are_refused_naming_the_field(sqlite_engine, field, value):
    args = {"name": "c", "subject": "Hi", "from_addr": "Shop <news@shop.example>", "text": "x", field: value}
    with pytest.raises(UserError) as err:
        campaigns.create_campaign(sqlite_engine, **args)
    assert err.value.field == field and str(err.value).startswith(f"{field}: ")


def test_very_long_subjects_are_folded_not_overlong():
    r = _prepared().render(Personal(4, "dee@example.com", {"first_name": "A" * 3000}, name="Dee"))
    assert max(len(line) for line in header_block(r.data)) <= 998  # RFC 5322 2.1.1


def test_very_long_names_are_folded_not_overlong():
    r = _prepared().render(Personal(4, "dee@example.com", {"first_name": "A"}, name="B" * 3000))
    assert max(len(line) for line in header_block(r.data)) <= 998


def test_utf8_local_part_gets_a_message():
    """RFC 6532: a UTF-8 local part goes in the To header as UTF-8, with or without a display name."""
    for name, shown in (("", ""), ("Jörg Müller", "Jörg Müller"), ('Jo "JJ", Smith', 'Jo "JJ", Smith')):
        r = _prepared().render(Personal(5, "jörg@example.com", {}, name=name))
        msg = email.message_from_string(r.data.decode("utf-8"), policy=policy.default)  # RFC 6532 headers
        assert msg["To"].addresses[0].addr_spec == "jörg@example.com"
        assert msg["To"].addresses[0].display_name == shown
        assert r.rcpt == "jörg@example.com"


def test_encoded_word_lookalikes_in_fields_stay_text():
    r = _prepared().render(Personal(6, "eve@example.com", {"first_name": "=?utf-8?q?=0D=0ABcc:_x?="}, name="Eve"))
    msg = email.message_from_bytes(r.data, policy=policy.default)
    assert str(msg["Subject"]) == "Hello =?utf-8?q?=0D=0ABcc:_x?="
