"""What pauses one campaign on its own: its message is larger than the relay's SIZE, the relay refuses every
connection at its greeting with a 5xx, or its first transactions were all refused with one same answer, which is
then about our sender, our greeting or our message, not about the recipients (`504 5.5.2 need fully-qualified
hostname`, `552 5.3.4 message too big`).

Sending the rest would only fail them all; the campaign is paused with the reason instead. The recipients
already refused stay `failed` (never `error`, never blacklisted) and can be queued again once it is fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sendwell.model import RecipientStatus
from sendwell.sending.outcome import Outcome, Reply
from sendwell.sending.relay import Connection
from sendwell.sending.seats import greeting_refusal, refused_at_greeting
from sendwell.sending.store import SendStore

log = logging.getLogger("sendwell.sending")


def too_big(size: int, limit: int | None, relay: str) -> str | None:
    """Why a message of `size` bytes cannot go through a relay that takes at most `limit` (None: no limit)."""
    if limit is None or size <= limit:
        return None
    return (
        f"the campaign's message is {size:,} bytes and the relay {relay} accepts at most {limit:,} (its SIZE): "
        "make the message smaller or use a relay that takes it"
    )


class SameRefusals:
    """The answers of each campaign's first `first` transactions in this run, while they are all one refusal."""

    def __init__(self, first: int) -> None:
        self.first = first
        self.runs: dict[int, tuple[str, int] | None] = {}  # campaign -> (answer, count); None once it varied

    def seen(self, campaign_id: int, reply: Reply, verdict: Outcome) -> str | None:
        """Count one answer; the reason to pause the campaign when its first `first` were the same refusal."""
        if self.first <= 0 or (run := self.runs.get(campaign_id, ("", 0))) is None:
            return None
        if verdict.status is RecipientStatus.DEFERRED:  # retried anyway: neither for nor against
            return None
        if verdict.status is not RecipientStatus.FAILED or reply.code is None:
            self.runs[campaign_id] = None  # a message went, or a refusal about the recipient: it is not us
            return None
        answer = f"{reply.stage.value.upper()}: {reply.code} {reply.text}".strip()
        count = run[1] + 1 if run[0] == answer else (1 if run[1] == 0 else 0)
        if count == 0:  # a different refusal: the answers depend on the recipient
            self.runs[campaign_id] = None
            return None
        self.runs[campaign_id] = (answer, count)
        if count < self.first:
            return None
        self.runs[campaign_id] = None
        return (
            f"the first {count} messages were all refused with the same answer, which is about the sender, "
            f"its greeting or the message rather than the recipients ({answer[:300]}); "
            "fix that, then queue the failed recipients again"
        )


class Halts:
    """The campaigns one run paused on their own (`why`: campaign -> reason), through the store."""

    def __init__(self, store: SendStore, first: int, clock: Callable[[], datetime]) -> None:
        self.store, self.same, self.clock = store, SameRefusals(first), clock
        self.why: dict[int, str] = {}

    async def oversized(self, campaign_id: int, size: int, conn: Connection) -> bool:
        """Pause the campaign when its message is larger than the relay's SIZE; True when it is."""
        why = too_big(size, conn.size_limit, conn.relay.label)
        if why is not None:
            await self.pause(campaign_id, why)
        return why is not None

    async def unsendable(self, campaign_id: int, size: int, conn: Connection, reply: Reply | None) -> bool:
        """True when the job cannot go over `conn` and is given back, uncharged: its message is larger than the
        relay's SIZE, or the relay refused the connection at its greeting. A 5xx there pauses the campaign; a 4xx
        is shown as its server problem while every connection waits (the courier's back-off)."""
        if reply is None:
            return await self.oversized(campaign_id, size, conn)
        if not refused_at_greeting(reply):
            return False
        why = greeting_refusal(conn.relay.label, reply)
        if reply.code is not None and reply.code >= 500:
            await self.pause(campaign_id, why)
        else:
            await self.store.problem(campaign_id, why, self.clock())
        return True

    async def answered(self, campaign_id: int, reply: Reply, verdict: Outcome) -> None:
        if why := self.same.seen(campaign_id, reply, verdict):
            await self.pause(campaign_id, why)

    async def pause(self, campaign_id: int, why: str) -> None:
        if campaign_id not in self.why:
            self.why[campaign_id] = why
            log.warning("campaign %d paused: %s", campaign_id, why)
            await self.store.pause(campaign_id, why, self.clock())
