"""The relays of one sending run: which relay a connection opens next (RelayPool), each relay under its
daily cap (RelayCaps, blocks reserved through the engine's store), and the back-off after a server
problem: every connection waits the next step of the retry schedule (one step per round of failures)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sendwell.config import Settings
from sendwell.model import FailureKind, RecipientStatus
from sendwell.sending import outcome, retry
from sendwell.sending.caps import BLOCK, RelayCaps
from sendwell.sending.message import Rendered
from sendwell.sending.relay import Connection, Relay, RelayPool, helo_name
from sendwell.sending.seats import PROBE_AFTER, Seats, greeting_refusal, refused_at_greeting
from sendwell.sending.store import SendStore

log = logging.getLogger("sendwell.sending")
# connect()'s answer when every relay has as many of our connections as it accepts: wait for a seat
NO_SEAT = outcome.Reply(outcome.Stage.CONNECT, text="no free seat at any relay")


class Courier:
    def __init__(
        self,
        relays: list[Relay],
        settings: Settings,
        store: SendStore,
        never: datetime,
        *,
        warn: Callable[[str, str | None], None] = lambda message, key: log.warning(message),
    ) -> None:
        self.settings, self.store, self.warn = settings, store, warn
        self.helo_name, unqualified = helo_name(settings.smtp.helo_name)
        if unqualified:
            warn(unqualified, None)
        self.pool = RelayPool(relays, settings.smtp.rest_seconds)
        self.seats = Seats(max(1, settings.smtp.connections))
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
        today): (None, None) when every relay reached its cap; (None, NO_SEAT) when every relay has as many
        of our connections as it accepts; with a reply when it could not be opened (a server problem; one refused
        at the greeting has already backed every connection off, and the engine charges no recipient for it)."""
        while True:
            if conn is not None and conn.is_open:
                if await self._slot(conn.relay, now):
                    return conn, None
                await conn.close()  # its relay reached its daily cap: done for today
            if not self.pool.available:  # every relay at its cap: the recipient waits for tomorrow
                return None, None
            relay = self._pick()
            if relay is None:
                return None, NO_SEAT
            smtp = self.settings.smtp
            conn = Connection(relay, timeout=smtp.timeout, helo_name=self.helo_name)
            self.seats.start(conn)
            if (reply := await conn.open()) is None:
                self.seats.opened(conn)
                continue
            self.seats.failed(conn)
            if (taken := await self.seats.limited(conn, reply, smtp.timeout)) is None:
                if refused_at_greeting(reply):  # no connection works: every one waits; nobody is charged
                    self.pool.rest(relay)
                    self.server_problem(now, reply, relay)
                    self.problem = greeting_refusal(relay.label, reply)
                return conn, reply  # the relay has a problem
            self.warn(
                f"{relay.label} accepts {taken} of our connections at once ({reply.code or reply.problem} "
                f"{reply.text}); sending over {taken}, one more tried every {PROBE_AFTER:.0f} s",
                f"seats:{relay.key}",
            )
            conn = None

    def _pick(self) -> Relay | None:
        """The next relay (round-robin, resting ones last) with a seat for one more connection."""
        for _ in range(len(self.pool.relays)):
            relay = self.pool.pick()
            if self.seats.free(relay, take=True):
                return relay
        return None

    async def wait_for_seat(self, nap: Callable[[float], Awaitable[None]], stopped: Callable[[], bool]) -> None:
        """Until some relay would take one more connection (a worker without one may try again)."""
        while not (stopped() or any(self.seats.free(r) for r in self.pool.available)):
            await nap(0.2)

    async def send(self, conn: Connection, message: Rendered, then: object = None) -> outcome.Reply:
        """`then`: what this connection sends next when it is a message already built (its MAIL/RCPT/DATA go
        behind this body, unless this session ends after this message)."""
        ahead = None
        if isinstance(then, Rendered) and conn.sent + 1 < self.settings.smtp.messages_per_connection:
            ahead = (then.envelope_from, then.rcpt, len(then.data))
        # rendered (and signed) messages end every line in CRLF (tests/fuzz/test_header_injection.py)
        reply = await conn.send(message.envelope_from, message.rcpt, message.data, crlf=True, then=ahead)
        if conn.relay.daily_limit and outcome.classify(reply).status is not RecipientStatus.SENT:
            self.caps.give_back(conn.relay)
        return reply

    async def answered(self, conn: Connection, reply: outcome.Reply, verdict: outcome.Outcome, now: datetime) -> None:
        """After an answer: a server problem rests the relay and backs every connection off; a sent message
        resets the back-off; a connection that carried its share of messages is closed."""
        if verdict.kind is FailureKind.SERVER:
            self.pool.rest(conn.relay)
            self.server_problem(now, reply, conn.relay)
            await conn.close(wait=1.0)  # QUIT when the session still stands (a 4xx at MAIL, say)
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
