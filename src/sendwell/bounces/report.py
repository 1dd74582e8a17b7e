"""What the bounce classifier returns: the message kind, the reason vocabulary and per-recipient results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MessageKind(StrEnum):
    """What a message in the bounce mailbox is; only BOUNCE (and DELAY) describe failed deliveries."""

    BOUNCE = "bounce"  # a non-delivery report: at least one recipient failed
    COMPLAINT = "complaint"  # an ARF feedback report (spam button, unsubscribe via the mailbox provider)
    AUTOREPLY = "autoreply"  # vacation / out-of-office (RFC 3834): not a bounce
    DELIVERED = "delivered"  # a success DSN (Action: delivered/relayed/expanded)
    OTHER = "other"  # an ordinary message (a reply from a person, spam, anything else)


class Reason(StrEnum):
    """Why a delivery failed; the names are Sisimai's so results compare with it (docs/bounces.md)."""

    USERUNKNOWN = "userunknown"
    HOSTUNKNOWN = "hostunknown"
    HASMOVED = "hasmoved"
    NOTACCEPT = "notaccept"
    MAILBOXFULL = "mailboxfull"
    MESGTOOBIG = "mesgtoobig"
    EXCEEDLIMIT = "exceedlimit"
    SUSPEND = "suspend"
    FILTERED = "filtered"
    REJECTED = "rejected"
    BLOCKED = "blocked"
    SPAMDETECTED = "spamdetected"
    VIRUSDETECTED = "virusdetected"
    CONTENTERROR = "contenterror"
    POLICYVIOLATION = "policyviolation"
    SECURITYERROR = "securityerror"
    AUTHFAILURE = "authfailure"
    BADREPUTATION = "badreputation"
    REQUIREPTR = "requireptr"
    FAILEDSTARTTLS = "failedstarttls"
    NOTCOMPLIANTRFC = "notcompliantrfc"
    NORELAYING = "norelaying"
    SYNTAXERROR = "syntaxerror"
    TOOMANYCONN = "toomanyconn"
    SPEEDING = "speeding"
    EXPIRED = "expired"
    NETWORKERROR = "networkerror"
    SYSTEMERROR = "systemerror"
    SYSTEMFULL = "systemfull"
    MAILERERROR = "mailererror"
    SUPPRESSED = "suppressed"
    ONHOLD = "onhold"
    UNDEFINED = "undefined"
    FEEDBACK = "feedback"
    VACATION = "vacation"
    DELIVERED = "delivered"


# The address itself is bad: the only reasons that blacklist it on the first bounce.
ADDRESS_REASONS = frozenset({Reason.USERUNKNOWN, Reason.HOSTUNKNOWN, Reason.HASMOVED})


def is_hard(reason: Reason, status: str) -> bool:
    """True when the address must be removed: it does not exist (notaccept counts only when permanent)."""
    if reason in ADDRESS_REASONS:
        return True
    return reason is Reason.NOTACCEPT and status.startswith("5")


# The reason a report without any recipient stands for (a complaint that names nobody is still a complaint).
KIND_REASONS: dict[MessageKind, str] = {
    MessageKind.COMPLAINT: Reason.FEEDBACK.value,
    MessageKind.AUTOREPLY: Reason.VACATION.value,
    MessageKind.DELIVERED: Reason.DELIVERED.value,
}


@dataclass(frozen=True, slots=True)
class FailedRecipient:
    """One recipient named in a report and what happened to it."""

    address: str
    status: str  # RFC 3463 code, or a pseudo code X.0.9NN when the MTA gave none (see reasons.PSEUDO_STATUS)
    reason: Reason
    hard: bool
    diagnostic: str = ""  # the remote MTA's answer (or the reporting MTA's explanation)
    action: str = ""  # DSN Action: failed, delayed, delivered, ...
    remote_mta: str = ""
    original_recipient: str = ""  # DSN Original-Recipient when it differs: the address we sent to, before forwarding


@dataclass(frozen=True, slots=True)
class OriginalMessage:
    """Headers of the returned message that let us find the campaign recipient it was sent to."""

    message_id: str = ""
    return_path: str = ""  # our VERP bounce address when the MTA kept it
    to: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # X-Sendwell-* headers, names lower-cased


@dataclass(frozen=True, slots=True)
class BounceReport:
    """The classifier's answer for one raw message."""

    kind: MessageKind
    recipients: tuple[FailedRecipient, ...] = ()
    original: OriginalMessage = field(default_factory=OriginalMessage)
    feedback_type: str = ""  # ARF Feedback-Type (abuse, fraud, opt-out, ...) for complaints
    format: str = ""  # which parser recognized it: "rfc3464", "arf", "rfc3834", or a formats/ module name

    @property
    def is_bounce(self) -> bool:
        return self.kind is MessageKind.BOUNCE

    @property
    def first(self) -> FailedRecipient | None:
        return self.recipients[0] if self.recipients else None

    def as_dict(self) -> dict:
        """The scorer's line (file excepted) plus the details, JSON-ready."""
        first = self.first
        return {
            "kind": self.kind.value,
            "recipients": [r.address for r in self.recipients],
            "status": first.status if first else "",
            "reason": first.reason.value if first else KIND_REASONS.get(self.kind),
            "hard": first.hard if first else False,
            "format": self.format,
            "feedback_type": self.feedback_type or None,
            "details": [
                {
                    "address": r.address,
                    "status": r.status,
                    "reason": r.reason.value,
                    "hard": r.hard,
                    "diagnostic": r.diagnostic,
                    "action": r.action,
                    "remote_mta": r.remote_mta,
                    "original_recipient": r.original_recipient or None,
                }
                for r in self.recipients
            ],
            "original": {
                "message_id": self.original.message_id,
                "return_path": self.original.return_path,
                "to": self.original.to,
                "headers": self.original.headers,
            },
        }
