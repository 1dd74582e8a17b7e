"""Personalised messages: a campaign's MIME skeleton is built once, each recipient's parts filled in.

Building every message with `email.message` + `as_bytes()` costs about 1 ms; here the standard
`email` package (policy SMTP, CRLF) builds the skeleton once per campaign with placeholder bodies,
and each recipient costs a Jinja2 render, 7bit or base64 bodies and a byte join (~30 µs for 10 KB: see
bench/bench_render.py).
`build_message` is the plain, slow construction the fast one is tested against.

Header values are never taken raw from user data: merge fields and names are flattened to a single
line (CR, LF and other control characters become spaces) before they reach a header, so a contact
field cannot inject a `Bcc:`.
"""

from __future__ import annotations

import binascii
import re
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.meta

from sendwell.compose import BodyFormat, compose
from sendwell.sending import msgid, verp
from sendwell.tracking.rewrite import tracked_template, tracking_context

UNSUBSCRIBE_PATH = "/unsubscribe/"  # {public_url}/unsubscribe/<token>: GET shows a page, POST unsubscribes (RFC 8058)
_PLACEHOLDER = {"text": b"SENDWELLxTEXTxPLACEHOLDER", "html": b"SENDWELLxHTMLxPLACEHOLDER"}
_CTE_QP = b"Content-Transfer-Encoding: quoted-printable"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_ENV_TEXT = jinja2.Environment(autoescape=False, keep_trailing_newline=True)
_ENV_HTML = jinja2.Environment(autoescape=True, keep_trailing_newline=True)


@dataclass(frozen=True, slots=True)
class CampaignContent:
    """What a campaign sends; the three text fields are Jinja2 templates over contact fields."""

    id: int
    subject: str
    from_addr: str
    html: str | None = None
    text: str | None = None
    reply_to: str | None = None
    track: tuple[str, ...] = ()  # campaigns.track: "reads" and/or "clicks"

    @classmethod
    def of(cls, campaign: Mapping[str, Any], subject_prefix: str = "") -> CampaignContent:
        """From a campaigns row (or the campaign as campaigns.get_campaign gives it): what the engine and the
        preview render alike; a test send puts its prefix before the subject. The body (HTML or Markdown) is set
        into the campaign's layout when it has one (`layout_html`, `layout_text`: the row joined to its template), the
        layout's own words in the campaign's `language`."""
        sources = compose(
            campaign["html"],
            campaign["text"],
            campaign.get("body_format") or BodyFormat.HTML,
            campaign.get("layout_html"),
            campaign.get("layout_text"),
            campaign.get("language") or "en",
        )
        return cls(
            campaign["id"],
            subject_prefix + campaign["subject"],
            campaign["from_addr"],
            sources.html,
            sources.text,
            campaign["reply_to"],
            tuple(campaign["track"] or ()),
        )


@dataclass(frozen=True, slots=True)
class Personal:
    """One recipient: the ledger row id, the address and the contact's fields for the templates."""

    recipient_id: int
    email: str
    fields: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # display name; taken from fields (name, or first_name + last_name) when empty


@dataclass(frozen=True, slots=True)
class Links:
    """Per-installation settings that go into every message."""

    secret: str
    bounce_domain: str
    public_url: str = ""


@dataclass(frozen=True, slots=True)
class Rendered:
    envelope_from: str  # the VERP bounce address
    rcpt: str
    data: bytes
    message_id: str


def one_line(value: Any) -> str:
    """A value safe to put in a header: control characters (CR, LF, …) flattened to one space."""
    text = str(value)
    if text.isprintable():  # no control character (none is printable): nothing to flatten, skip the regex
        return text.strip()
    return _CONTROL.sub(" ", text).strip()


def display_name(p: Personal) -> str:
    return _shown_name(p.name, p.fields)


