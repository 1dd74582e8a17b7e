"""Per-relay daily caps (`?daily_limit=N` on a relay URL) as one sending process sees them.

What a relay accepted today is the database's count (table relay_usage, all workers) plus what this
process sent since its last commit; messages on the wire count too, so this process's connections
never overshoot a cap. Other workers' sends are seen at the next refresh (about once a second), so
several workers together can overshoot by about a second of their sending (docs/sending.md). A relay
at its cap is marked in the pool, which then picks the others.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from sendwell.config import LimitSettings
from sendwell.sending import usage
from sendwell.sending.relay import Relay, RelayPool


class RelayCaps:
    def __init__(self, pool: RelayPool, settings: LimitSettings) -> None:
        self.pool, self.settings = pool, settings
        self.limited = [r for r in pool.relays if r.daily_limit]
        self.used: dict[str, int] = {}  # relay key -> accepted today, as far as we know
        self.pending: dict[str, int] = {}  # relay key -> accepted since our last commit
        self.inflight: dict[str, int] = {}  # relay key -> messages on the wire now

    def at_cap(self, relay: Relay) -> bool:
        """True (and the relay marked capped in the pool) when it cannot take one more message today."""
        if not relay.daily_limit:
            return False
        if self.used.get(relay.key, 0) + self.inflight.get(relay.key, 0) >= relay.daily_limit:
            self.pool.capped.add(relay)
            return True
        return False

    def sending(self, relay: Relay, delta: int) -> None:
        """A message goes on the wire to `relay` (+1), or its answer came back (-1)."""
        self.inflight[relay.key] = self.inflight.get(relay.key, 0) + delta

    def sent(self, relay: Relay) -> None:
        self.pending[relay.key] = self.pending.get(relay.key, 0) + 1
        if relay.daily_limit:
            self.used[relay.key] = self.used.get(relay.key, 0) + 1

    def take_pending(self) -> dict[str, int]:
        """The counts to write with the next commit (see usage.add_relays)."""
        counts, self.pending = self.pending, {}
        return counts

    def refresh(self, conn: Connection, now: datetime) -> str | None:
        """Re-read today's counts (a new day frees the capped relays); a message when every relay is capped."""
        if not self.limited:
            return None
        counts = usage.relays_today(conn, self.settings, now)
        for relay in self.limited:
            self.used[relay.key] = counts.get(relay.key, 0) + self.pending.get(relay.key, 0)
            if self.used[relay.key] >= relay.daily_limit:
                self.pool.capped.add(relay)
            else:
                self.pool.capped.discard(relay)
        if self.pool.available:
            return None
        return "every relay reached its daily cap (" + ", ".join(
            f"{r.label} {self.used[r.key]}/{r.daily_limit}" for r in self.limited) + ")"
