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


# "5.1.0 - Unknown address error 550-'5.7.1 Access denied'": a relay's code and its name for it, then the
# answer of the server that refused, with a code of its own (which is the status read from this text).
_LABELLED = re.compile(r"[245]\.\d{1,3}\.\d{1,3} .*?(?<![\d.:/-])([45]\d\d[ -]['\"#]?[45]\.\d{1,3}\.\d{1,3})")


def other_subject(status: str) -> bool:
    """Whether an RFC 3463 code names a subject other than addressing (X.2 mailbox ... X.7 security):
    not X.0 (undefined) nor X.1 (address)."""
    return len(status) >= 5 and status[0] in "45" and status[1] == "." and status[2] not in "01" and status[3] == "."


def _not_the_address(status: str, command: str, by_text: Reason | None) -> bool:
    """Whether an "unknown user" answer is a filter speaking rather than a mailbox that does not exist."""
    # Accepted at RCPT TO, refused after the data: unless the code says the mailbox (5.1.x).
    if command == "DATA":
        return not status.startswith("5.1.")
    # The words alone, under a code whose subject is not the address (5.2.1 mailbox disabled, 5.3.0 system),
    # and nothing shows the answer came at RCPT: the code, which the server chose, names another cause.
    return by_text is Reason.USERUNKNOWN and command != "RCPT" and other_subject(status)


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
    norm = reasons.normalize(mask(text))
    relayed = _LABELLED.match(norm)
    if relayed is not None:  # a relay's label of its own code, then the remote's answer: the answer speaks
        reason, by_text = reasons.decide_normalized(status, norm[relayed.start(1) :], command)
        if by_text is not None:
            return _by_stage(reason, by_text, status, command), by_text
    reason, by_text = reasons.decide_normalized(status, norm, command)
    return _by_stage(reason, by_text, status, command), by_text


def _by_stage(reason: Reason, by_text: Reason | None, status: str, command: str) -> Reason:
    if reason is Reason.USERUNKNOWN and _not_the_address(status, command, by_text):
        return Reason.FILTERED
    return reason
