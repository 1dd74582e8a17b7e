"""Enums and small frozen values that cross layers, and the one parser of user text into statuses; imports
nothing of sendwell but its errors (a leaf too)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sendwell.errors import UserError


class RecipientStatus(StrEnum):
    """Where one recipient of one campaign stands (see docs/statuses.md)."""

    QUEUED = "queued"
    SENT = "sent"  # accepted by the relay
    DEFERRED = "deferred"  # temporary problem, will be retried
    ERROR = "error"  # the address is bad (5xx for the recipient, or a hard bounce)
    FAILED = "failed"  # permanent, but not the address's fault (policy, retries exhausted)
    SKIPPED = "skipped"  # blacklisted, excluded or invalid at send time
    READ = "read"
    CLICKED = "clicked"


FINAL_STATUSES = frozenset(
    {
        RecipientStatus.SENT,
        RecipientStatus.ERROR,
        RecipientStatus.FAILED,
        RecipientStatus.SKIPPED,
        RecipientStatus.READ,
        RecipientStatus.CLICKED,
    }
)


def parse_statuses(
    value: str | Iterable[str], *, field: str = "statuses", allowed: Iterable[RecipientStatus] = tuple(RecipientStatus)
) -> list[RecipientStatus]:
    """Statuses a person named — a comma list ("error,failed"), or a list of names, each of which may itself be a
    comma list (repeated form or query fields) — in the order given, once each. Every front end and every service
    that selects recipients by status reads them here, so a typo is an error naming `field` and the valid names,
    never a silently empty selection."""
    valid = {s.value: s for s in allowed}
    items = value.split(",") if isinstance(value, str) else [part for v in value for part in str(v).split(",")]
    names = list(dict.fromkeys(n.strip().lower() for n in items if n.strip()))
    bad = [n for n in names if n not in valid]
    if bad or not names:
        what = f"{', '.join(map(repr, bad))} {'is not a status' if len(bad) == 1 else 'are not statuses'}"
        raise UserError(f"{what if bad else 'no status given'}; choose from {', '.join(valid)}", field=field)
    return [valid[n] for n in names]


class FailureKind(StrEnum):
    """Who is to blame for a non-delivery; only RECIPIENT counts as an address error."""

    RECIPIENT = "recipient"  # the mailbox or domain does not exist
    MAILBOX_FULL = "mailbox_full"
    SERVER = "server"  # our relay or the network: connection, 421, auth, TLS, timeout
    POLICY = "policy"  # our message was refused for spam/policy/content
    THROTTLED = "throttled"
    BLACKLISTED = "blacklisted"
    EXCLUDED = "excluded"
    INVALID = "invalid"
    OTHER = "other"


class CampaignState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # a draft the worker starts at its scheduled_at
    SENDING = "sending"
    PAUSED = "paused"
    FINISHED = "finished"  # every recipient in a final status (docs/statuses.md)
    CANCELLED = "cancelled"


# A phase of `sending`, derived, not stored: nothing is left queued, only deferred recipients wait for a retry.
WAITING_RETRY = "waiting_retry"


class BlacklistReason(StrEnum):
    MANUAL = "manual"
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    INVALID = "invalid"


class Verdict(StrEnum):
    VALID = "valid"
    RISKY = "risky"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class Address(NamedTuple):
    """A syntactically valid address: `key` is what we compare on, `display` what the user typed.

    A NamedTuple, not a dataclass: one is built per imported row, and this is 3× cheaper to build.
    """

    key: str  # local part lower-cased @ IDNA (ASCII) domain lower-cased
    display: str  # the original spelling, trimmed
    domain: str  # ASCII (IDNA) domain, lower-cased


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input line that could not be used, and why."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A row whose address an earlier line of the same file already gave."""

    line: int
    first_line: int
    text: str


class OnDuplicate(StrEnum):
    """What an import does with a row repeating an address of an earlier line of the same file."""

    FIRST = "first"  # the later row is left out
    LAST = "last"  # the later row's non-empty values replace the earlier ones
    MERGE = "merge"  # the later row's non-empty values fill only the fields still empty


@dataclass(slots=True)
class ImportReport:
    """What an import or a bulk change did: counts plus every rejected line (the API's report too)."""

    read: int = 0
    imported: int = 0  # new rows
    merged: int = 0  # rows that updated an existing entry
    blacklisted: int = 0  # imported but suppressed by the black list
    rejected: list[Rejected] = field(default_factory=list)
    suppressed: list[Rejected] = field(default_factory=list)  # good rows that are blacklisted
    warnings: list[Rejected] = field(default_factory=list)  # rows kept with a remark (a missing or extra column)
    duplicates: list[Duplicate] = field(default_factory=list)  # rows repeating an address of an earlier line

    def as_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies, ~18x slower on a report of 100k rejected lines.
        return {
            "read": self.read,
            "imported": self.imported,
            "merged": self.merged,
            "blacklisted": self.blacklisted,
            "rejected": [{"line": r.line, "text": r.text, "reason": r.reason} for r in self.rejected],
            "suppressed": [{"line": r.line, "text": r.text, "reason": r.reason} for r in self.suppressed],
            "warnings": [{"line": r.line, "text": r.text, "reason": r.reason} for r in self.warnings],
            "duplicates": [{"line": d.line, "first_line": d.first_line, "text": d.text} for d in self.duplicates],
        }


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment as lists show it: what it is and how many members it has."""

    id: int
    name: str
    description: str
    created_at: datetime
    members: int
    public: bool  # listed on the preference page behind the unsubscribe link


@dataclass(frozen=True, slots=True)
class SegmentMember:
    email: str  # the comparison key
    display: str  # as it was typed
    added_at: datetime


@dataclass(frozen=True, slots=True)
class SegmentUse:
    """A campaign that sends to (include) or never to (exclude) a segment."""

    campaign: str
    mode: str  # include | exclude


@dataclass(frozen=True, slots=True)
class SegmentShown(Segment):
    """A segment with one page of its members and the campaigns using it."""

    shown: list[SegmentMember]
    campaigns: list[SegmentUse]


# The largest id a row can have on either database (a signed 64-bit integer).
MAX_ROW_ID = 2**63 - 1


def row_id(name_or_id: str | int) -> int | None:
    """The row id a reference spells (`42`, not `4²` nor a number past 64 bits), or None: then it is a name."""
    if isinstance(name_or_id, int):
        return name_or_id if 0 < name_or_id <= MAX_ROW_ID else None
    if name_or_id.isascii() and name_or_id.isdigit() and 0 < int(name_or_id) <= MAX_ROW_ID:
        return int(name_or_id)
    return None
