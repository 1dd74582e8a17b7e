"""The send engine's store (sending/store.py) on SQLAlchemy: what SQLite and PostgreSQL share.

Each call is one transaction, run synchronously in the loop's thread: a database thread would fight the
loop for the GIL on every socket call (a convoy that cut throughput to a third), and the connections
wait for their outcome's commit anyway. A lost connection (a PostgreSQL restart, a killed backend,
SQLite's lock wait running out) rolls the transaction back; it is run again on a new connection until
`database.reconnect_seconds` have passed, so a restart costs a pause, not the run. Which errors count
as lost, and each database's tuning, are in sendstore_sqlite.py and sendstore_postgres.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import DBAPIError

from sendwell import events, schedule
from sendwell.config import Settings
from sendwell.db.schema import campaigns
from sendwell.model import FailureKind, RecipientStatus
from sendwell.sending import queue, usage
from sendwell.sending.message import CampaignContent
from sendwell.sending.queue import Job
from sendwell.sending.store import Check, Outcome, StoreError, StoreUnavailable

log = logging.getLogger("sendwell.sending")


def open_store(engine: Engine, settings: Settings) -> SqlSendStore:
    """The store for the engine's database."""
    if engine.dialect.name == "postgresql":
        from sendwell.db.sendstore_postgres import PostgresSendStore

        return PostgresSendStore(engine, settings)
    from sendwell.db.sendstore_sqlite import SqliteSendStore

    return SqliteSendStore(engine, settings)


def unreachable(err: DBAPIError) -> str:
    return (
        f"the database is unreachable ({str(err.orig or err).splitlines()[0]}); the recipients in hand "
        "are left to their leases, and the next run (or another worker) takes them"
    )


