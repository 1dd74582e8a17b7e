"""The relays of one sending run: which relay a connection opens next (RelayPool), each relay under its
daily cap (RelayCaps, blocks reserved through the engine's store), and the back-off after a server
problem: every connection waits the next step of the retry schedule (one step per round of failures)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sendwell.config import Settings
from sendwell.model import FailureKind, RecipientStatus
from sendwell.sending import outcome, retry
from sendwell.sending.caps import BLOCK, RelayCaps
from sendwell.sending.message import Rendered
from sendwell.sending.relay import Connection, Relay, RelayPool
from sendwell.sending.store import SendStore

log = logging.getLogger("sendwell.sending")


class Courier:
    def __init__(self, relays: list[Relay], settings: Settings, store: SendStore, never: datetime) -> None:
        self.settings, self.store = settings, store
        self.pool = RelayPool(relays, settings.smtp.rest_seconds)
        self.caps = RelayCaps(self.pool, settings.limit)
        self.backoff_until, self.backoff_step = never, 0
        self.problem: str | None = None  # the last server problem, as the run report shows it

    async def _slot(self, relay: Relay, now: datetime) -> bool:
        """Take one of today's messages of `relay` (reserving a block in the database when ours are used
        up); False when it has none left today (it is then marked capped)."""
        if self.caps.take(relay):
            return True
        day = self.caps.day_of(now)
        granted = await self.store.reserve_relay(day, relay.key, BLOCK, relay.daily_limit or 0)
        return bool(self.caps.grant(relay, day, granted)) and self.caps.take(relay)

    async def connect(self, conn: Connection | None, now: datetime) -> tuple[Connection | None, outcome.Reply | None]:
        """The connection for the next message (this one while it is open and its relay has a message left
        today): (None, None) when every relay reached its cap; with a reply when it could not be opened."""
        while True:
            if conn is not None and conn.is_open:
                if await self._slot(conn.relay, now):
                    return conn, None
                await conn.close()  # its relay reached its daily cap: done for today
            if not self.pool.available:  # every relay at its cap: the recipient waits for tomorrow
                return None, None
            smtp = self.settings.smtp
            conn = Connection(self.pool.pick(), timeout=smtp.timeout, helo_name=smtp.helo_name)
            if (reply := await conn.open()) is not None:  # could not open: a server problem
                return conn, reply

    async def send(self, conn: Connection, message: Rendered) -> outcome.Reply:
        # rendered (and signed) messages end every line in CRLF (tests/fuzz/test_header_injection.py)
        reply = await conn.send(message.envelope_from, message.rcpt, message.data, crlf=True)
        if conn.relay.daily_limit and outcome.classify(reply).status is not RecipientStatus.SENT:
            self.caps.give_back(conn.relay)
        return reply

    async def answered(self, conn: Connection, reply: outcome.Reply, verdict: outcome.Outcome, now: datetime) -> None:
        """After an answer: a server problem rests the relay and backs every connection off; a sent message
        resets the back-off; a connection that carried its share of messages is closed."""
        if verdict.kind is FailureKind.SERVER:
            self.pool.rest(conn.relay)
            conn.abort()
            self.server_problem(now, reply, conn.relay)
        elif verdict.status is RecipientStatus.SENT:
            self.pool.ok(conn.relay)
            self.backoff_step = 0
        if conn.is_open and conn.sent >= self.settings.smtp.messages_per_connection:
            await conn.close()

    def server_problem(self, now: datetime, reply: outcome.Reply, relay: Relay) -> None:
        code = f"{reply.code} {reply.enhanced or ''}".strip() if reply.code else (reply.problem or "")
        text = reply.text
        if reply.enhanced and text.startswith(reply.enhanced):  # servers repeat the code in their text
            text = text[len(reply.enhanced) :].lstrip()
        self.problem = f"{relay.label} at {reply.stage.value}: {code} {text}".strip()[:500]
        if now >= self.backoff_until:  # one step per round of failures, not one per connection
            delay = retry.delay(self.settings.sending.retry_schedule, self.backoff_step)
            self.backoff_step += 1
            self.backoff_until = now + timedelta(seconds=delay)
            log.warning("server problem: %s; all connections wait %.0f s", self.problem, delay)

    async def return_unused(self) -> None:
        """Give back the relay messages reserved and not sent (at the end of a run)."""
        if self.caps.quota:
            await self.store.return_relays(self.caps.day, self.caps.unused())
            self.caps.released()
