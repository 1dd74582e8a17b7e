"""The send engine's port to its database: what the loop asks of the ledger, the campaigns and the daily
limit. Each call is one transaction, committed before it returns.

Implemented over SQL in sqlstore.py, its transactions run once per database in db/ (sendstore_sqlite.py,
sendstore_postgres.py, sharing db/sendstore.py); the engine never sees SQL. A lost connection is retried
inside the store until `database.reconnect_seconds` have passed (or the run stops), then raised as
StoreUnavailable; so every call may run twice, and what it changes is keyed by recipient (or counted only
once it returned).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sendwell.db.sendstore import StoreError as StoreError  # raised by the database's transactions
from sendwell.db.sendstore import StoreUnavailable as StoreUnavailable
from sendwell.sending.message import CampaignContent
from sendwell.sending.queue import Job, Result
from sendwell.sending.refusal import Judgment


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt to record: the job, its ledger row, the live refusal to record as a bounce event (if
    any), and the relay that gave the answer."""

    job: Job
    result: Result
    refused: Judgment | None = None
    relay: str = ""


@dataclass(frozen=True, slots=True)
class Check:
    """What the loop looks at before a claim."""

    states: dict[int, str]  # campaign id -> state, of the campaigns this run serves
    breaker: str | None  # the reason the breaker tripped, None while sending may go on
    limit: int  # today's daily limit
    used: int  # messages counted against it (calendar day or rolling 24 hours)
    complaints: tuple[int, int] | None = None  # (complaints, sent) since the asked time, when asked
    relays: Mapping[str, int] = field(default_factory=dict)  # relay key -> messages reserved on the asked day
    next_scheduled: datetime | None = None  # the earliest scheduled campaign's time, when starting due ones


@runtime_checkable
class SendStore(Protocol):
    def watch(self, stopped: asyncio.Event) -> None:
        """The run's stop event: a retry after a lost connection waits on it, and gives up once it is set."""

    def close(self) -> None:
        """The run is over: give back what the store keeps between calls (a database connection); a later call
        takes it again."""

    async def secret(self) -> str:
        """The installation's HMAC secret (VERP tokens, unsubscribe and tracking links)."""

    async def error_window(self) -> list[bool]:
        """The last `limit.window_sends` sends as address-error flags, oldest first."""

    async def check(
        self,
        campaign_ids: Sequence[int] | None,
        now: datetime,
        *,
        complaints_since: datetime | None = None,
        relay_day: str | None = None,
        start_due: bool = False,
        heartbeat: str | None = None,
    ) -> Check:
        """Campaign states (the given ones, or all sending), the breaker and today's usage; complaints since
        `complaints_since` (or since the operator last resumed, if later) and the relays' day when asked.
        With `start_due`, first start the scheduled campaigns (of those) whose time has come, resolving their
        audience now, and tell when the next one is due. With `heartbeat` (the worker's name), note that a
        worker is alive now (the set-up check's "no worker running")."""

    async def campaign(self, campaign_id: int) -> CampaignContent:
        """What the campaign sends."""

    async def claim(
        self, campaign_ids: Sequence[int], owner: str, n: int, lease_seconds: float, now: datetime
    ) -> tuple[list[Job], int]:
        """Lease up to `n` due recipients, from the campaigns in this order; those now blacklisted are
        marked skipped instead. Returns (jobs, how many were skipped)."""

    async def record(
        self, outcomes: Sequence[Outcome], now: datetime, server_problem: str | None, owner: str = ""
    ) -> None:
        """Write the outcomes and drop their leases; count them in today's usage (in `owner`'s shard); set
        `server_problem` on their campaigns when one was a server problem; record the refusals as bounce events,
        whose policy acts on the addresses (all in one transaction)."""

    async def release(self, ids: Sequence[int], owner: str) -> None:
        """Give back `owner`'s leases on recipients not sent."""

    async def renew(self, ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """Extend `owner`'s leases; returns the ids it still holds."""

    async def close_finished(
        self, campaign_ids: Sequence[int], now: datetime, due_before: datetime
    ) -> tuple[set[int], int]:
        """Mark done the campaigns with no open recipient: (those closed, open recipients due before `due_before`)."""

    async def trip(self, reason: str, now: datetime) -> None:
        """Trip the circuit breaker: every worker pauses until an operator resumes."""

    async def pause(self, campaign_id: int, reason: str, now: datetime) -> None:
        """Pause one sending campaign, keeping `reason` as its server problem (shown with its statistics)."""

    async def problem(self, campaign_id: int, problem: str, now: datetime) -> None:
        """Show `problem` as the campaign's current server problem (kept in its history), no recipient touched."""

    async def reserve_day(self, now: datetime, owner: str, want: int) -> int:
        """Reserve up to `want` messages of today's daily limit for `owner`; returns how many were granted."""

    async def return_day(self, day: str, owner: str, unused: int) -> None:
        """Give back reserved messages of the daily limit that `owner` did not send."""

    async def reserve_relay(self, day: str, relay: str, want: int, cap: int) -> int:
        """Reserve up to `want` of `relay`'s messages of `day` under its `cap`; returns how many were granted."""

    async def return_relays(self, day: str, unused: Mapping[str, int]) -> None:
        """Give back reserved relay messages that were not sent."""