def _shown_name(name: str, fields: Mapping[str, Any] | None) -> str:
    """The name given, else the field `name`, else first_name and last_name: on one line."""
    if name:
        return one_line(name)
    if not fields:
        return ""
    if fields.get("name"):
        return one_line(fields["name"])
    first, last = fields.get("first_name"), fields.get("last_name")
    if first and last:
        return one_line(str(first) + " " + str(last))
    return one_line(first or last or "")


def _names(email: str, name: str, unsubscribe_url: str) -> dict[str, Any]:
    """What a template may use besides the contact's fields (and wins over a field of the same name)."""
    return {"email": email, "name": name, "unsubscribe_url": unsubscribe_url}


def _context(p: Personal, name: str, unsubscribe_url: str) -> dict[str, Any]:
    return {**(p.fields or {}), **_names(p.email, name, unsubscribe_url)}


def _tracked_html(content: CampaignContent, links: Links) -> tuple[str | None, bool]:
    """The HTML template with tracking built in (once per campaign), and whether it needs the token functions."""
    reads, clicks = "reads" in content.track, "clicks" in content.track
    if content.html is None or not links.public_url or not (reads or clicks):
        return content.html, False
    return tracked_template(content.html, base_url=links.public_url, reads=reads, clicks=clicks), True


def _domain_of(addr: str) -> str:
    return parseaddr(addr)[1].rpartition("@")[2] or "localhost"


def _unsubscribe(links: Links, cid: int, rid: int, reply_to: str, reachable: bool) -> tuple[str, str, str | None]:
    """(List-Unsubscribe value, the https URL or mailto for templates, List-Unsubscribe-Post or None).

    The mailto: goes to the bounce domain (`reachable`: it can receive mail), whose mailbox the bounce reader
    reads; while that domain cannot receive mail (not set up), to the campaign's Reply-To or From address
    (`reply_to`), with the token in the Subject (read there too when that mailbox is given to the bounce
    reader), never to an address nobody can reach."""
    token = verp.unsubscribe_token(links.secret, cid, rid)
    if reachable:
        mailto = f"mailto:{verp.UNSUBSCRIBE_PREFIX}{token}@{links.bounce_domain}?subject=unsubscribe"
    else:
        mailto = f"mailto:{reply_to}?subject={verp.UNSUBSCRIBE_SUBJECT.strip()}%20{token}"
    if links.public_url:
        url = f"{links.public_url.rstrip('/')}{UNSUBSCRIBE_PATH}{token}"
        return f"<{url}>, <{mailto}>", url, "List-Unsubscribe=One-Click"
    return f"<{mailto}>", mailto, None


def _plain(text: str, limit: int) -> bool:
    """Safe to send as is: ASCII, short, and nothing a mail reader would decode as an encoded-word."""
    return text.isascii() and len(text) < limit and "=?" not in text


def _encoded(text: str, name: str) -> str:
    """RFC 2047 encoded-words folded to short lines: for non-ASCII, long or encoded-word-like text."""
    return Header(text, "utf-8", header_name=name).encode(linesep="\r\n")


_WORD_BYTES = 39  # of UTF-8 per encoded word: 52 base64 characters, a 64-character word


def _b_words(text: str) -> str:
    """RFC 2047 B-encoded words, one per folded line, never splitting a character: for an unstructured
    header (whitespace between adjacent encoded words is not part of the text). ~4 µs where
    email.header.Header takes ~40."""
    raw, words, i = text.encode("utf-8"), [], 0
    while i < len(raw):
        j = min(i + _WORD_BYTES, len(raw))
        while j < len(raw) and raw[j] & 0xC0 == 0x80:  # a continuation byte: end the word before its character
            j -= 1
        words.append("=?utf-8?b?" + binascii.b2a_base64(raw[i:j], newline=False).decode("ascii") + "?=")
        i = j
    return "\r\n ".join(words)


@lru_cache(maxsize=4096)
def _subject_header(subject: str) -> bytes:
    if _plain(subject, 900):
        return b"Subject: " + subject.encode() + b"\r\n"
    return ("Subject: " + _b_words(subject) + "\r\n").encode()


