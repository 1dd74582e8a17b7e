"""Complaints: RFC 5965 feedback reports, plus the non-standard ones (Hotmail's JMRP, Apple's unsubscribe)."""

from __future__ import annotations

import re

from sendwell.bounces import text as T
from sendwell.bounces.found import Hit, Mail, Partial
from sendwell.bounces.report import MessageKind, Reason

_HOTMAIL_RECIPIENT = re.compile(r"^x-hmxmroriginalrecipient:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_INLINE = re.compile(r"^feedback-type:[ \t]*[\w-]+[ \t]*$", re.IGNORECASE | re.MULTILINE)
_RCPT_TO = re.compile(r"^original-rcpt-to:[ \t]*(.+)$", re.IGNORECASE | re.MULTILINE)
_TO = re.compile(r"^to:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def _complaint(addresses: list[str], feedback_type: str, mail: Mail) -> Partial:
    hits = [Hit(address=a, reason=Reason.FEEDBACK, status="", diagnostic=feedback_type) for a in addresses if a]
    return Partial(
        format="arf", hits=hits, kind=MessageKind.COMPLAINT, feedback_type=feedback_type, original=mail.original
    )


def detect(mail: Mail) -> Partial | None:
    reports = [T.message_text(part) for part in mail.parts_of("message/feedback-report")]
    inline = _INLINE.search(mail.body) if not reports else None
    if inline is not None:  # feedback fields pasted into a text part by a provider that skips the MIME type
        reports.append(mail.body[inline.start() :])
    for report in reports:
        blocks = T.parse_fields(report)
        fields = blocks[0] if blocks else {}
        # RFC 5965 3.2: Original-Rcpt-To may appear once per recipient of the reported message.
        addresses = list(dict.fromkeys(a for a in (T.clean_address(v) for v in _RCPT_TO.findall(report)) if a))
        if not addresses:
            addresses = [T.clean_address(fields.get("removal-recipient", ""))]
        if not addresses[0]:
            m = _TO.search(mail.original)
            addresses = [T.clean_address(m.group(1)) if m else ""]
        return _complaint(addresses, fields.get("feedback-type", "abuse").strip().lower() or "abuse", mail)
    # Hotmail/Outlook.com JMRP: an attached message carrying the complainer's address in a header.
    original = mail.original
    if original and "x-hmxmroriginalrecipient" in original.lower():
        m = _HOTMAIL_RECIPIENT.search(original)
        return _complaint([T.clean_address(m.group(1)) if m else ""], "abuse", mail)
    # Apple Mail's "unsubscribe" button: a message from the subscriber to the List-Unsubscribe mailto.
    if mail.header("X-Apple-Unsubscribe").strip().lower() == "true":
        return _complaint([T.clean_address(mail.header("From"))], "opt-out", mail)
    return None
