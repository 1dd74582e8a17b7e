"""SMTP reply → (status, kind): one table, read top to bottom, first matching row wins.

The table is the single source of truth: docs/statuses.md renders it (a test checks that every row
is listed there). Its guiding rule: a recipient is marked `error` only when the receiving side said,
at RCPT TO, that this address does not exist. Anything about our own server, relay or network
(connection refused or reset, timeouts, 421, authentication, TLS, MAIL FROM refusals) is `deferred`
with kind `server` and is retried; only when retries run out does it become `failed` — never `error`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sendwell.model import FailureKind as K
from sendwell.model import RecipientStatus as S


class Stage(StrEnum):
    """The step of the SMTP conversation a reply (or a failure) belongs to."""

    CONNECT = "connect"  # TCP connect and the 220 greeting
    HELO = "helo"  # EHLO/HELO
    STARTTLS = "starttls"  # STARTTLS or the implicit TLS handshake of smtps://
    AUTH = "auth"
    MAIL = "mail"  # MAIL FROM
    RCPT = "rcpt"  # RCPT TO
    DATA = "data"  # the DATA command (354 expected)
    EOD = "eod"  # the final answer after the message body


class Problem(StrEnum):
    """Failures that come without an SMTP reply: the connection itself went wrong."""

    REFUSED = "refused"  # nothing listens on the relay's port
    RESET = "reset"  # the connection was dropped or reset
    TIMEOUT = "timeout"  # a step took longer than [smtp] timeout
    TLS = "tls"  # the TLS handshake failed or STARTTLS is not offered
    PROTOCOL = "protocol"  # the server spoke something that is not SMTP


@dataclass(frozen=True, slots=True)
class Reply:
    """What happened to one recipient's delivery attempt."""

    stage: Stage
    code: int | None = None  # the basic SMTP code, e.g. 550
    enhanced: str | None = None  # the RFC 3463 code, e.g. "5.1.1"
    text: str = ""
    problem: Problem | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table. `*` matches anything; codes may be patterns like `5xx` or `5.7.*`."""

    stages: str  # "*" or a comma list of Stage values
    code: str  # "*", "-" (no SMTP reply: a Problem), "5xx", "421", "550,551,553"
    enhanced: str  # "*", "-" (no enhanced code given), "5.1.1,5.1.2", "5.7.*"
    problem: str  # "*" or a Problem value
    status: S
    kind: K
    why: str


SERVER_STAGES = "connect,helo,starttls,auth,mail"

RULES: tuple[Rule, ...] = (
    # Success.
    Rule("eod", "2xx", "*", "*", S.SENT, K.OTHER, "accepted by the relay"),
    # No reply at all: the connection failed. Always our side; retried.
    Rule("*", "-", "-", "refused", S.DEFERRED, K.SERVER, "connection refused: relay down or wrong port"),
    Rule("*", "-", "-", "reset", S.DEFERRED, K.SERVER, "connection dropped or reset"),
    Rule("*", "-", "-", "timeout", S.DEFERRED, K.SERVER, "a step timed out"),
    Rule("*", "-", "-", "tls", S.DEFERRED, K.SERVER, "TLS handshake failed or STARTTLS not offered"),
    Rule("*", "-", "-", "protocol", S.DEFERRED, K.SERVER, "the relay did not speak SMTP"),
    # 421: the server is closing the channel, whatever the stage.
    Rule("*", "421", "*", "*", S.DEFERRED, K.SERVER, "service not available, closing"),
    # Anything before RCPT TO is about our connection, credentials or sender, never the recipient.
    Rule(SERVER_STAGES, "*", "*", "*", S.DEFERRED, K.SERVER, "relay refused us before the recipient was named"),
    # The address does not exist: the only way to `error` at send time.
    Rule(
        "rcpt",
        "5xx",
        "5.1.1,5.1.2,5.1.3,5.1.6,5.1.10",
        "*",
        S.ERROR,
        K.RECIPIENT,
        "bad mailbox, domain, syntax, moved or null MX",
    ),
    Rule("rcpt", "5xx", "5.2.1", "*", S.ERROR, K.RECIPIENT, "mailbox disabled"),
    Rule("rcpt", "5xx", "5.4.4", "*", S.ERROR, K.RECIPIENT, "recipient domain cannot be routed"),
    Rule("rcpt", "550,551,553", "-", "*", S.ERROR, K.RECIPIENT, "mailbox unavailable (no enhanced code)"),
    # A full mailbox exists: soft, retried; after the horizon `failed`/mailbox_full, never `error`.
    Rule("rcpt,data,eod", "4xx,5xx", "4.2.2,5.2.2", "*", S.DEFERRED, K.MAILBOX_FULL, "mailbox full"),
    # Rate limits and greylisting: retried.
    Rule("rcpt,data,eod", "4xx", "4.7.*,4.5.3", "*", S.DEFERRED, K.THROTTLED, "greylisted or rate limited"),
    # Our message was refused for policy, spam or content: permanent, not the address's fault.
    Rule("rcpt,data,eod", "5xx", "5.7.*", "*", S.FAILED, K.POLICY, "refused for policy or spam"),
    Rule("rcpt,data,eod", "5xx", "5.3.4,5.6.*", "*", S.FAILED, K.POLICY, "message too big or bad content"),
    Rule("data,eod", "554", "-", "*", S.FAILED, K.POLICY, "transaction failed (content)"),
    # Any other temporary answer: retried.
    Rule("*", "4xx", "*", "*", S.DEFERRED, K.OTHER, "temporary failure"),
    # Any other permanent answer: `failed`, since we cannot be sure the address is at fault.
    Rule("*", "5xx", "*", "*", S.FAILED, K.OTHER, "permanent failure not attributed to the address"),
    # Anything unforeseen (e.g. a 3xx where 2xx was due): treated as our side's problem.
    Rule("*", "*", "*", "*", S.DEFERRED, K.SERVER, "unexpected answer"),
)


# When a deferred recipient runs out of retries (retry_horizon_hours), it ends here.
EXHAUSTED: dict[K, tuple[S, K]] = {
    K.SERVER: (S.FAILED, K.SERVER),
    K.MAILBOX_FULL: (S.FAILED, K.MAILBOX_FULL),
    K.THROTTLED: (S.FAILED, K.THROTTLED),
    K.OTHER: (S.FAILED, K.OTHER),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    status: S
    kind: K | None  # None for `sent`
    why: str
    rule: int  # index into RULES, for tests and explanations


def _code_matches(pattern: str, code: int | None) -> bool:
    if pattern == "*":
        return True
    if pattern == "-":
        return code is None
    if code is None:
        return False
    text = str(code)
    return any(p == text or (p.endswith("xx") and text[0] == p[0]) for p in pattern.split(","))


def _enhanced_matches(pattern: str, enhanced: str | None) -> bool:
    if pattern == "*":
        return True
    if pattern == "-":
        return not enhanced
    if not enhanced:
        return False
    return any(p == enhanced or (p.endswith(".*") and enhanced.startswith(p[:-1])) for p in pattern.split(","))


def _rule_matches(rule: Rule, reply: Reply) -> bool:
    if rule.stages != "*" and reply.stage.value not in rule.stages.split(","):
        return False
    if rule.problem != "*" and (reply.problem is None or reply.problem.value != rule.problem):
        return False
    if rule.code == "-" and reply.problem is None:
        return False
    return _code_matches(rule.code, reply.code) and _enhanced_matches(rule.enhanced, reply.enhanced)


def classify(reply: Reply) -> Outcome:
    """The status and kind for one delivery attempt (the first matching row of RULES)."""
    for i, rule in enumerate(RULES):
        if _rule_matches(rule, reply):
            kind = None if rule.status is S.SENT else rule.kind
            return Outcome(rule.status, kind, rule.why, i)
    raise AssertionError("RULES ends with a catch-all row")  # pragma: no cover


def exhausted(kind: K | None) -> tuple[S, K]:
    """Where a deferred recipient ends when its retry horizon has passed."""
    return EXHAUSTED.get(kind or K.OTHER, (S.FAILED, K.OTHER))


def render_rule(rule: Rule) -> str:
    """One row of the Markdown table in docs/statuses.md."""
    cells = [
        rule.stages,
        rule.code,
        rule.enhanced,
        rule.problem,
        rule.status.value,
        "" if rule.status is S.SENT else rule.kind.value,
        rule.why,
    ]
    return "| " + " | ".join(f"`{c}`" if i < 6 and c else c for i, c in enumerate(cells)) + " |"


def render_table() -> str:
    head = "| stage | code | enhanced | problem | status | kind | why |\n| --- | --- | --- | --- | --- | --- | --- |"
    return "\n".join([head, *(render_rule(r) for r in RULES)])
