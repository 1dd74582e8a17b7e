"""A worker's duties besides sending (starting scheduled campaigns, waiting for one due soon) and which workers
are alive: each running worker notes itself in the `state` table (key `worker`) from its loop, at most every
BEAT_SECONDS; the set-up check reads it ("no worker running")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from sendwell.db.engine import as_utc
from sendwell.db.schema import state
from sendwell.sending.usage import set_state

KEY = "worker"
BEAT_SECONDS = 10.0  # how often a worker notes itself
ALIVE_SECONDS = 60.0  # a note older than this: the worker stopped (or hangs)


class Duties:
    """`on` for a worker (`sendwell worker`, with --until-done too, and the web server's): it starts scheduled
    campaigns at their time, waits for one due within `linger` rather than exit, and notes itself alive."""

    def __init__(self, on: bool, owner: str, linger: float) -> None:
        self.on, self.owner, self.linger = on, owner, linger
        self.next_scheduled: datetime | None = None  # told by the store's check
        self._beat: datetime | None = None

    def starts_in(self, now: datetime) -> float | None:
        """Seconds until a scheduled campaign starts, when it does within `linger`; else None."""
        if not self.on or self.next_scheduled is None:
            return None
        wait = (self.next_scheduled - now).total_seconds()
        return wait if wait <= self.linger else None

    def heartbeat(self, now: datetime) -> str | None:
        """The worker's name when it is time to note it alive again, else None."""
        if not self.on or (self._beat is not None and (now - self._beat).total_seconds() < BEAT_SECONDS):
            return None
        self._beat = now
        return self.owner


def beat(conn: Connection, owner: str, now: datetime) -> None:
    set_state(conn, KEY, {"owner": owner}, now)


def last_seen(conn: Connection) -> tuple[dict[str, Any], datetime] | None:
    """(the last worker's note, when) or None when no worker ever ran."""
    row = conn.execute(select(state.c.value, state.c.updated_at).where(state.c.key == KEY)).first()
    if row is None:
        return None
    return json.loads(row.value), as_utc(row.updated_at)


def alive(seen: datetime | None, now: datetime) -> bool:
    return seen is not None and now - seen <= timedelta(seconds=ALIVE_SECONDS)
