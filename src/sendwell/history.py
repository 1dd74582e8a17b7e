"""A campaign's history: what was done to it apart from sending to its audience (test sends) and the server
problems it met (each one, and when it was over), kept out of its statistics, its ledger and the daily limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, true

from sendwell.db.engine import utcnow
from sendwell.db.schema import campaign_history

TEST_SEND = "test_send"
SERVER_PROBLEM = "server_problem"  # the relay or the network failed (the summary says how)
SERVER_PROBLEM_OVER = "server_problem_over"  # a later message was accepted: the problem is no longer current


def record(
    conn: Connection,
    campaign_id: int,
    action: str,
    summary: str,
    detail: dict[str, Any],
    actor: str = "",
    at: datetime | None = None,
) -> None:
    conn.execute(
        campaign_history.insert().values(
            campaign_id=campaign_id, at=at or utcnow(), action=action, actor=actor[:200], summary=summary, detail=detail
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


def of_campaign(
    engine: Engine, campaign_id: int, limit: int = 100, actions: Sequence[str] | None = None
) -> list[HistoryEntry]:
    """The latest entries first (only `actions`, when given)."""
    q = (
        select(campaign_history)
        .where(campaign_history.c.campaign_id == campaign_id)
        .where(campaign_history.c.action.in_(list(actions)) if actions else true())
        .order_by(campaign_history.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [HistoryEntry(r.id, r.at, r.action, r.actor, r.summary, r.detail) for r in conn.execute(q)]
