"""A campaign's history: what was done to it apart from sending to its audience (test sends), kept out of its
statistics, its ledger and the daily limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from sendwell.db.engine import utcnow
from sendwell.db.schema import campaign_history

TEST_SEND = "test_send"


def record(
    conn: Connection, campaign_id: int, action: str, summary: str, detail: dict[str, Any], actor: str = ""
) -> None:
    conn.execute(
        campaign_history.insert().values(
            campaign_id=campaign_id, at=utcnow(), action=action, actor=actor[:200], summary=summary, detail=detail
        )
    )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    at: datetime
    action: str  # test_send
    actor: str
    summary: str  # one line for people
    detail: dict[str, Any]  # the facts (addresses, answers, Message-ID)


def of_campaign(engine: Engine, campaign_id: int, limit: int = 100) -> list[HistoryEntry]:
    """The latest entries first."""
    q = (
        select(campaign_history)
        .where(campaign_history.c.campaign_id == campaign_id)
        .order_by(campaign_history.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [HistoryEntry(r.id, r.at, r.action, r.actor, r.summary, r.detail) for r in conn.execute(q)]
