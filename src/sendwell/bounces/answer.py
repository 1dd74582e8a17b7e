"""One SMTP answer → its reason: the rule shared by a live refusal at RCPT/DATA and a DSN's Diagnostic-Code (pure).

The same words get the same reason name wherever they arrive, so the ledger, the statistics, the
exports and the black list name one fact one way (`userunknown`, `mailboxfull`, ...).
"""

from __future__ import annotations

import re

from sendwell.bounces import reasons
from sendwell.bounces import text as T
from sendwell.bounces.report import Reason

_URL_FRAGMENT = re.compile(r"(\b(?:https?|ftp)://[^\s#]+)#\S*", re.IGNORECASE)


def mask(text: str) -> str:
    """The answer without addresses or URL fragments, whose words ("filtered@", "#blocked") would mislead."""
    if "@" in text:
        text = T.ADDRESS.sub(" <addr> ", text)
    if "://" in text:
        text = _URL_FRAGMENT.sub(r"\1", text)
    return text


def judge(status: str, text: str, command: str = "") -> tuple[Reason, Reason | None]:
    """The reason for an answer given to `command` (RCPT, DATA, ... or '' when unknown), and what its words
    alone said (None: nothing the vocabulary knows)."""
    reason, by_text = reasons.decide_normalized(status, reasons.normalize(mask(text)), command)
    # Accepted at RCPT TO, refused after the data: a filter speaking, unless the code says the mailbox (5.1.x).
    if reason is Reason.USERUNKNOWN and command == "DATA" and not status.startswith("5.1."):
        reason = Reason.FILTERED
    return reason, by_text
