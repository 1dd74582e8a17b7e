"""Text helpers shared by every format: decoding parts, finding addresses, status codes and the returned message."""

from __future__ import annotations

import re
from collections.abc import Iterator

# `typing` is for the type checker only (mypy reads TYPE_CHECKING by name): its import slows every start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from email.message import Message

    from sendwell.bounces.mime import Part

# Markers after which a bounce quotes the original message: a dashed rule naming it, or a known phrase. Each
# match is held to one line ([^\S\n], not \s), so the pattern is searched over a whole text at once.
ORIGINAL_MARKERS = re.compile(
    r"^[^\S\n]*(?:[-=*_#]{2,}[^\S\n]*.*\b(original|returned|unsent|undelivered|rejected|copy of|headers? of|"
    r"message (text )?follows|your message)|"
    r"below this line is a copy of the message|this is a copy of the message|original message (follows|headers)|"
    r"message headers follow|(un-?sent|returned|rejected) message follows|the header of the original|"
    r"header of the original message|original message header|included is a copy of the message header|"
    r"start of returned message|begin forwarded message|content-type: message/rfc822|"
    r"the first \d+ lines of the message|your message (headers )?follows?|original-message:|"
    r"message headers:|message that could not be delivered:?$|"
    r"^[^\S\n]*-+ ?(original|forwarded) message ?-+)",
    re.IGNORECASE | re.MULTILINE,
)
HEADER_LINE = re.compile(
    r"^(received|return-path|message-id|from|to|subject|date|mime-version|x-[\w-]+|"
    r"content-type|reply-to|delivered-to|dkim-signature|sender):",
    re.IGNORECASE,
)

# Latin, Greek and Cyrillic letters may appear in internationalized addresses (RFC 6531); CJK text often runs
# into an address without a space, so those scripts are left out rather than glued onto the address.
_L = "A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
ADDRESS = re.compile(rf"[{_L}_%+=.'-]+@[{_L}](?:[{_L}-]*[{_L}])?(?:\.[{_L}](?:[{_L}-]*[{_L}])?)+")
# An RFC 3463 code, not part of an IP address or version number.
ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
# A reply code followed by its enhanced code: "550 5.1.1", "550-5.7.1", "550-'5.7.1", "554 #5.1.0".
REPLY_WITH_CODE = re.compile(r"(?<![\d.:/-])[45]\d\d[ -]['\"#]?([45])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
SMTP_REPLY = re.compile(r"(?<![\d.:/-])([245]\d\d)(?:[ -]|$)")
# Addresses that never are a failed recipient.
NOT_RECIPIENT = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|daemon|root|noreply|no-reply|"
    r"double-bounce|abuse|bounce|bounces|nobody)@",
    re.IGNORECASE,
)


_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)


def part_text(part: Message | Part) -> str:
    """The decoded text of one non-multipart part, whatever its declared charset or encoding."""
    try:
        raw = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: fall back to the undecoded text
        raw = None
    if not isinstance(raw, bytes):
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    m = _CHARSET.search(header_str(part, "Content-Type"))
    charset = m.group(1).lower() if m else "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except (LookupError, TypeError, ValueError):  # an unknown charset name, or one with a NUL in it
        return raw.decode("utf-8", errors="replace")


def header_str(msg: Message | Part, name: str) -> str:
    """A header as text: with 8-bit bytes in it the email package hands back a Header object, not a str."""
    value = msg.get(name, "")
    return value if isinstance(value, str) else str(value)


_BLOCK_TAGS = re.compile(r"<(br|p|div|tr|li|table|h\d)\b[^>]*>|</(p|div|tr|li|table|h\d)>", re.IGNORECASE)
_OTHER_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def html_to_text(markup: str) -> str:
    """Rough text of an HTML part (some MTAs send only HTML): block tags become line breaks."""
    import html

    return html.unescape(_OTHER_TAGS.sub("", _BLOCK_TAGS.sub("\n", markup)))


def split_original(text: str) -> tuple[str, str]:
    """(the bounce's own words, the quoted original message) of a plain-text bounce."""
    pos = 0
    while (m := ORIGINAL_MARKERS.search(text, pos)) is not None:
        start = m.start()
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if end - start < 120:  # a marker is a short line of its own, not a sentence that mentions one
            return text[: max(start - 1, 0)], text[end + 1 :]
        pos = end + 1
    lines = text.split("\n")
    # No marker: the original starts at the first block of at least three header lines.
    run = 0
    for i, line in enumerate(lines):
        if HEADER_LINE.match(line):
            run += 1
            if run >= 3:
                start = i - 2
                return "\n".join(lines[:start]), "\n".join(lines[start:])
        elif not line.startswith((" ", "\t")):
            run = 0
    return text, ""


def addresses(text: str) -> list[str]:
    """Addresses in order of appearance, without duplicates, lower-cased."""
    seen: dict[str, None] = {}
    for m in ADDRESS.finditer(text):
        addr = m.group(0).strip(".-'").lower()
        local, _, domain = addr.partition("@")
        if not local or "." not in domain:
            continue
        seen.setdefault(addr, None)
    return list(seen)


