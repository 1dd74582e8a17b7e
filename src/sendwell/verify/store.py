"""Verify stored contacts and keep the verdict on each (verdict, reasons, suggestion, verified_at)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, or_, select, update

from sendwell.db.engine import utcnow
from sendwell.db.schema import contacts, segment_members
from sendwell.model import Verdict
from sendwell.verify.run import Verifier, VerifyOptions

BATCH = 5_000  # contacts per round trip; DNS answers are shared across batches
IDS_PER_UPDATE = 900  # stays under SQLite's bound-parameter limit


def _due(now: datetime, max_age_days: float) -> Any:
    # Never checked, checked too long ago, or undecided last time (DNS timed out: try again now).
    cutoff = now - timedelta(days=max_age_days)
    return or_(
        contacts.c.verified_at.is_(None), contacts.c.verified_at < cutoff, contacts.c.verdict == Verdict.UNKNOWN.value
    )


@dataclass(frozen=True, slots=True)
class ContactsVerified:
    """What a run over the stored contacts did."""

    checked: int
    skipped_recent: int  # verified within max_age_days: left alone
    verdicts: dict[str, int]  # {verdict: contacts}


def verify_contacts(
    engine: Engine,
    settings: Any,
    segment: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    options: VerifyOptions | None = None,
    now: datetime | None = None,
    where: Sequence[Any] = (),
    recheck: bool = False,
) -> ContactsVerified:
    """Verify the contacts (of `segment`, if given, and matching the conditions `where` on `contacts`) not verified
    within settings.verify.max_age_days (all of them with `recheck`)."""
    now = now or utcnow()
    options = options or VerifyOptions.from_settings(settings)
    scope = select(contacts.c.id, contacts.c.display)
    if segment is not None:
        from sendwell.segments import segment_id

        with engine.connect() as conn:
            sid = segment_id(conn, segment)
        scope = scope.where(
            contacts.c.email.in_(select(segment_members.c.email).where(segment_members.c.segment_id == sid))
        )
    if where:
        scope = scope.where(*where)
    due = scope if recheck else scope.where(_due(now, settings.verify.max_age_days))
    with engine.connect() as conn:
        in_scope = conn.execute(select(func.count()).select_from(scope.subquery())).scalar_one()
        total = conn.execute(select(func.count()).select_from(due.subquery())).scalar_one()
    verifier = Verifier(options)
    counts: dict[str, int] = {}
    done, last_id = 0, 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(due.where(contacts.c.id > last_id).order_by(contacts.c.id).limit(BATCH)).all()
        if not rows:
            break
        last_id = rows[-1].id
        results = verifier.verify([r.display for r in rows])
        groups: dict[tuple, list[int]] = {}
        for row, result in zip(rows, results, strict=True):
            groups.setdefault(
                (result.verdict.value, tuple(r.value for r in result.reasons), result.suggestion), []
            ).append(row.id)
            counts[result.verdict.value] = counts.get(result.verdict.value, 0) + 1
        _store(engine, groups, now)
        done += len(rows)
        if progress is not None:
            progress(done, total)
    return ContactsVerified(done, in_scope - total, counts)


def _store(engine: Engine, groups: dict[tuple, list[int]], now: datetime) -> None:
    """One UPDATE per distinct (verdict, reasons, suggestion): most contacts share a handful of them."""
    with engine.begin() as conn:
        for (verdict, reasons, suggestion), ids in groups.items():
            for start in range(0, len(ids), IDS_PER_UPDATE):
                chunk = ids[start : start + IDS_PER_UPDATE]
                conn.execute(
                    update(contacts)
                    .where(contacts.c.id.in_(chunk))
                    .values(verdict=verdict, verdict_reasons=list(reasons), suggestion=suggestion, verified_at=now)
                )