class SqlSendStore:
    """SendStore over a SQLAlchemy engine; subclasses say which errors are a lost connection."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self._stopped: asyncio.Event | None = None
        self._outage_since = 0.0  # monotonic time the database was first found unreachable, 0 when fine

    # -- each database's quirks -----------------------------------------------------------------

    def lost_connection(self, err: DBAPIError) -> bool:
        """A database error that a new connection may not have; not a bad statement or a constraint."""
        return bool(err.connection_invalidated)

    def turn(self) -> contextlib.AbstractContextManager[None]:
        """Held around each transaction (SQLite: take turns with other writers)."""
        return contextlib.nullcontext()

    def tune(self, conn: Connection) -> None:
        """Set up a transaction's connection."""

    def recording(self, conn: Connection) -> None:
        """Set up the transaction that records outcomes."""

    # -- transactions ---------------------------------------------------------------------------

    def watch(self, stopped: asyncio.Event) -> None:
        self._stopped = stopped

    async def _nap(self, seconds: float) -> None:
        if self._stopped is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    async def _tx(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run fn(conn, *args) in one transaction, again on a new connection when this one was lost.
        Every transaction here may run twice: claims and outcomes are keyed by recipient (only a commit
        lost in flight can count one batch's attempts twice)."""
        delay = 0.1
        while True:
            try:
                with self.turn(), self.engine.begin() as conn:
                    self.tune(conn)
                    result = fn(conn, *args)
                self._outage_since = 0.0
                return result
            except DBAPIError as err:
                if not self.lost_connection(err):
                    raise StoreError(str(err)) from err
                # One deadline for the whole outage (not one per call), and none of it once the run is
                # stopping: what is left in hand is then left to its leases, as if the worker were killed.
                now = time.monotonic()
                self._outage_since = self._outage_since or now
                stopping = self._stopped is not None and self._stopped.is_set()
                if stopping or now >= self._outage_since + self.settings.database.reconnect_seconds:
                    raise StoreUnavailable(unreachable(err)) from err
                log.warning(
                    "database connection lost (%s); trying again in %.1f s", str(err.orig or err).splitlines()[0], delay
                )
                await self._nap(delay)  # a stop request ends the wait
                delay = min(delay * 2, 5.0)

    # -- the port -------------------------------------------------------------------------------

    async def secret(self) -> str:
        from sendwell.keys import app_secret

        return app_secret(self.engine, self.settings)

    async def error_window(self) -> list[bool]:
        return await self._tx(usage.last_error_window, self.settings.limit)

    async def check(
        self,
        campaign_ids: Sequence[int] | None,
        now: datetime,
        *,
        complaints_since: datetime | None = None,
        relay_day: str | None = None,
        start_due: bool = False,
    ) -> Check:
        return await self._tx(self._check, campaign_ids, now, complaints_since, relay_day, start_due)

    def _check(
        self,
        conn: Connection,
        campaign_ids: Sequence[int] | None,
        now: datetime,
        complaints_since: datetime | None,
        relay_day: str | None,
        start_due: bool,
    ) -> Check:
        if start_due:
            for cid, queued in schedule.start_due(conn, now, campaign_ids).items():
                log.info("scheduled campaign %s started: %s recipients queued", cid, queued)
        lim = self.settings.limit
        tripped = usage.breaker(conn)
        _, stats = usage.today(conn, lim, now)
        complaints = None
        if complaints_since is not None:  # only what was sent since the operator last resumed
            resumed = usage.as_time((usage.get_state(conn, usage.BREAKER) or {}).get("resumed_at"))
            since = max(complaints_since, resumed or complaints_since)
            complaints = (usage.complaints_since(conn, since), usage.sent_since(conn, lim, since))
        relays = usage.relays_on(conn, relay_day) if relay_day is not None else {}
        return Check(
            queue.sending_campaigns(conn, campaign_ids),
            tripped["reason"] if tripped else None,
            stats.limit,
            usage.used(conn, lim, now),
            complaints,
            relays,
        )

    async def campaign(self, campaign_id: int) -> CampaignContent:
        return await self._tx(self._campaign, campaign_id)

    def _campaign(self, conn: Connection, cid: int) -> CampaignContent:
        row = conn.execute(select(campaigns).where(campaigns.c.id == cid)).one()
        return CampaignContent(
            row.id, row.subject, row.from_addr, row.html, row.text, row.reply_to, tuple(row.track or ())
        )

    async def claim(
        self, campaign_ids: Sequence[int], owner: str, n: int, lease_seconds: float, now: datetime
    ) -> tuple[list[Job], int]:
        return await self._tx(self._claim, campaign_ids, owner, n, lease_seconds, now)

    def _claim(
        self, conn: Connection, campaign_ids: Sequence[int], owner: str, n: int, lease_seconds: float, now: datetime
    ) -> tuple[list[Job], int]:
        jobs: list[Job] = []
        skipped = 0
        for cid in campaign_ids:
            got, banned = queue.claim(
                conn, campaign_id=cid, owner=owner, limit=n - len(jobs), lease_seconds=lease_seconds, now=now
            )
            skipped += banned
            jobs += got
            if len(jobs) >= n:
                break
        return jobs, skipped

    async def record(self, outcomes: Sequence[Outcome], now: datetime, server_problem: str | None) -> None:
        await self._tx(self._record, outcomes, now, server_problem)

    def _record(self, conn: Connection, outcomes: Sequence[Outcome], now: datetime, server_problem: str | None) -> None:
        self.recording(conn)
        results = [o.result for o in outcomes]
        queue.record(conn, results, now)
        sent = sum(1 for r in results if r.status is RecipientStatus.SENT)
        bad = sum(1 for r in results if r.status is RecipientStatus.ERROR and r.kind is FailureKind.RECIPIENT)
        usage.add(conn, self.settings.limit, now, sent=sent, address_errors=bad)
        for cid in {o.job.campaign_id for o in outcomes if o.result.kind is FailureKind.SERVER}:
            conn.execute(
                update(campaigns)
                .where(campaigns.c.id == cid)
                .values(server_problem=server_problem, server_problem_at=now)
            )
        # Refusals become events in this same transaction; the hygiene policy (not the engine) decides
        # from them what happens to the address, as for a DSN.
        events.record_answers(
            conn,
            self.settings,
            [
                events.Answer(
                    j.email,
                    j.display,
                    j.campaign_id,
                    j.id,
                    j.attempts + 1,
                    r.stage,
                    o.relay,
                    r.answer,
                    r.reason.value,
                    r.status,
                    r.hard,
                )
                for o in outcomes
                if (r := o.refused) is not None
                for j in (o.job,)
            ],
            now,
        )

    async def release(self, ids: Sequence[int], owner: str) -> None:
        await self._tx(queue.release, ids, owner)

    async def renew(self, ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        return await self._tx(queue.renew, ids, owner, until)

    async def close_finished(
        self, campaign_ids: Sequence[int], now: datetime, due_before: datetime
    ) -> tuple[set[int], int]:
        return await self._tx(self._close_finished, campaign_ids, now, due_before)

    def _close_finished(
        self, conn: Connection, campaign_ids: Sequence[int], now: datetime, due_before: datetime
    ) -> tuple[set[int], int]:
        done, soon = set(), 0
        for cid in campaign_ids:
            if queue.finish_if_done(conn, cid, now):
                done.add(cid)
            else:
                soon += queue.open_count(conn, cid, due_before=due_before)
        return done, soon

    async def trip(self, reason: str, now: datetime) -> None:
        await self._tx(usage.trip, reason, now)

    async def reserve_relay(self, day: str, relay: str, want: int, cap: int) -> int:
        # usage.reserve_relay looked up at call time: tests/faults kill the connection inside it
        return await self._tx(lambda conn: usage.reserve_relay(conn, day, relay, want, cap))

    async def return_relays(self, day: str, unused: Mapping[str, int]) -> None:
        await self._tx(self._return_relays, day, dict(unused))

    @staticmethod
    def _return_relays(conn: Connection, day: str, unused: dict[str, int]) -> None:
        for key, n in unused.items():
            usage.return_relay(conn, day, key, n)
