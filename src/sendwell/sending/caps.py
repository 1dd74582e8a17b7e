"""Per-relay daily caps (`?daily_limit=N` on a relay URL) for one sending process (no database: the
engine's store reserves and returns the blocks).

Before a message goes to a capped relay it takes one of the messages this process reserved in the
database (table relay_usage counts what all workers reserved); when its reservation is used up it
reserves another block. So workers sharing a relay never exceed its cap together. A message that is
not sent returns its place to the block; what is left at the end of a run goes back to the database
(a killed worker's leftovers stay counted: the relay then sends fewer that day, never more).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sendwell.config import LimitSettings
from sendwell.sending import limit
from sendwell.sending.relay import Relay, RelayPool

BLOCK = 32  # messages reserved at a time: one database transaction per block, not per message


class RelayCaps:
    def __init__(self, pool: RelayPool, settings: LimitSettings) -> None:
        self.pool, self.settings = pool, settings
        self.limited = [r for r in pool.relays if r.daily_limit]
        self.day = ""
        self.quota: dict[str, int] = {}  # relay key -> reserved for `day` and not used yet

    def take(self, relay: Relay) -> bool:
        """Use one reserved message of `relay` (always True for a relay without a cap)."""
        if not relay.daily_limit:
            return True
        if self.quota.get(relay.key, 0) > 0:
            self.quota[relay.key] -= 1
            return True
        return False

    def give_back(self, relay: Relay) -> None:
        """The message taken for `relay` was not sent: its place serves the next one."""
        if relay.daily_limit:
            self.quota[relay.key] = self.quota.get(relay.key, 0) + 1

    # The database steps are the engine's (its store): a transaction may run twice after a lost
    # connection, so nothing here changes until one has committed (`grant`, `released`), or a block
    # counted in memory by a rolled-back try would let this worker exceed the cap.

    def day_of(self, now: datetime) -> str:
        """The day the caps count in (the daily limit's day)."""
        return limit.day_of(now, self.settings)

    def grant(self, relay: Relay, day: str, granted: int) -> int:
        """Add a committed reservation (of up to BLOCK messages) to this process's quota; 0 marks the relay capped."""
        if day != self.day:  # a new day: yesterday's leftovers stay counted there
            self.day, self.quota = day, {}
        self.quota[relay.key] = self.quota.get(relay.key, 0) + granted
        if not granted:
            self.pool.capped.add(relay)
        return granted

    def unused(self) -> dict[str, int]:
        """{relay key: reserved and not used} to return to the database at the end of a run; then `released`."""
        return {key: n for key, n in self.quota.items() if n}

    def released(self) -> None:
        self.quota = {}

    def refresh(self, counts: Mapping[str, int], now: datetime) -> str | None:
        """Given today's counts ({relay key: reserved}), mark the capped relays (a new day frees them);
        a message when every relay is capped."""
        if not self.limited:
            return None
        fresh = self.day_of(now) != self.day
        for relay in self.limited:
            left = 0 if fresh else self.quota.get(relay.key, 0)
            if counts.get(relay.key, 0) >= (relay.daily_limit or 0) and not left:
                self.pool.capped.add(relay)
            else:
                self.pool.capped.discard(relay)
        if self.pool.available:
            return None
        return (
            "every relay reached its daily cap ("
            + ", ".join(f"{r.label} {counts.get(r.key, 0)}/{r.daily_limit}" for r in self.limited)
            + ")"
        )
