"""This worker's part of today's daily limit: messages reserved in the database in blocks (usage.reserve_day),
spent by the recipients it leases, so several workers together never send past the limit.

A leased recipient holds one reserved message; its outcome spends it when the relay answered for it (sent,
or an address error: what the limit counts), else gives it back to this worker's part. What is left at the
end of a run is given back to the day; a killed worker's part (at most two blocks) stays reserved (the day then
sends fewer, never more).
"""

from __future__ import annotations

import time
from datetime import datetime

from sendwell.config import LimitSettings
from sendwell.model import FailureKind, RecipientStatus
from sendwell.sending import limit
from sendwell.sending.queue import Result
from sendwell.sending.store import SendStore

RETRY_AFTER = 0.5  # seconds before asking again once the day had nothing left to reserve


class DayQuota:
    def __init__(self, store: SendStore, settings: LimitSettings, owner: str, block: int) -> None:
        self.store, self.settings, self.owner, self.block = store, settings, owner, max(1, block)
        self.day, self.granted, self.spent = "", 0, 0
        self._refused_at = 0.0

    async def allowance(self, now: datetime, leased: int) -> int:
        """How many more recipients this worker may lease now; reserves another block when short of one."""
        day = limit.day_of(now, self.settings)
        if day != self.day:  # a new day: yesterday's part does not carry over
            self.day, self.granted, self.spent = day, 0, 0
        held = self.granted - self.spent  # reserved and not spent: leased, or free to lease
        left = held - leased
        # Top up to two blocks held in all, leased ones included: topping `left` up instead let a worker hold
        # two blocks plus what it had leased, which a killed worker then took from the day (issue 19).
        if left < self.block and held < 2 * self.block and time.monotonic() >= self._refused_at + RETRY_AFTER:
            got = await self.store.reserve_day(now, self.owner, 2 * self.block - held)
            self.granted += got
            left += got
            if not got:
                self._refused_at = time.monotonic()
        return left

    def counted(self, result: Result) -> None:
        """A recorded outcome: it spent its reserved message when the limit counts it."""
        if result.status is RecipientStatus.SENT or (
            result.status is RecipientStatus.ERROR and result.kind is FailureKind.RECIPIENT
        ):
            self.spent += 1

    async def give_back(self) -> None:
        """At the end of a run (leases released): return what was reserved and not spent."""
        if self.granted > self.spent:
            await self.store.return_day(self.day, self.owner, self.granted - self.spent)
            self.granted = self.spent

    def why_none(self, daily: int, remaining: int) -> str:
        """Why this worker may lease no more today: the limit reached, or its rest reserved by other workers."""
        if remaining <= 0:
            return f"daily limit of {daily} reached"
        return f"the rest of the daily limit of {daily} ({remaining}) is reserved by other running workers"
