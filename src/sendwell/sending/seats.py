"""How many connections each relay accepts at once, learnt from its refusals (in memory, per process).

A relay that allows a few connections per client (Postfix's `smtpd_client_connection_count_limit`)
answers the extra ones `421 4.7.0 … too many connections` at the greeting. That says nothing about a
recipient nor about the relay being down: while other connections to it work, the refused one is
given up (its worker waits for a seat) and the relay is remembered as taking that many. After
`PROBE_AFTER` seconds one more connection is tried; the limit grows when it is accepted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sendwell.sending.outcome import Reply, Stage
from sendwell.sending.relay import Connection, Relay

PROBE_AFTER = 60.0  # seconds before a limited relay is offered one connection more
AT_GREETING = (Stage.CONNECT, Stage.HELO)  # refusals about the connection, before any recipient


def refused_at_greeting(reply: Reply) -> bool:
    """The relay answered our connection with a refusal (greeting or EHLO): about us, not about a recipient."""
    return reply.stage in AT_GREETING and reply.code is not None and reply.code >= 400


def greeting_refusal(relay: str, reply: Reply) -> str:
    """Why nothing goes while `relay` refuses every connection at its greeting (a sender-side problem)."""
    answer = f"{reply.code} {reply.text}".strip()
    if reply.code is not None and reply.code >= 500:
        return (
            f"the relay {relay} refuses our connections at {reply.stage.value} ({answer}): nothing was sent and no "
            "recipient was charged; fix what it objects to (our address, host name or login), then resume the campaign"
        )
    return f"the relay {relay} refuses our connections at {reply.stage.value} ({answer}); no recipient is charged"


class Seats:
    def __init__(self, wanted: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.wanted, self.clock = wanted, clock
        self.conns: dict[Relay, set[Connection]] = {}  # opening or open
        self.opening: set[Connection] = set()
        self.allowed: dict[Relay, int] = {}  # relays that refused connections: how many they took
        self.probe_at: dict[Relay, float] = {}

    def live(self, relay: Relay) -> int:
        """Connections to `relay` open or being opened (closed ones are forgotten here)."""
        conns = self.conns.get(relay)
        if not conns:
            return 0
        conns -= {c for c in conns if c not in self.opening and not c.is_open}
        return len(conns)

    def free(self, relay: Relay, *, take: bool = False) -> bool:
        """May one more connection to `relay` be opened now? One probe past the limit once it is due
        (`take`: the caller opens it, so the next probe waits another PROBE_AFTER)."""
        allowed = self.allowed.get(relay)
        if allowed is None or self.live(relay) < allowed:
            return True
        if self.clock() >= self.probe_at.get(relay, 0.0):
            if take:
                self.probe_at[relay] = self.clock() + PROBE_AFTER  # one probe at a time
            return True
        return False

    def start(self, conn: Connection) -> None:
        self.conns.setdefault(conn.relay, set()).add(conn)
        self.opening.add(conn)

    def opened(self, conn: Connection) -> None:
        self.opening.discard(conn)
        relay = conn.relay
        if relay in self.allowed and (n := self.live(relay)) > self.allowed[relay]:
            if n >= self.wanted:  # back to what was asked for: no limit any more
                del self.allowed[relay]
            else:
                self.allowed[relay] = n

    def failed(self, conn: Connection) -> None:
        self.opening.discard(conn)
        self.conns.get(conn.relay, set()).discard(conn)

    async def limited(self, conn: Connection, reply: Reply, timeout: float) -> int | None:
        """After `conn` could not be opened: when the refusal came at connect or greeting while other
        connections to its relay work, the relay limits our connections; returns how many it takes
        (now remembered), else None (the relay has a problem)."""
        if reply.stage not in AT_GREETING:
            return None
        relay = conn.relay
        others = self.conns.get(relay, set())
        deadline = self.clock() + timeout
        # Refused while the others are still greeting: wait to see whether any of them is let in.
        while any(c in self.opening for c in others) and not any(c.is_open for c in others) and self.clock() < deadline:
            await asyncio.sleep(0.01)
        if not any(c.is_open for c in others):
            return None
        self.allowed[relay] = self.live(relay)
        self.probe_at[relay] = self.clock() + PROBE_AFTER
        return self.allowed[relay]
