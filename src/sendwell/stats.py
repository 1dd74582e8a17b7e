"""Campaign statistics and exports: counts by status, the address-error rate, top reasons, server problems.

Server problems (kind `server`) are reported apart from address errors: an outage of our relay says
nothing about the list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, select

from sendwell import history
from sendwell.campaigns import AUDIENCE_FIGURES, get_campaign
from sendwell.config import SendingSettings
from sendwell.db.engine import as_utc
from sendwell.db.schema import contacts, recipient_display, recipients
from sendwell.model import WAITING_RETRY, CampaignState, FailureKind, RecipientStatus, parse_statuses
from sendwell.tracking.report import TrackingStats, tracking_stats

R = recipients
PROBLEM_ACTIONS = (history.SERVER_PROBLEM, history.SERVER_PROBLEM_OVER)
DEFAULT_HORIZON = SendingSettings.retry_horizon_hours
STATUSES = ("queued", "sent", "deferred", "error", "failed", "skipped")
TRACKED = ("read", "clicked")  # listed too when the campaign tracks reads or clicks
EXPORT_COLUMNS = [
    "email",
    "display",
    "status",
    "kind",
    "reason",
    "smtp_code",
    "enhanced_code",
    "smtp_answer",
    "attempts",
    "queued_at",
    "sent_at",
    "updated_at",
    "next_attempt_at",
    "message_id",
]


@dataclass(frozen=True, slots=True)
class TopError:
    """Recipients in error with the same reason and codes."""

    reason: str | None
    smtp_code: int | None
    enhanced_code: str | None
    count: int
    example: str | None  # one of the server's answers


@dataclass(frozen=True, slots=True)
class TopOther:
    """Failed or deferred recipients with the same kind, reason and codes."""

    status: str
    kind: str | None
    reason: str | None
    smtp_code: int | None
    enhanced_code: str | None
    count: int
    example: str | None


@dataclass(frozen=True, slots=True)
class ProblemEvent:
    at: datetime
    action: str  # history.SERVER_PROBLEM or SERVER_PROBLEM_OVER
    summary: str


@dataclass(frozen=True, slots=True)
class ServerProblems:
    """The relay's or server's problems: apart from address errors (an outage says nothing about the list)."""

    deferred: int
    failed: int
    last: str | None
    at: datetime | None
    current: bool
    history: list[ProblemEvent]  # oldest first


@dataclass(frozen=True, slots=True)
class WaitingRetry:
    count: int  # deferred recipients
    next_at: datetime | None
    until: datetime | None  # when the last of them is given up


@dataclass(frozen=True, slots=True)
class CampaignStats:
    id: int
    name: str
    state: CampaignState
    recipients: int
    started_at: datetime | None
    finished_at: datetime | None
    by_status: dict[str, int]  # STATUSES (and TRACKED when it tracks) → recipients
    by_kind: dict[str, dict[str, int]]  # status → failure kind → recipients
    error_rate: float  # address errors over the recipients reached
    address_errors: int
    top_errors: list[TopError]
    top_other: list[TopOther]  # failed and deferred, server problems apart
    server_problems: ServerProblems
    next_retry_at: datetime | None
    phase: str  # the state, or WAITING_RETRY
    waiting_retry: WaitingRetry | None
    audience: dict[str, int | None] | None  # campaigns.AUDIENCE_FIGURES kept when it was resolved
    tracking: TrackingStats | None


def campaign_stats(
    engine: Engine, name_or_id: str | int, top: int = 10, *, retry_horizon_hours: float = DEFAULT_HORIZON
) -> CampaignStats:
    """`retry_horizon_hours`: how long after it was queued a deferred recipient is given up (the settings')."""
    c = get_campaign(engine, name_or_id)
    cid = c.id
    with engine.connect() as conn:
        by_sk = conn.execute(
            select(R.c.status, R.c.kind, func.count()).where(R.c.campaign_id == cid).group_by(R.c.status, R.c.kind)
        ).all()
        # By reason (the bounce vocabulary, the same names as DSNs give) and code, with one answer as example.
        top_errors = conn.execute(
            select(R.c.reason, R.c.smtp_code, R.c.enhanced_code, func.count().label("n"), func.min(R.c.smtp_answer))
            .where(R.c.campaign_id == cid, R.c.status == RecipientStatus.ERROR.value)
            .group_by(R.c.reason, R.c.smtp_code, R.c.enhanced_code)
            .order_by(func.count().desc())
            .limit(top)
        ).all()
        top_other = conn.execute(
            select(
                R.c.status,
                R.c.kind,
                R.c.reason,
                R.c.smtp_code,
                R.c.enhanced_code,
                func.count().label("n"),
                func.min(R.c.smtp_answer),
            )
            .where(
                R.c.campaign_id == cid,
                R.c.status.in_([RecipientStatus.FAILED.value, RecipientStatus.DEFERRED.value]),
                R.c.kind != FailureKind.SERVER.value,
            )
            .group_by(R.c.status, R.c.kind, R.c.reason, R.c.smtp_code, R.c.enhanced_code)
            .order_by(func.count().desc())
            .limit(top)
        ).all()
        next_retry, last_queued = conn.execute(
            select(func.min(R.c.next_attempt_at), func.max(R.c.queued_at)).where(
                R.c.campaign_id == cid, R.c.status == RecipientStatus.DEFERRED.value
            )
        ).one()
    by_status = dict.fromkeys(STATUSES + (TRACKED if c.track else ()), 0)
    by_kind: dict[str, dict[str, int]] = {}
    for status, kind, n in by_sk:
        by_status[status] = by_status.get(status, 0) + n
        if kind:
            by_kind.setdefault(status, {})[kind] = n
    delivered = sum(by_status.get(s, 0) for s in ("sent", "read", "clicked"))
    address_errors = by_kind.get("error", {}).get(FailureKind.RECIPIENT.value, 0)
    reached = delivered + by_status["error"]
    server = ServerProblems(
        by_kind.get("deferred", {}).get("server", 0),
        by_kind.get("failed", {}).get("server", 0),
        c.server_problem,
        as_utc(c.server_problem_at),
        c.server_problem is not None,
        [
            ProblemEvent(as_utc(h.at), h.action, h.summary)
            for h in reversed(history.of_campaign(engine, cid, limit=50, actions=PROBLEM_ACTIONS))
        ],
    )
    last_try = as_utc(last_queued or c.started_at)
    until = last_try + timedelta(hours=retry_horizon_hours) if last_try else None
    return CampaignStats(
        id=cid,
        name=c.name,
        state=c.state,
        recipients=sum(by_status.values()),
        started_at=c.started_at,
        finished_at=c.finished_at,
        by_status=by_status,
        by_kind=by_kind,
        error_rate=round(address_errors / reached, 4) if reached else 0.0,
        address_errors=address_errors,
        top_errors=[TopError(why, code, enh, n, ans) for why, code, enh, n, ans in top_errors],
        top_other=[TopOther(*row) for row in top_other],
        server_problems=server,
        next_retry_at=as_utc(next_retry),
        phase=phase(c.state, by_status),
        waiting_retry=WaitingRetry(by_status["deferred"], as_utc(next_retry), until) if by_status["deferred"] else None,
        audience={k: (c.audience or {}).get(k) for k in AUDIENCE_FIGURES} if c.audience else None,
        tracking=tracking_stats(engine, cid) if c.track else None,
    )


def phase(state: str, by_status: dict[str, int]) -> str:
    """The campaign's state as a person reads it: `sending` splits in two once nothing is left to send now but
    deferred recipients wait for their retry (`waiting_retry`, docs/statuses.md); every other state is itself."""
    if state == CampaignState.SENDING and by_status.get("deferred") and not by_status.get("queued"):
        return WAITING_RETRY
    return state


def phase_line(stats: CampaignStats, when: Callable[[datetime | None], str]) -> str:
    """One line for people: `finished sending, 2 waiting for retry until …` (`when` formats a time)."""
    if stats.phase == WAITING_RETRY and (w := stats.waiting_retry):
        return f"finished sending, {w.count} waiting for retry until {when(w.until)}"
    if stats.phase == CampaignState.SENDING and stats.by_status.get("deferred"):
        return f"sending ({stats.by_status['deferred']} deferred, next retry {when(stats.next_retry_at)})"
    return str(stats.phase)


def iter_recipients(
    engine: Engine, name_or_id: str | int, statuses: str | Iterable[str], batch: int = 5000
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """(columns, rows) of a campaign's recipients in `statuses`, with the contact's fields as columns."""
    wanted = [s.value for s in parse_statuses(statuses)]
    campaign = get_campaign(engine, name_or_id)
    cid, started = campaign.id, campaign.started_at  # the queue time of rows that hold none
    cond = and_(R.c.campaign_id == cid, R.c.status.in_(wanted))
    with engine.connect() as conn:
        keys: dict[str, None] = {}
        for (fields,) in conn.execute(select(contacts.c.fields).join(R, R.c.email == contacts.c.email).where(cond)):
            for k in fields or {}:
                keys.setdefault(k, None)
    field_cols = [k for k in keys if k not in EXPORT_COLUMNS]
    columns = EXPORT_COLUMNS + field_cols

    def rows() -> Iterator[dict[str, Any]]:
        last = 0
        while True:
            with engine.connect() as conn:
                page = conn.execute(
                    select(
                        R.c.id,
                        *[recipient_display if c == "display" else R.c[c] for c in EXPORT_COLUMNS],
                        contacts.c.fields,
                    )
                    .select_from(R.outerjoin(contacts, contacts.c.email == R.c.email))
                    .where(cond, R.c.id > last)
                    .order_by(R.c.id)
                    .limit(batch)
                ).all()
            if not page:
                return
            for r in page:
                row = {c: getattr(r, c) for c in EXPORT_COLUMNS}
                row["queued_at"] = row["queued_at"] or started
                for c in ("queued_at", "sent_at", "updated_at", "next_attempt_at"):
                    row[c] = as_utc(row[c]).isoformat() if row[c] else None
                for k in field_cols:
                    row[k] = (r.fields or {}).get(k)
                yield row
            last = page[-1].id

    return columns, rows()
