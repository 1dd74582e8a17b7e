"""Per-relay daily caps (`?daily_limit=N` on a relay URL) for one sending process.

Before a message goes to a capped relay it takes one of the messages this process reserved in the
database (table relay_usage counts what all workers reserved); when its reservation is used up it
reserves another block. So workers sharing a relay never exceed its cap together. A message that is
not sent returns its place to the block; what is left at the end of a run goes back to the database
(a killed worker's leftovers stay counted: the relay then sends fewer that day, never more).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from sendwell.config import LimitSettings
from sendwell.sending import limit, usage
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

    # The two database steps change nothing here: the engine may run a transaction twice (after a lost
    # connection), and a block counted in memory by a rolled-back try would let this worker exceed the cap.

    def reserve(self, conn: Connection, relay: Relay, now: datetime) -> tuple[str, int]:
        """Reserve the next block for `relay` in the database (a transaction of its own): (day, granted).
        Hand both to `grant` once the transaction committed."""
        day = limit.day_of(now, self.settings)
        return day, usage.reserve_relay(conn, day, relay.key, BLOCK, relay.daily_limit or 0)

    def grant(self, relay: Relay, day: str, granted: int) -> int:
        """Add a committed reservation to this process's quota; 0 marks the relay capped."""
        if day != self.day:  # a new day: yesterday's leftovers stay counted there
            self.day, self.quota = day, {}
        self.quota[relay.key] = self.quota.get(relay.key, 0) + granted
        if not granted:
            self.pool.capped.add(relay)
        return granted

    def release(self, conn: Connection) -> None:
        """Return the unused reservations to the database (at the end of a run); then `released`."""
        for key, unused in self.quota.items():
            if unused:
                usage.return_relay(conn, self.day, key, unused)

    def released(self) -> None:
        self.quota = {}

    def refresh(self, conn: Connection, now: datetime) -> str | None:
        """Re-read today's counts (a new day frees the capped relays); a message when every relay is capped."""
        if not self.limited:
            return None
        counts = usage.relays_today(conn, self.settings, now)
        fresh = limit.day_of(now, self.settings) != self.day
        for relay in self.limited:
            left = 0 if fresh else self.quota.get(relay.key, 0)
            if counts.get(relay.key, 0) >= (relay.daily_limit or 0) and not left:
                self.pool.capped.add(relay)
            else:
                self.pool.capped.discard(relay)
        if self.pool.available:
            return None
        return "every relay reached its daily cap (" + ", ".join(
            f"{r.label} {counts.get(r.key, 0)}/{r.daily_limit}" for r in self.limited) + ")"