_SPECIALS = re.compile(r'[][\\()<>@,:;".]')  # what makes formataddr quote a name (and escape \ and ")


def _to_header(name: str, addr: str) -> bytes:
    """The To header; not cached, since each recipient's differs."""
    if not addr.isascii():
        # RFC 6532: the address goes in the header as UTF-8 (the relay sends it with SMTPUTF8); the
        # name stays an encoded word, which SMTPUTF8 readers still decode.
        if not name:
            shown = ""
        elif _plain(name, 200):  # quoted as formataddr would, which refuses the non-ASCII address itself
            shown = formataddr((name, "a@b"))[: -len("<a@b>")]
        else:
            shown = _encoded(name, "To") + " "
        return ("To: " + shown + "<" + addr + ">\r\n").encode("utf-8")
    if not name:
        return ("To: " + addr + "\r\n").encode("ascii", "backslashreplace")
    if _plain(name, 200):
        if _SPECIALS.search(name) is None:  # formataddr's result without its checks and its regex (~1.7 µs)
            return ("To: " + name + " <" + addr + ">\r\n").encode("ascii")
        return ("To: " + formataddr((name, addr)) + "\r\n").encode("ascii", "backslashreplace")
    return ("To: " + _encoded(name, "To") + " <" + addr + ">\r\n").encode("ascii", "backslashreplace")


_B64_LINE = 76
_LONG = 990  # characters: a 7bit line this long or longer goes as base64 (RFC 5322 allows 998 and CRLF)


def _short_lines(data: bytes) -> bool:
    """Whether every line of `data` (LF-separated) is shorter than _LONG. A step per window of _LONG bytes, not
    per line: the last LF within each window starts the next one, so only a line that fills a window is long."""
    start, end = 0, len(data)
    while end - start >= _LONG:
        lf = data.rfind(b"\n", start, start + _LONG)
        if lf < 0:
            return False
        start = lf + 1
    return True


def _b64_binascii(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False)


def _b64_encoder() -> Callable[[bytes], bytes]:
    """pybase64's SIMD base64 (~0.3 µs for a 6 KB body, where binascii takes ~7; the bench sends a third of its
    messages in base64), or binascii's, the same bytes, where pybase64 is not installed."""
    try:
        from pybase64 import b64encode
    except ImportError:
        return _b64_binascii
    return b64encode


_b64 = _b64_encoder()


@lru_cache(maxsize=64)
def _b64_lines(count: int) -> struct.Struct:
    """Cuts `count` base64 lines off the front of a buffer in C (a Python slice per line costs 3× as much)."""
    return struct.Struct(f"{_B64_LINE}s" * count)


def _encode(body: str, boundary: bytes | None) -> tuple[bytes, bytes]:
    """(Content-Transfer-Encoding, body bytes with CRLF line ends).

    ASCII with short lines goes as 7bit (readable, free); anything else as base64. For 10 KB, 7bit costs
    ~5 µs and base64 ~10 (most of it the UTF-8 encoding), where quoted-printable through binascii costs ~70.
    A body holding a NUL (not allowed in 7bit) or the MIME boundary (a merge field can) goes as base64 too,
    which has no "-": as 7bit the boundary could end its part and start another. Works on the UTF-8 bytes
    (where CR and LF are only themselves), whose replace and find are cheaper than a str's.
    """
    data = body.encode("utf-8")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if body.isascii() and b"\x00" not in data and (boundary is None or boundary not in data) and _short_lines(data):
        if data.endswith(b"\n"):
            data = data[:-1]  # the skeleton already ends the body with CRLF
        return b"7bit", data.replace(b"\n", b"\r\n")
    data = _b64(data.replace(b"\n", b"\r\n"))
    full = len(data) // _B64_LINE
    lines = _b64_lines(full).unpack_from(data) if full else ()
    if len(data) % _B64_LINE:
        lines += (data[full * _B64_LINE :],)
    return b"base64", b"\r\n".join(lines)