def enhanced_status(text: str) -> str:
    """The RFC 3463 code of the remote's answer ("550 5.1.1 ..."), else the first failure code in the text
    (a success code only when there is none), or ''."""
    m = REPLY_WITH_CODE.search(text)
    if m is not None:
        return f"{m.group(1)}.{int(m.group(2))}.{int(m.group(3))}"
    success = ""
    for m in ENHANCED.finditer(text):
        code = f"{m.group(1)}.{int(m.group(2))}.{int(m.group(3))}"
        if m.group(1) != "2":
            return code
        success = success or code
    return success


def smtp_code(text: str) -> str:
    """The first basic SMTP reply code (e.g. 550), or ''."""
    success = ""
    for m in SMTP_REPLY.finditer(text):
        if m.group(1)[0] != "2":
            return m.group(1)
        success = success or m.group(1)
    return success


def clean_address(value: str) -> str:
    """An address from a DSN field or header value: drop `rfc822;`, brackets and comments."""
    value = value.strip()
    if ";" in value:
        value = value.split(";", 1)[1]
    m = ADDRESS.search(value)
    return m.group(0).strip(".").lower() if m else ""


def decode_header(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded; never raises."""
    if "=?" not in value:
        return value
    from email.header import decode_header as _decode

    try:
        out = []
        for chunk, charset in _decode(value):
            if isinstance(chunk, bytes):
                try:
                    out.append(chunk.decode(charset or "ascii", errors="replace"))
                except LookupError:
                    out.append(chunk.decode("utf-8", errors="replace"))
            else:
                out.append(chunk)
        return "".join(out)
    except Exception:  # malformed encoded words: the raw value is still useful
        return value


def message_headers(msg: Message | Part) -> str:
    """The header block of an attached message, as text."""
    lines = []
    for name, value in msg.items():
        try:
            lines.append(f"{name}: {value}")
        except Exception:  # an undecodable header value
            continue
    return "\n".join(lines)


def message_text(part: Message | Part) -> str:
    """The text of a message/* part: the header blocks of the parsed message(s), or the raw text."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n\n".join(message_headers(p) for p in payload if not isinstance(p, str))  # parsed Messages
    return part_text(part).replace("\r\n", "\n")


# The SMTP command the remote answered, as MTAs word it ("in reply to RCPT TO command", ">>> MAIL From:").
_COMMAND = re.compile(
    r"(?:in reply to|after|did not like our|while sending|in response to|>>>|error on|"
    r"smtp command:?|most progress was)\s*"
    r"(?:the )?(?:end of )?(rcpt|mail|data|helo|ehlo|starttls|auth|message|initial connection|"
    r"connect)"
)
# qmail names the step it was at: "Connected to 192.0.2.9 but sender was rejected."
_CONNECTED_BUT = re.compile(r"connected to \S+ but (?:the )?(my name|sender|greeting)")
# RFC 2920: a client that pipelines reads the RCPT replies after sending DATA, and DATA's own reply is this.
_NO_RECIPIENTS = re.compile(r"no (valid )?recipients|need rcpt")
_COMMAND_HINTS = (
    "reply",
    "after",
    "like our",
    "while sending",
    "response",
    ">>>",
    "error on",
    "smtp command",
    "progress was",
    "connected to",
)
_COMMAND_NAMES = {
    "rcpt": "RCPT",
    "mail": "MAIL",
    "data": "DATA",
    "helo": "HELO",
    "ehlo": "HELO",
    "starttls": "STARTTLS",
    "auth": "AUTH",
    "message": "DATA",
    "initial connection": "CONN",
    "connect": "CONN",
    "my name": "HELO",
    "sender": "MAIL",
    "greeting": "CONN",
}


def smtp_command(text: str) -> str:
    """The SMTP command named as the one refused (RCPT, MAIL, DATA, HELO, CONN...), or ''."""
    low = " ".join(text.lower().split())  # MTAs wrap lines anywhere: "(in reply\n    to RCPT TO command)"
    if not any(h in low for h in _COMMAND_HINTS):
        return ""
    m = _COMMAND.search(low) or _CONNECTED_BUT.search(low)
    command = _COMMAND_NAMES.get(m.group(1), "") if m else ""
    if command == "DATA" and _NO_RECIPIENTS.search(low):
        return "RCPT"  # pipelined RCPT refusals read back after DATA, which then found no recipient left
    return command


_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)$")


def parse_fields(text: str) -> list[dict[str, str]]:
    """RFC 3464 field blocks (separated by blank lines) as dicts with lower-cased names; folded lines joined."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current, last = {}, ""
            continue
        if line[:1] in " \t" and last:
            current[last] += " " + line.strip()
            continue
        m = _FIELD.match(line)
        if m:
            last = m.group(1).lower()
            if last in current:  # a repeated field starts a new recipient block in sloppy reports
                if last in ("final-recipient", "original-recipient"):
                    blocks.append(current)
                    current = {}
                else:
                    continue
            current[last] = m.group(2).strip()
        else:
            last = ""
    if current:
        blocks.append(current)
    return blocks


_QUANTIFIER = re.compile(r"[?*+]|\{\d*,?\d*\}")
# One escape, however long: \u043a is one character, not \u followed by the letters "043a".
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|[0-7]{3}|\d{1,2}|.)", re.DOTALL)
# "(?i)", "(?s)"...: a flag that changes what a literal matches, so no literal is required of the pattern.
_INLINE_FLAGS = re.compile(r"\(\?[aiLmsux-]+[):]")


def _tokens(pattern: str) -> Iterator[tuple[str, str]]:
    """The pattern's top-level pieces as (kind, text): "char", "escape", "class" ([...]), "group" ((...)),
    "quantifier", "|", or "other" (., ^, $)."""
    i, n = 0, len(pattern)
    while i < n:
        c, start = pattern[i], i
        if c == "\\":
            kind, i = "escape", _escape_end(pattern, i)
        elif c == "[":
            kind, i = "class", _class_end(pattern, i)
        elif c == "(":
            kind, depth = "group", 0
            while i < n:
                if pattern[i] == "\\":
                    i = _escape_end(pattern, i)
                    continue
                if pattern[i] == "[":
                    i = _class_end(pattern, i)
                    continue
                depth += {"(": 1, ")": -1}.get(pattern[i], 0)
                i += 1
                if depth == 0:
                    break
        elif (q := _QUANTIFIER.match(pattern, i)) is not None:
            i = q.end()
            if pattern[i : i + 1] in ("?", "+"):  # a lazy or possessive quantifier
                i += 1
            kind = "quantifier"
        else:
            kind, i = ("|" if c == "|" else "other" if c in ".^$" else "char"), i + 1
        yield kind, pattern[start:i]


def _escape_end(pattern: str, i: int) -> int:
    m = _ESCAPE.match(pattern, i)
    return m.end() if m else len(pattern)


def _class_end(pattern: str, i: int) -> int:
    """The end of the [...] class opening at i: a ] first in the class is a member, not its end."""
    i += 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i = _escape_end(pattern, i) if pattern[i] == "\\" else i + 1
    return i + 1


def branches(pattern: str) -> list[str]:
    """The pattern's top-level alternatives: split at each `|` outside (...) and [...], escapes honoured."""
    out, current = [], ""
    for kind, text in _tokens(pattern):
        if kind == "|":
            out.append(current)
            current = ""
        else:
            current += text
    out.append(current)
    return out


def required_words(pattern: str) -> tuple[str, ...] | None:
    """Literal strings one of which every match of the pattern contains, or None when there are none.

    Searching many patterns over every bounce is the classifier's main cost, and `word in text` is far
    cheaper than a regex search: a pattern none of whose words is in the text need not run. So each
    alternative gives a word found in every one of its matches: its longest run of plain characters
    outside groups and classes, none made optional by a quantifier; when that run is short, the words of
    a group it cannot skip (`\b(rbl|dnsbl)\b` → rbl, dnsbl). An alternative with neither gives
    None (always run the pattern). Case-sensitive patterns only: an inline flag also gives None.
    """
    if _INLINE_FLAGS.search(pattern):
        return None
    words: list[str] = []
    for branch in branches(pattern):
        found = _branch_words(branch)
        if found is None:
            return None
        words.extend(found)
    return tuple(words)


# A group that matches what it holds: not a lookaround, a conditional or a comment.
_PLAIN_GROUP = re.compile(r"\((?:\?:|\?P<\w+>|(?!\?))")
_ESCAPED_CHARS = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}


def _branch_words(branch: str) -> tuple[str, ...] | None:
    """The words one of which every match of one alternative contains (see required_words)."""
    runs, run = [], ""
    groups: list[tuple[str, ...]] = []  # the words of each group the alternative cannot skip
    group: tuple[str, ...] | None = None  # the words of the group just read, unless a quantifier follows
    for kind, text in _tokens(branch):
        if kind == "quantifier":  # what it quantifies may be absent (or repeated): it leaves the run
            runs.append(run[:-1])
            run, group = "", None
            continue
        if group is not None:
            groups.append(group)
            group = None
        char = text if kind == "char" else _escaped_char(text) if kind == "escape" else None
        if char is not None:
            run += char
            continue
        runs.append(run)
        run = ""
        opening = _PLAIN_GROUP.match(text) if kind == "group" else None
        if opening is not None and text.endswith(")"):
            group = required_words(text[opening.end() : -1])
    if group is not None:
        groups.append(group)
    runs.append(run)
    best = max(runs, key=len)
    if len(best) >= 4 or (len(best) >= 2 and not groups):
        return (best,)
    return min(groups, key=len) if groups else None


def _escaped_char(escape: str) -> str | None:
    """The one character an escape stands for (\\. \\u043a \\n), or None for a class or an assertion (\\d \\b)."""
    code = escape[1:]
    if not code.isalnum():
        return code
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16))
    if len(code) == 3 and code.isdigit():  # octal; one or two digits are a back-reference
        return chr(int(code, 8))
    return _ESCAPED_CHARS.get(code)
