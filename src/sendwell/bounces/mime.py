"""A lean MIME reader: header blocks unfolded, bodies split by boundary, parts decoded only when read.

The stdlib feed parser walks every line of every part in Python, which is most of the time spent
on a bounce; a bounce needs only its own few parts decoded and the returned message's headers.
So each part is a `Part` whose headers are stored exactly as the feed parser would store them (name,
unfolded-at-source value) and whose body stays a string (surrogate-escaped bytes, as the parser
itself keeps them) until someone decodes it with `get_payload(decode=True)`. A `Part` answers the few
calls of `email.message.Message` (compat32) that the classifier makes, with the same results, without
importing the email package: that import alone was a fifth of `sendwell bounces classify`'s start-up.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator

from sendwell.bounces.text import header_str

# The classifier's start-up is paid by every run of `sendwell bounces classify`: `typing` (a few ms) is
# imported for the type checker only (mypy reads TYPE_CHECKING by name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_BAD_NAME = re.compile(r"[\s\x00-\x1f\x7f]")  # a header name has no white space or control characters
_HEAD_END = re.compile(r"\n[ \t]*\n")
_BOUNDARY = re.compile(r"boundary\s*=\s*(?:\"([^\"]*)\"|([^;\s]+))", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)
# A header block made only of "Name: value" lines (names of printable ASCII) and their continuations.
_FIELDS = re.compile(r"(?:[!-9;-~]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*")
_FIELD = re.compile(r"^([!-9;-~]+):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)", re.MULTILINE)
MAX_PARTS = 200  # a pathological message is cut short, not followed


def _has_surrogates(text: str) -> bool:
    try:
        text.encode()
        return False
    except UnicodeEncodeError:
        return True


def _fetch(name: str, value: str) -> Any:
    if _has_surrogates(value):
        from email import charset, header

        return header.Header(value, charset=charset.UNKNOWN8BIT, header_name=name)
    return value


class Part:
    """One MIME part: its headers in order (first of a name wins, as in `Message.get`) and its body as text."""

    __slots__ = ("_headers", "_index", "_payload")

    def __init__(self) -> None:
        self._headers: list[tuple[str, str]] = []
        self._index: dict[str, str] = {}
        self._payload: str = ""

    def set_raw(self, name: str, value: str) -> None:
        self._headers.append((name, value))
        self._index.setdefault(name.lower(), value)

    def set_payload(self, payload: str) -> None:
        self._payload = payload

    def get(self, name: str, failobj: Any = None) -> Any:
        """The first header of that name, as compat32 returns it: a str, or a `Header` when it holds 8-bit bytes."""
        value = self._index.get(name.lower())
        if value is None:
            return failobj
        return _fetch(name, value)

    def items(self) -> list[tuple[str, Any]]:
        return [(name, _fetch(name, value)) for name, value in self._headers]

    def is_multipart(self) -> bool:
        return False  # the parts of a multipart are split from its body on demand (subparts)

    def get_content_type(self) -> str:
        value = self.get("content-type")
        if value is None:
            return "text/plain"
        ctype = str(value).partition(";")[0].strip().lower()
        return ctype if ctype.count("/") == 1 else "text/plain"

    def get_content_maintype(self) -> str:
        return self.get_content_type().split("/")[0]

    def get_payload(self, decode: bool = False) -> Any:
        """The body as text, or with `decode` as bytes undone from its Content-Transfer-Encoding."""
        payload = self._payload
        if _has_surrogates(payload):
            raw = payload.encode("ascii", "surrogateescape")
            if not decode:
                m = _CHARSET.search(header_str(self, "Content-Type"))
                try:
                    return raw.decode(m.group(1) if m else "ascii", "replace")
                except (LookupError, TypeError, ValueError):
                    return raw.decode("ascii", "replace")
        elif not decode:
            return payload
        else:
            try:
                raw = payload.encode("ascii")
            except UnicodeError:
                # Text already decoded (a returned message re-read from a part, say): its characters as UTF-8.
                # Not the email package's raw-unicode-escape, which writes U+FFFD as the letters "\\ufffd", and an
                # address pattern then reads "ufffd@example.com" as a recipient the message never named.
                raw = payload.encode("utf-8")
        cte = str(self.get("content-transfer-encoding", "")).lower()
        if cte == "quoted-printable":
            return binascii.a2b_qp(raw)
        if cte == "base64":
            return _decode_base64(b"".join(raw.splitlines()))
        if cte in ("x-uuencode", "uuencode", "uue", "x-uue"):
            from email.message import _decode_uu  # type: ignore[attr-defined]

            try:
                return _decode_uu(raw)
            except ValueError:
                return raw
        return raw


def _decode_base64(encoded: bytes) -> bytes:
    """Base64 as the email package reads it: missing padding added, stray characters skipped."""
    pad = len(encoded) % 4
    try:
        return binascii.a2b_base64(encoded + (b"==="[: 4 - pad] if pad else b""), strict_mode=True)
    except binascii.Error:
        for attempt in (encoded, encoded + b"=="):
            try:
                return binascii.a2b_base64(attempt)
            except binascii.Error:
                continue
        return encoded


def load(raw: bytes) -> Part:
    """The message with its headers parsed and its body (all parts together) as its payload."""
    return load_text(raw.decode("ascii", "surrogateescape"))


def load_text(text: str) -> Part:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\n"):  # no headers at all: the whole text is the body
        msg = Part()
        msg.set_payload(text[1:])
        return msg
    m = _HEAD_END.search(text)
    head, body = (text[: m.start() + 1], text[m.end() :]) if m else (text, "")
    msg = Part()
    fields = _FIELDS.match(head)
    if fields is not None and fields.end() == len(head):  # every line a well-formed field: no line-by-line walk
        for name, value in _FIELD.findall(head):
            msg.set_raw(name, value)
        msg.set_payload(body)
        return msg
    add = msg.set_raw  # the parser's own entry: stores (name, raw value) as read, as the feed parser does
    name, value = "", ""
    lines = head.split("\n")
    for i, line in enumerate(lines):
        if not line:
            continue
        if line[0] in " \t" and name:  # a folded continuation
            value += "\n" + line
            continue
        colon = line.find(":")
        if colon <= 0 or _BAD_NAME.search(line, 0, colon):
            if i == 0 and line.startswith("From "):  # an mbox separator line
                continue
            body = "\n".join(lines[i:]) + ("\n" + body if body else "")  # no header: the body starts here
            break
        if name:
            add(name, value)
        name, value = line[:colon], line[colon + 1 :].lstrip(" \t")
    if name:
        add(name, value)
    msg.set_payload(body)
    return msg


def _delimiters(body: str, dashed: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end of line, closing?) of each line that is `--boundary` or `--boundary--`, trailing blanks allowed.

    A string search: a regex compiled for each message's boundary cost more than the search itself.
    """
    pos = body.find(dashed)
    while pos >= 0:
        end = body.find("\n", pos)
        if end < 0:
            end = len(body)
        if pos == 0 or body[pos - 1] == "\n":
            rest = body[pos + len(dashed) : end].rstrip(" \t")
            if not rest or rest == "--":
                yield pos, end, rest == "--"
        pos = body.find(dashed, end)


def subparts(msg: Part) -> list[Part] | None:
    """The parts of a multipart, or None when it is not one or its boundary never appears."""
    if msg.get_content_maintype() != "multipart":
        return None
    m = _BOUNDARY.search(header_str(msg, "Content-Type"))
    boundary = (m.group(1) if m.group(1) is not None else m.group(2)).strip() if m else ""
    body = msg.get_payload()
    if not boundary or not isinstance(body, str):
        return None
    parts: list[Part] = []
    start = None
    for begin, end, closing in _delimiters(body, "--" + boundary):
        if start is not None:
            parts.append(load_text(body[start:begin].removesuffix("\n")))
            if len(parts) >= MAX_PARTS:
                break
        if closing:
            start = None
            break
        start = end + 1
    if start is not None and start < len(body):  # no closing delimiter: the last part runs to the end
        parts.append(load_text(body[start:]))
    return parts or None