_SPLIT = "\x00sendwell-part\x00"


class _Templates:
    """Subject, text and HTML compiled into one Jinja2 template, so a recipient costs one render (a
    Jinja2 context costs more than a small template); the text parts are not HTML-escaped."""

    def __init__(self, subject: str, text: str | None, html: str | None) -> None:
        self.sources = (subject, text or "", html or "")
        source = (
            "{% autoescape false %}" + subject + _SPLIT + (text or "") + "{% endautoescape %}" + _SPLIT + (html or "")
        )
        self.template = _ENV_HTML.from_string(source)
        used = jinja2.meta.find_undeclared_variables(_ENV_HTML.parse(source))
        self.static = None if used else self.template.render().split(_SPLIT)
        # Template.render builds its context from a ChainMap of the globals, twice a call (a third of the render):
        # flattened once here, then each call makes the context from a plain dict as Template.render would.
        self.globals = dict(self.template.globals)

    def render(self, fields: Mapping[str, Any] | None, extra: dict[str, Any]) -> list[str]:
        """[subject, text, html] for the contact's fields and `extra` (which win over fields of the same name)."""
        if self.static is not None:
            return self.static
        t, env = self.template, self.template.environment
        context = env.context_class(env, {**self.globals, **(fields or {}), **extra}, t.name, t.blocks, self.globals)
        try:
            parts = env.concat(t.root_render_func(context)).split(_SPLIT)
        except Exception:
            env.handle_exception()  # re-raises with the template's lines in the traceback, as Template.render
        if len(parts) != 3:  # a merge field contained the separator: render the parts one by one
            envs = (_ENV_TEXT, _ENV_TEXT, _ENV_HTML)
            ctx = {**(fields or {}), **extra}
            parts = [env.from_string(src).render(ctx) for env, src in zip(envs, self.sources, strict=True)]
        return parts


class PreparedCampaign:
    """A campaign ready to personalise: skeleton bytes cut at the bodies, templates compiled."""

    def __init__(self, content: CampaignContent, links: Links) -> None:
        if content.html is None and content.text is None:
            raise ValueError("a campaign needs an HTML or a text body")
        self.content, self.links = content, links
        html, self.tracking = _tracked_html(content, links)
        self.templates = _Templates(one_line(content.subject), content.text, html)
        self.bodies = [k for k, src in (("text", content.text), ("html", content.html)) if src is not None]
        self._parts = [1 if k == "text" else 2 for k in self.bodies]  # their places in _Templates.render's list
        self.msgid_domain = _domain_of(content.from_addr)
        self.reply_to = parseaddr(content.reply_to or content.from_addr)[1]
        self.reachable = verp.reachable_domain(links.bounce_domain)
        msg = _skeleton(content)
        skeleton = msg.as_bytes(policy=policy.SMTP)
        self.boundary = msg.get_boundary()  # None for a single part
        self._boundary = None if self.boundary is None else self.boundary.encode("ascii")
        # Cut the skeleton at each part's encoding and body: static bytes around each body's (encoding, bytes),
        # statics[2k] before the k-th body's encoding, statics[2k+1] between it and the body, then the last one.
        self.statics: list[bytes] = []
        rest = skeleton
        for kind, marker in _PLACEHOLDER.items():
            if kind in self.bodies:
                before, rest = rest.split(marker, 1)
                head, cte_line, between = before.rpartition(_CTE_QP)
                assert cte_line, "the skeleton names each part's transfer encoding"
                self.statics += [head + b"Content-Transfer-Encoding: ", between]
        self.statics.append(rest)
        self._date = ("", 0.0)

    def _date_header(self) -> str:
        now = int(time.time())
        if self._date[1] != now:  # formatting costs microseconds; one per second is enough
            # a numeric zone (RFC 5322 3.3): "+0000", not the obsolete "GMT" that spam filters score
            self._date = (format_datetime(datetime.fromtimestamp(now, UTC)), now)
        return self._date[0]

    def render(self, p: Personal) -> Rendered:
        return self.render_fields(p.recipient_id, p.email, p.fields, p.name)

    def render_fields(self, rid: int, email: str, fields: Mapping[str, Any] | None, name: str = "") -> Rendered:
        """`render` without building a Personal (a frozen dataclass: ~1 µs), for the sending loop."""
        cid = self.content.id
        unsub, unsub_url, unsub_post = _unsubscribe(self.links, cid, rid, self.reply_to, self.reachable)
        name = _shown_name(name, fields)
        extra = _names(email, name, unsub_url)
        if self.tracking:
            extra.update(tracking_context(secret=self.links.secret, campaign_id=cid, recipient_id=rid))
        parts = self.templates.render(fields, extra)  # subject, text, html
        message_id = msgid.new(cid, rid, self.msgid_domain)
        head = [
            _to_header(name, email),
            _subject_header(one_line(parts[0])),
            f"Date: {self._date_header()}\r\nMessage-ID: {message_id}\r\nList-Unsubscribe: {unsub}\r\n".encode(),
        ]
        if unsub_post:
            head.append(f"List-Unsubscribe-Post: {unsub_post}\r\n".encode())
        statics = self.statics
        for k, part in enumerate(self._parts):
            cte, data = _encode(parts[part], self._boundary)
            head += (statics[2 * k], cte, statics[2 * k + 1], data)
        head.append(statics[-1])
        return Rendered(
            verp.bounce_address(self.links.secret, cid, rid, self.links.bounce_domain),
            email,
            b"".join(head),
            message_id,
        )


