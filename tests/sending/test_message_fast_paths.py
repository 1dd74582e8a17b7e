"""The per-recipient fast paths of sending/message.py equal the plain code they replaced, and what they make
parses back with the `email` package."""

import base64
import binascii
import email
import sys
from email import base64mime, policy
from email.utils import formataddr

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sendwell.sending import message
from sendwell.sending.message import (
    CampaignContent,
    Links,
    Personal,
    PreparedCampaign,
    _encode,
    _short_lines,
    display_name,
    one_line,
)

BOUNDARY = "===============1234567890=="


def encode_before(body: str, boundary: str | None) -> tuple[bytes, bytes]:
    """sending/message.py's _encode as it was (str work, a slice per base64 line): the reference."""
    if body.isascii() and "\x00" not in body and (boundary is None or boundary not in body):
        if "\r" in body:
            body = body.replace("\r\n", "\n").replace("\r", "\n")
        if max(map(len, body.split("\n"))) < 990:
            if body.endswith("\n"):
                body = body[:-1]
            return b"7bit", body.replace("\n", "\r\n").encode("ascii")
    if "\r" in body:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
    data = binascii.b2a_base64(body.replace("\n", "\r\n").encode("utf-8"), newline=False)
    return b"base64", b"\r\n".join([data[i : i + 76] for i in range(0, len(data), 76)])


# Lines around the 990-character limit, joined by LF, CR or CRLF, with now and then what forces base64.
_line = st.one_of(
    st.integers(0, 120).map(lambda n: "x" * n),
    st.integers(985, 995).map(lambda n: "y" * n),
    st.integers(1000, 3000).map(lambda n: "z" * n),
    st.text(alphabet=st.sampled_from("aö\x00€ \t=-"), max_size=30),
    st.just(BOUNDARY),
)
_body = st.tuples(st.lists(_line, max_size=12), st.lists(st.sampled_from(["\n", "\r\n", "\r"]), max_size=12)).map(
    lambda t: "".join(line + sep for line, sep in zip(t[0], t[1] + ["\n"] * len(t[0]), strict=False))
)


@settings(max_examples=400, deadline=None)
@given(_body, st.booleans(), st.booleans())
@example("", True, False)
@example("a" * 989, True, False)
@example("a" * 990, True, False)
@example("a" * 989 + "\n", True, True)
@example("a" * 989 + "\r\n" + "b" * 990, True, False)
def test_encode_equals_the_plain_code(body, with_boundary, trailing_lf):
    body += "\n" if trailing_lf else ""
    boundary = BOUNDARY if with_boundary else None
    cte, data = _encode(body, boundary.encode() if boundary else None)
    assert (cte, data) == encode_before(body, boundary)
    if cte == b"base64":  # binascii's encoder where pybase64 is missing: the same bytes
        assert message._b64 is not message._b64_binascii, "pybase64 is a dependency: installed with the package"
        saved, message._b64 = message._b64, message._b64_binascii
        try:
            assert _encode(body, boundary.encode() if boundary else None) == (cte, data)
        finally:
            message._b64 = saved
    if cte == b"base64":  # the email package's own encoder wraps the same lines
        crlf = body.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode()
        assert data == base64mime.body_encode(crlf, eol="\r\n").rstrip(b"\r\n".decode()).encode()
        assert base64.b64decode(data) == crlf and max(map(len, data.split(b"\r\n"))) <= 76


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2500), max_size=8), st.booleans())
def test_short_lines_equals_the_longest_line_below_990(lengths, trailing_lf):
    data = b"\n".join(b"a" * n for n in lengths) + (b"\n" if trailing_lf else b"")
    assert _short_lines(data) == (max(map(len, data.split(b"\n"))) < 990)


def test_base64_bodies_of_every_length_parse_back():
    """Lengths about each multiple of 76 base64 characters (57 bytes): no short, empty or missing last line."""
    content = CampaignContent(1, "Hi", "Shop <news@shop.example>", html="<p>{{ x }}</p>", text="{{ x }}")
    prepared = PreparedCampaign(content, Links("s", "bounces.example"))
    for n in range(0, 400):
        x = "ö" + "a" * n
        msg = email.message_from_bytes(
            prepared.render(Personal(1, "a@example.com", {"x": x})).data, policy=policy.default
        )
        assert msg.get_body(("plain",)).get_content() == x
        assert msg.get_body(("html",)).get_content() == f"<p>{x}</p>"


def display_name_before(p: Personal) -> str:
    if p.name:
        return one_line(p.name)
    f = p.fields or {}
    if f.get("name"):
        return one_line(f["name"])
    return one_line(" ".join(str(f[k]) for k in ("first_name", "last_name") if f.get(k)))


_value = st.one_of(st.none(), st.integers(), st.text(max_size=12), st.text(alphabet=" \t\r\n\x00\x7fAé", max_size=6))


@settings(max_examples=300, deadline=None)
@given(_value, _value, _value, st.text(max_size=8))
def test_display_name_equals_the_plain_code(first, last, name, given_name):
    fields = {k: v for k, v in (("first_name", first), ("last_name", last), ("name", name)) if v is not None}
    p = Personal(1, "a@example.com", fields, name=given_name)
    assert display_name(p) == display_name_before(p)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_one_line_has_no_control_characters_and_equals_the_regex(value):
    import re

    assert one_line(value) == re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('ab .,"\\()<>@:;[]éZ=?'), max_size=15))
def test_to_header_equals_formataddr(name):
    content = CampaignContent(1, "Hi", "Shop <news@shop.example>", text="x")
    data = PreparedCampaign(content, Links("s", "bounces.example")).render(Personal(1, "a@example.com", {}, name)).data
    to = data.split(b"\r\n", 1)[0].decode()
    shown = one_line(name)
    if shown.isascii() and "=?" not in shown:
        assert to == "To: " + formataddr((shown, "a@example.com"))
    parsed = email.message_from_bytes(data, policy=policy.default)["To"].addresses[0]
    assert parsed.addr_spec == "a@example.com"


def test_base64_falls_back_to_binascii_without_pybase64(monkeypatch):
    monkeypatch.setitem(sys.modules, "pybase64", None)  # what `import pybase64` then raises: ImportError
    assert message._b64_encoder() is message._b64_binascii
