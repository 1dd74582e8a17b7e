"""Campaign statistics and exports: counts by status, the address-error rate, top reasons, server problems.

Server problems (kind `server`) are reported apart from address errors: an outage of our relay says
nothing about the list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, select

from sendwell import history
from sendwell.campaigns import AUDIENCE_FIGURES, get_campaign
from sendwell.config import SendingSettings
from sendwell.db.engine import as_utc
from sendwell.db.schema import contacts, recipient_display, recipients
from sendwell.model import WAITING_RETRY, CampaignState, FailureKind, RecipientStatus, parse_statuses

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


def campaign_stats(
    engine: Engine, name_or_id: str | int, top: int = 10, *, retry_horizon_hours: float = DEFAULT_HORIZON
) -> dict[str, Any]:
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
    server = {
        "deferred": by_kind.get("deferred", {}).get("server", 0),
        "failed": by_kind.get("failed", {}).get("server", 0),
        "last": c.server_problem,
        "at": as_utc(c.server_problem_at),
        "current": c.server_problem is not None,
        "history": [
            {"at": as_utc(h.at), "action": h.action, "summary": h.summary}
            for h in reversed(history.of_campaign(engine, cid, limit=50, actions=PROBLEM_ACTIONS))
        ],
    }
    last_try = as_utc(last_queued or c.started_at)
    until = last_try + timedelta(hours=retry_horizon_hours) if last_try else None
    return {
        "id": cid,
        "name": c.name,
        "state": c.state,
        "recipients": sum(by_status.values()),
        "started_at": c.started_at,
        "finished_at": c.finished_at,
        "by_status": by_status,
        "by_kind": by_kind,
        "error_rate": round(address_errors / reached, 4) if reached else 0.0,
        "address_errors": address_errors,
        "top_errors": [
            {"reason": why, "smtp_code": code, "enhanced_code": enh, "count": n, "example": ans}
            for why, code, enh, n, ans in top_errors
        ],
        "top_other": [
            {
                "status": st,
                "kind": kind,
                "reason": why,
                "smtp_code": code,
                "enhanced_code": enh,
                "count": n,
                "example": ans,
            }
            for st, kind, why, code, enh, n, ans in top_other
        ],
        "server_problems": server,
        "next_retry_at": as_utc(next_retry),
        "phase": phase(c.state, by_status),
        "waiting_retry": {"count": by_status["deferred"], "next_at": as_utc(next_retry), "until": until}
        if by_status["deferred"]
        else None,
        "audience": {k: (c.audience or {}).get(k) for k in AUDIENCE_FIGURES} if c.audience else None,
        "tracking": _tracking(engine, cid) if c.track else None,
    }


def phase(state: str, by_status: dict[str, int]) -> str:
    """The campaign's state as a person reads it: `sending` splits in two once nothing is left to send now but
    deferred recipients wait for their retry (`waiting_retry`, docs/statuses.md); every other state is itself."""
    if state == CampaignState.SENDING and by_status.get("deferred") and not by_status.get("queued"):
        return WAITING_RETRY
    return state


def phase_line(stats: dict[str, Any], when: Callable[[datetime | None], str]) -> str:
    """One line for people: `finished sending, 2 waiting for retry until …` (`when` formats a time)."""
    if stats["phase"] == WAITING_RETRY:
        w = stats["waiting_retry"]
        return f"finished sending, {w['count']} waiting for retry until {when(w['until'])}"
    if stats["phase"] == CampaignState.SENDING and stats["by_status"].get("deferred"):
        return f"sending ({stats['by_status']['deferred']} deferred, next retry {when(stats['next_retry_at'])})"
    return str(stats["phase"])


def _tracking(engine: Engine, campaign_id: int) -> dict[str, Any]:
    from sendwell.tracking.report import tracking_stats

    return tracking_stats(engine, campaign_id)


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
