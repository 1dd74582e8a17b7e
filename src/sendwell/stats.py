"""Campaign statistics and exports: counts by status, the address-error rate, top reasons, server problems.

Server problems (kind `server`) are reported apart from address errors: an outage of our relay says
nothing about the list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Engine, and_, func, select

from sendwell.campaigns import get_campaign
from sendwell.db.engine import as_utc
from sendwell.db.schema import contacts, recipient_display, recipients
from sendwell.model import FailureKind, RecipientStatus, parse_statuses

R = recipients
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


def campaign_stats(engine: Engine, name_or_id: str | int, top: int = 10) -> dict[str, Any]:
    c = get_campaign(engine, name_or_id)
    cid = c["id"]
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
        next_retry = conn.execute(
            select(func.min(R.c.next_attempt_at)).where(
                R.c.campaign_id == cid, R.c.status == RecipientStatus.DEFERRED.value
            )
        ).scalar()
    by_status = dict.fromkeys(STATUSES + (TRACKED if c.get("track") else ()), 0)
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
        "last": c.get("server_problem"),
        "at": as_utc(c.get("server_problem_at")),
    }
    return {
        "id": cid,
        "name": c["name"],
        "state": c["state"],
        "recipients": sum(by_status.values()),
        "started_at": c.get("started_at"),
        "finished_at": c.get("finished_at"),
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
        "tracking": _tracking(engine, cid) if c.get("track") else None,
    }


def _tracking(engine: Engine, campaign_id: int) -> dict[str, Any]:
    from sendwell.tracking.report import tracking_stats

    return tracking_stats(engine, campaign_id)


def iter_recipients(
    engine: Engine, name_or_id: str | int, statuses: str | Iterable[str], batch: int = 5000
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """(columns, rows) of a campaign's recipients in `statuses`, with the contact's fields as columns."""
    wanted = [s.value for s in parse_statuses(statuses)]
    campaign = get_campaign(engine, name_or_id)
    cid, started = campaign["id"], campaign["started_at"]  # the queue time of rows that hold none
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
