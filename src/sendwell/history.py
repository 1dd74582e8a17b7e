"""A campaign's history: what was done to it apart from sending to its audience (test sends) and the server
problems it met (each one, and when it was over), kept out of its statistics, its ledger and the daily limit."""

from __future__ import annotations

from collections.abc import Sequence
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


def of_campaign(
    engine: Engine, campaign_id: int, limit: int = 100, actions: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The latest entries first (only `actions`, when given)."""
    q = (
        select(campaign_history)
        .where(campaign_history.c.campaign_id == campaign_id)
        .where(campaign_history.c.action.in_(list(actions)) if actions else true())
        .order_by(campaign_history.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
