"""A lean MIME reader producing `email.message.Message` objects: header blocks unfolded, bodies split by boundary.

The stdlib feed parser walks every line of every part in Python, which is most of the time spent
on a bounce; a bounce needs only its own few parts decoded and the returned message's headers.
So each part gets a compat32 `Message` whose headers are stored exactly as the feed parser would
store them (name, unfolded-at-source value) and whose body stays a string (surrogate-escaped
bytes, as the parser itself keeps them) until someone decodes it with `get_payload(decode=True)`.
"""

from __future__ import annotations

import re
from email.message import Message

from sendwell.bounces.text import header_str

_BAD_NAME = re.compile(r"[\s\x00-\x1f\x7f]")  # a header name has no white space or control characters
_HEAD_END = re.compile(r"\n[ \t]*\n")
_BOUNDARY = re.compile(r"boundary\s*=\s*(?:\"([^\"]*)\"|([^;\s]+))", re.IGNORECASE)
MAX_PARTS = 200  # a pathological message is cut short, not followed


class Part(Message):
    """A compat32 Message whose header look-ups go through an index built once the part is loaded.

    `Message.get` lower-cases and compares every header name on each call; the classifier asks
    for a few headers many times, and never changes a loaded part (any change drops the index).
    """

    _index: dict[str, str] | None = None

    def get(self, name, failobj=None):
        index = self._index
        if index is None:
            return super().get(name, failobj)
        value = index.get(name.lower())
        if value is None:
            return failobj
        return self.policy.header_fetch_parse(name, value)

    def freeze(self) -> None:
        self._index = {k.lower(): v for k, v in reversed(list(self.raw_items()))}

    def __setitem__(self, name, val):
        self._index = None
        super().__setitem__(name, val)

    def __delitem__(self, name):
        self._index = None
        super().__delitem__(name)

    def replace_header(self, _name, _value):
        self._index = None
        super().replace_header(_name, _value)


def load(raw: bytes) -> Message:
    """The message with its headers parsed and its body (all parts together) as its payload."""
    return load_text(raw.decode("ascii", "surrogateescape"))


def load_text(text: str) -> Message:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\n"):  # no headers at all: the whole text is the body
        msg = Part()
        msg.set_payload(text[1:])
        return msg
    m = _HEAD_END.search(text)
    head, body = (text[: m.start() + 1], text[m.end() :]) if m else (text, "")
    msg = Part()
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
    msg.freeze()
    return msg


def subparts(msg: Message) -> list[Message] | None:
    """The parts of a multipart, or None when it is not one or its boundary never appears."""
    if msg.get_content_maintype() != "multipart":
        return None
    m = _BOUNDARY.search(header_str(msg, "Content-Type"))
    boundary = (m.group(1) if m.group(1) is not None else m.group(2)).strip() if m else ""
    body = msg.get_payload()
    if not boundary or not isinstance(body, str):
        return None
    delimiter = re.compile(r"^--" + re.escape(boundary) + r"(--)?[ \t]*$", re.MULTILINE)
    parts: list[Message] = []
    start = None
    for m in delimiter.finditer(body):
        if start is not None:
            parts.append(load_text(body[start : m.start()].removesuffix("\n")))
            if len(parts) >= MAX_PARTS:
                break
        if m.group(1):  # the closing delimiter
            start = None
            break
        start = m.end() + 1
    if start is not None and start < len(body):  # no closing delimiter: the last part runs to the end
        parts.append(load_text(body[start:]))
    return parts or None
