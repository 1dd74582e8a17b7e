"""List hygiene policy (pure): what a recorded bounce, complaint or unsubscribe does to an address.

A table from bounce reason to (recipient status, kind, what happens to the address), and the
soft-bounce score. Events are recorded first (events.py) and this policy is applied to them, so
every decision can be explained and replayed: DSNs, webhooks, complaints, unsubscribes and the
receiving server's live refusals during a send alike (the engine never writes the black list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sendwell.config import BounceSettings
from sendwell.model import BlacklistReason, FailureKind, RecipientStatus


class AddressAction(StrEnum):
    SUPPRESS = "suppress"  # blacklist now
    SCORE = "score"  # add to the soft-bounce score; blacklist past the threshold
    NONE = "none"  # not the address's fault: counts against the campaign and the sender only


@dataclass(frozen=True, slots=True)
class Decision:
    status: RecipientStatus | None  # new status of the campaign recipient, None = leave it
    kind: FailureKind | None
    action: AddressAction
    blacklist_reason: BlacklistReason | None = None


_HARD = Decision(RecipientStatus.ERROR, FailureKind.RECIPIENT, AddressAction.SUPPRESS, BlacklistReason.HARD_BOUNCE)
_FULL = Decision(RecipientStatus.FAILED, FailureKind.MAILBOX_FULL, AddressAction.SCORE)
_POLICY = Decision(RecipientStatus.FAILED, FailureKind.POLICY, AddressAction.NONE)
_TRANSIENT = Decision(RecipientStatus.FAILED, FailureKind.OTHER, AddressAction.SCORE)
_THROTTLED = Decision(RecipientStatus.FAILED, FailureKind.THROTTLED, AddressAction.NONE)  # our sending pace
_IGNORE = Decision(None, None, AddressAction.NONE)

# Bounce reason (Sisimai's vocabulary, docs/bounces.md) -> decision. Only a bad address is suppressed
# at once; a refusal of our message (spam, policy, reputation) is never blamed on the recipient.
BOUNCE_POLICY: dict[str, Decision] = {
    "userunknown": _HARD,
    "hostunknown": _HARD,
    "hasmoved": _HARD,
    "notaccept": _HARD,  # a null MX / "accepts no mail" domain; 4xx notaccept is treated as transient below
    "mailboxfull": _FULL,
    "exceedlimit": _FULL,
    "suspend": _TRANSIENT,  # disabled mailbox: often comes back, often not; the score decides
    "systemfull": _TRANSIENT,
    "expired": _TRANSIENT,
    "networkerror": _TRANSIENT,
    "systemerror": _TRANSIENT,
    "mailererror": _TRANSIENT,
    "toomanyconn": _THROTTLED,
    "speeding": _THROTTLED,
    "suppressed": _TRANSIENT,
    "onhold": _TRANSIENT,
    "undefined": _TRANSIENT,
    "filtered": _POLICY,
    "rejected": _POLICY,
    "blocked": _POLICY,
    "spamdetected": _POLICY,
    "virusdetected": _POLICY,
    "contenterror": _POLICY,
    "policyviolation": _POLICY,
    "securityerror": _POLICY,
    "authfailure": _POLICY,
    "badreputation": _POLICY,
    "requireptr": _POLICY,
    "failedstarttls": _POLICY,
    "notcompliantrfc": _POLICY,
    "norelaying": _POLICY,
    "syntaxerror": _POLICY,
    "mesgtoobig": _POLICY,
    "delivered": _IGNORE,
    "vacation": _IGNORE,
    "feedback": _IGNORE,
}

COMPLAINT = Decision(None, None, AddressAction.SUPPRESS, BlacklistReason.COMPLAINT)
UNSUBSCRIBE = Decision(None, None, AddressAction.SUPPRESS, BlacklistReason.UNSUBSCRIBE)


def decide_bounce(reason: str, status_code: str, hard: bool) -> Decision:
    """The decision for one failed recipient of a bounce."""
    if hard:
        return _HARD
    decision = BOUNCE_POLICY.get(reason, _TRANSIENT)
    if decision is _HARD:  # e.g. notaccept with a 4xx code: not proven dead yet
        return _TRANSIENT
    return decision


@dataclass(frozen=True, slots=True)
class Score:
    value: float
    first_bounce_at: datetime | None
    last_bounce_at: datetime | None


def add_soft_bounce(previous: Score, now: datetime, policy: BounceSettings) -> tuple[Score, bool]:
    """Apply one soft bounce; returns the new score and whether the address is now to be blacklisted.

    +step at most once a day; a score untouched for `soft_stale_days` starts again from zero; the
    threshold must be reached within `soft_window_days` of the first counted bounce.
    """
    value, first, last = previous.value, previous.first_bounce_at, previous.last_bounce_at
    if last is None or now - last > timedelta(days=policy.soft_stale_days):
        value, first, last = 0.0, now, None
    if last is None or now - last >= timedelta(days=1):
        value += policy.soft_score_step
        last = now
    first = first or now
    within = now - first <= timedelta(days=policy.soft_window_days)
    return Score(value, first, last), within and value >= policy.soft_threshold


def after_clean_delivery() -> Score:
    """A delivery that did not bounce resets the score."""
    return Score(0.0, None, None)
