"""What a format parser hands back before the reason is decided: recipients with their raw evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sendwell.bounces import mime
from sendwell.bounces import text as T
from sendwell.bounces.report import MessageKind, Reason


@dataclass(slots=True)
class Hit:
    """One recipient as a parser found it; empty fields are filled by classify()."""

    address: str
    diagnostic: str = ""
    status: str = ""
    reason: Reason | None = None  # set only when the format itself names the cause
    command: str = ""  # the SMTP command the remote refused: CONN, HELO, MAIL, RCPT, DATA
    action: str = ""
    remote_mta: str = ""
    original_recipient: str = ""


@dataclass(slots=True)
class Partial:
    """A parser's answer: the recipients it found and, when it saw one, the returned message's headers."""

    format: str
    hits: list[Hit] = field(default_factory=list)
    kind: MessageKind = MessageKind.BOUNCE
    feedback_type: str = ""
    original: str = ""  # the returned message (headers at least), as text
    context: str = ""  # the bounce's own words, used when a recipient has no diagnostic of its own


class Mail:
    """A parsed message plus the views every format needs, each computed once."""

    __slots__ = ("msg", "__dict__")

    def __init__(self, msg: mime.Part) -> None:
        self.msg = msg

    def header(self, name: str) -> str:
        value = self.msg.get(name)
        if value is None:
            return ""
        try:
            return str(value)
        except Exception:  # an undecodable header: keep what can be kept
            return ""

    @cached_property
    def head(self) -> str:
        """Sender, subject and the start of the body, lower-cased: where formats look for their signature."""
        return f"{self.sender}\n{self.subject}\n{self.body[:3000]}".lower()

    @cached_property
    def own_addresses(self) -> frozenset[str]:
        """The bounce's own sender and receiver: never a failed recipient."""
        found = (T.clean_address(self.header(name)) for name in ("From", "To", "Return-Path", "Reply-To", "Sender"))
        return frozenset(a for a in found if a)

    @cached_property
    def subject(self) -> str:
        return T.decode_header(self.header("Subject"))

    @cached_property
    def sender(self) -> str:
        return self.header("From").lower()

    @cached_property
    def typed(self) -> list[tuple[str, mime.Part]]:
        """(content type, part) for every part of the bounce itself; attached messages are not descended into."""
        out: list[tuple[str, mime.Part]] = []
        stack = [self.msg]
        while stack and len(out) < mime.MAX_PARTS:
            part = stack.pop()
            ctype = part.get_content_type()
            if " " in ctype or "\n" in ctype:  # "text/plain\n charset=..." with its semicolon missing
                ctype = ctype.split()[0]
            if ctype.startswith("multipart/"):
                children = mime.subparts(part)
                if children is None:  # a multipart whose boundary never came: read it as text
                    ctype = "text/plain"
                else:
                    stack.extend(reversed(children))
            out.append((ctype, part))
        return out

    @property
    def parts(self) -> list[mime.Part]:
        return [part for _, part in self.typed]

    def parts_of(self, *ctypes: str) -> list[mime.Part]:
        return [part for ctype, part in self.typed if ctype in ctypes]

    @cached_property
    def texts(self) -> tuple[str, str]:
        """(the bounce's own text, the returned message as text) from the message's parts."""
        own: list[str] = []
        original: list[str] = []
        for ctype, part in self.typed:
            if ctype in (
                "message/rfc822",
                "text/rfc822-headers",
                "message/rfc822-headers",
                "text/rfc822",
                "message/partial",
                "message/global",
                "message/global-headers",
            ):
                original.append(T.message_text(part))
            elif ctype.startswith("message/"):  # delivery-status, feedback-report: fields as text
                own.append(T.message_text(part))
            elif ctype.startswith("multipart/"):
                continue
            elif ctype == "text/plain" or (ctype == "text/html" and not self.has_plain):
                text = T.part_text(part)
                if ctype == "text/html":
                    text = T.html_to_text(text)
                mine, quoted = T.split_original(text.replace("\r\n", "\n").replace("\r", "\n"))
                own.append(mine)
                if quoted:
                    original.append(quoted)
        return "\n".join(own), "\n".join(original)

    @cached_property
    def has_plain(self) -> bool:
        return any(ctype == "text/plain" for ctype, _ in self.typed)

    @property
    def body(self) -> str:
        return self.texts[0]

    @property
    def original(self) -> str:
        return self.texts[1]
