"""The retry schedule (pure): how long to wait before the next try, for a deferred recipient and for a
relay that keeps failing, and when a deferred recipient is given up.

`sending.retry_schedule` lists the waits (2 s, 5 s, 15 s, 1 min, …); its last step repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

DEFAULT_WAIT = 60.0  # an empty schedule still waits, rather than retrying in a tight loop


def delay(schedule: Sequence[float], step: int) -> float:
    """Seconds to wait before try number `step + 1` (step 0: after the first failure)."""
    if not schedule:
        return DEFAULT_WAIT
    return float(schedule[min(max(step, 0), len(schedule) - 1)])


def next_try(
    schedule: Sequence[float], horizon_hours: float, *, attempts: int, queued_at: datetime, now: datetime
) -> datetime | None:
    """When a recipient deferred `attempts` times before is tried again; None once that would fall past
    `horizon_hours` after it was queued (it is then given up)."""
    when = now + timedelta(seconds=delay(schedule, attempts))
    if when - queued_at > timedelta(hours=horizon_hours):
        return None
    return when