def _skeleton(content: CampaignContent) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = content.from_addr
    if content.reply_to:
        msg["Reply-To"] = content.reply_to
    first = True
    for kind, source in (("text", content.text), ("html", content.html)):
        if source is None:
            continue
        add = msg.set_content if first else msg.add_alternative
        add(
            _PLACEHOLDER[kind].decode(),
            subtype="plain" if kind == "text" else "html",
            charset="utf-8",
            cte="quoted-printable",
        )
        first = False
    return msg


def build_message(content: CampaignContent, p: Personal, links: Links, message_id: str) -> EmailMessage:
    """The same message built the plain way (the reference the prepared bytes are tested against)."""
    reply_to = parseaddr(content.reply_to or content.from_addr)[1]
    reachable = verp.reachable_domain(links.bounce_domain)
    unsub, unsub_url, unsub_post = _unsubscribe(links, content.id, p.recipient_id, reply_to, reachable)
    ctx = _context(p, display_name(p), unsub_url)
    html_source, tracking = _tracked_html(content, links)
    if tracking:
        ctx.update(tracking_context(secret=links.secret, campaign_id=content.id, recipient_id=p.recipient_id))
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = content.from_addr
    msg["To"] = formataddr((display_name(p), p.email))
    msg["Subject"] = one_line(_ENV_TEXT.from_string(one_line(content.subject)).render(ctx))
    msg["Message-ID"] = message_id
    msg["List-Unsubscribe"] = unsub
    if unsub_post:
        msg["List-Unsubscribe-Post"] = unsub_post
    if content.reply_to:
        msg["Reply-To"] = content.reply_to
    if content.text is not None:
        msg.set_content(_ENV_TEXT.from_string(content.text).render(ctx), charset="utf-8")
    if content.html is not None:
        assert html_source is not None  # _tracked_html returns the HTML it was given, tracked or not
        html = _ENV_HTML.from_string(html_source).render(ctx)
        if content.text is not None:
            msg.add_alternative(html, subtype="html", charset="utf-8")
        else:
            msg.set_content(html, subtype="html", charset="utf-8")
    return msg
