"""The reasons a check can give and how they combine into one verdict per address (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from sendwell.model import Verdict


class Reason(StrEnum):
    """Why an address is not simply valid; each reason implies a verdict (REASON_VERDICT)."""

    SYNTAX = "syntax"  # not an address we may put in RCPT TO
    NO_DOMAIN = "no_domain"  # the domain does not exist (NXDOMAIN)
    NO_MAIL = "no_mail"  # the domain exists but takes no mail: null MX (RFC 7505), or no MX, A nor AAAA
    MAILBOX_REJECTED = "mailbox_rejected"  # the MX refused the mailbox at RCPT TO (5xx)
    DISPOSABLE = "disposable"  # a throw-away mailbox provider
    ROLE = "role"  # a function, not a person (info@, postmaster@ ...): complaints, no consent
    CATCH_ALL = "catch_all"  # the MX accepts any mailbox, so acceptance proves nothing
    TYPO_SUSPECTED = "typo_suspected"  # the domain looks like a mistyped popular one; see the suggestion
    DNS_UNAVAILABLE = "dns_unavailable"  # DNS timed out or failed (SERVFAIL): try again later
    PROBE_UNDECIDED = "probe_undecided"  # the MX deferred (4xx greylisting), timed out or refused us


REASON_VERDICT: dict[Reason, Verdict] = {
    Reason.SYNTAX: Verdict.INVALID,
    Reason.NO_DOMAIN: Verdict.INVALID,
    Reason.NO_MAIL: Verdict.INVALID,
    Reason.MAILBOX_REJECTED: Verdict.INVALID,
    Reason.DISPOSABLE: Verdict.RISKY,
    Reason.ROLE: Verdict.RISKY,
    Reason.CATCH_ALL: Verdict.RISKY,
    Reason.TYPO_SUSPECTED: Verdict.RISKY,
    Reason.DNS_UNAVAILABLE: Verdict.UNKNOWN,
    Reason.PROBE_UNDECIDED: Verdict.UNKNOWN,
}

# The worst verdict wins. Risky beats unknown: a disposable address whose DNS timed out is still
# known to be disposable, and `--skip risky` must catch it.
SEVERITY: tuple[Verdict, ...] = (Verdict.INVALID, Verdict.RISKY, Verdict.UNKNOWN, Verdict.VALID)


@dataclass(frozen=True, slots=True)
class CheckedAddress:
    """One address's verdict as a reader or a client sees it (Result.checked; `as_dict` writes the same fields)."""

    address: str  # the input, as given
    valid: bool  # sendable as far as we know (valid, risky or unknown)
    verdict: Verdict
    reasons: list[Reason]
    suggestion: str | None  # a corrected address, offered, never applied
    normalized: str | None  # the comparison key, None when the syntax is invalid
    detail: str


class Result(NamedTuple):
    """The verdict on one input address, with every reason found and a suggestion if any.

    A NamedTuple rather than a dataclass: a million of them are made per million addresses checked.
    """

    address: str  # the input, as given
    key: str | None  # the normalized address, None when the syntax is invalid
    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
    suggestion: str | None = None  # a corrected address, offered, never applied
    detail: str = ""  # for people: why the syntax failed, what the DNS or MX said

    @property
    def valid(self) -> bool:
        """Sendable as far as we know (valid, risky or unknown)."""
        return self.verdict is not Verdict.INVALID

    def checked(self) -> CheckedAddress:
        return CheckedAddress(
            self.address, self.valid, self.verdict, list(self.reasons), self.suggestion, self.key, self.detail
        )

    def as_dict(self) -> dict[str, Any]:
        """`checked()` as JSON-ready values, built by hand: the CLI writes one per address of lists of millions."""
        return {
            "address": self.address,
            "valid": self.valid,
            "verdict": self.verdict.value,
            "reasons": [r.value for r in self.reasons],
            "suggestion": self.suggestion,
            "normalized": self.key,
            "detail": self.detail,
        }


def verdict_of(reasons: Iterable[Reason]) -> Verdict:
    found = {REASON_VERDICT[r] for r in reasons}
    for verdict in SEVERITY:
        if verdict in found:
            return verdict
    return Verdict.VALID


def combine(
    address: str, key: str | None, reasons: Iterable[Reason], suggestion: str | None = None, detail: str = ""
) -> Result:
    """One Result from the reasons of every check (duplicates dropped, order kept)."""
    unique = tuple(dict.fromkeys(reasons))
    return Result(address, key, verdict_of(unique), unique, suggestion, detail)
