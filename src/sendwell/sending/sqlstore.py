"""The send engine's store (store.py) over SQL: each call of the port as one transaction over the ledger
(queue.py), the daily usage (usage.py) and the events (events.py). db/sendstore.py runs the transactions,
with each database's quirks (retries after a lost connection, SQLite's turns, PostgreSQL's commit)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from sendwell import events, history, schedule
from sendwell.config import Settings
from sendwell.db.schema import campaigns, templates
from sendwell.db.sendstore import SqlTransactions, open_transactions
from sendwell.model import CampaignState, FailureKind, RecipientStatus
from sendwell.sending import queue, usage, workers
from sendwell.sending.message import CampaignContent
from sendwell.sending.queue import Job
from sendwell.sending.store import Check, Outcome

log = logging.getLogger("sendwell.sending")
CALM_CHECK = 1.0  # seconds between looks for another worker's server problem that is over


def open_store(engine: Engine, settings: Settings) -> SqlSendStore:
    """The store for the engine's database."""
    return SqlSendStore(open_transactions(engine, settings), settings)


class SqlSendStore:
    """SendStore over SQL; `db` runs each call as one transaction, again on a new connection when one is lost."""

    def __init__(self, db: SqlTransactions, settings: Settings) -> None:
        self.db, self.engine, self.settings = db, db.engine, settings
        self._calm: dict[int, float] = {}  # campaign -> when its server problem was last found over (monotonic)

    def watch(self, stopped: asyncio.Event) -> None:
        self.db.watch(stopped)

    def close(self) -> None:
        self.db.close()

    async def _tx(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.db.run(fn, *args)

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
        heartbeat: str | None = None,
    ) -> Check:
        return await self._tx(self._check, campaign_ids, now, complaints_since, relay_day, start_due, heartbeat)

    def _check(
        self,
        conn: Connection,
        campaign_ids: Sequence[int] | None,
        now: datetime,
        complaints_since: datetime | None,
        relay_day: str | None,
        start_due: bool,
        heartbeat: str | None,
    ) -> Check:
        next_scheduled = None
        if start_due:
            for cid, queued in schedule.start_due(conn, now, campaign_ids).items():
                log.info("scheduled campaign %s started: %s recipients queued", cid, queued)
            next_scheduled = schedule.next_scheduled(conn, campaign_ids)
        if heartbeat is not None:
            workers.beat(conn, heartbeat, now)
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
            tripped.reason if tripped else None,
            stats.limit,
            usage.used(conn, lim, now, stats),
            complaints,
            relays,
            next_scheduled,
        )

    async def campaign(self, campaign_id: int) -> CampaignContent:
        return await self._tx(self._campaign, campaign_id)

    def _campaign(self, conn: Connection, cid: int) -> CampaignContent:
        q = select(campaigns, templates.c.html.label("layout_html"), templates.c.text.label("layout_text"))
        q = q.select_from(campaigns.outerjoin(templates, templates.c.id == campaigns.c.template_id))
        return CampaignContent.of(dict(conn.execute(q.where(campaigns.c.id == cid)).one()._mapping))

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

    async def record(
        self, outcomes: Sequence[Outcome], now: datetime, server_problem: str | None, owner: str = ""
    ) -> None:
        plain, count = self._plain(outcomes, now, owner)
        if plain and await self.db.run(self._record_plain, outcomes, now, count, alone=True):
            return
        await self._tx(self._record, outcomes, now, server_problem, owner)

    def _plain(self, outcomes: Sequence[Outcome], now: datetime, owner: str) -> tuple[bool, tuple[str, Any] | None]:
        """On PostgreSQL, whether the outcomes are only rows and counts to write (no refusal to record as an event,
        no server problem, no look for one that is over due), and the usage statement to join them with (None when
        nothing counts against the limit)."""
        if self.engine.dialect.name != "postgresql":
            return False, None
        clock = time.monotonic()
        for o in outcomes:
            r = o.result
            if o.refused is not None or r.kind is FailureKind.SERVER:
                return False, None
            if (
                r.status is RecipientStatus.SENT
                and clock - self._calm.get(o.job.campaign_id, -CALM_CHECK) >= CALM_CHECK
            ):
                return False, None
        sent, bad = _counted([o.result for o in outcomes])
        if not (sent or bad):  # as usage.add: no row to touch
            return True, None
        count = usage.counting(self.settings.limit, now, sent=sent, address_errors=bad, owner=owner)
        return count is not None, count

    @staticmethod
    def _record_plain(
        conn: Connection, outcomes: Sequence[Outcome], now: datetime, count: tuple[str, Any] | None
    ) -> bool:
        return queue.record_counted(conn, [o.result for o in outcomes], now, count)

    def _record(
        self, conn: Connection, outcomes: Sequence[Outcome], now: datetime, server_problem: str | None, owner: str
    ) -> None:
        self.db.recording(conn)
        results = [o.result for o in outcomes]
        queue.record(conn, results, now)
        sent, bad = _counted(results)
        usage.add(conn, self.settings.limit, now, sent=sent, address_errors=bad, owner=owner)
        troubled = {o.job.campaign_id for o in outcomes if o.result.kind is FailureKind.SERVER}
        for cid in troubled:
            _server_problem(conn, cid, server_problem, now)
        # A message the relay took since: the problem is over; the banner goes, its history stays. Looked
        # for at once after our own problem, else at most every CALM_CHECK seconds (a statement per commit).
        clock = time.monotonic()
        for cid in troubled:
            self._calm.pop(cid, None)
        for cid in {o.job.campaign_id for o in outcomes if o.result.status is RecipientStatus.SENT} - troubled:
            if clock - self._calm.get(cid, -CALM_CHECK) >= CALM_CHECK:
                _server_problem(conn, cid, None, now)
                self._calm[cid] = clock
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

    async def pause(self, campaign_id: int, reason: str, now: datetime) -> None:
        await self._tx(self._pause, campaign_id, reason, now)

    @staticmethod
    def _pause(conn: Connection, campaign_id: int, reason: str, now: datetime) -> None:
        conn.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign_id, campaigns.c.state == CampaignState.SENDING)
            .values(state=CampaignState.PAUSED, server_problem=reason[:1000], server_problem_at=now)
        )

    async def problem(self, campaign_id: int, problem: str, now: datetime) -> None:
        await self._tx(_server_problem, campaign_id, problem, now)

    async def reserve_day(self, now: datetime, owner: str, want: int) -> int:
        return await self._tx(lambda conn: usage.reserve_day(conn, self.settings.limit, now, owner, want))

    async def return_day(self, day: str, owner: str, unused: int) -> None:
        await self._tx(usage.return_day, day, owner, unused)

    async def reserve_relay(self, day: str, relay: str, want: int, cap: int) -> int:
        # usage.reserve_relay looked up at call time: tests/faults kill the connection inside it
        return await self._tx(lambda conn: usage.reserve_relay(conn, day, relay, want, cap))

    async def return_relays(self, day: str, unused: Mapping[str, int]) -> None:
        await self._tx(self._return_relays, day, dict(unused))

    @staticmethod
    def _return_relays(conn: Connection, day: str, unused: dict[str, int]) -> None:
        for key, n in unused.items():
            usage.return_relay(conn, day, key, n)


def _server_problem(conn: Connection, cid: int, problem: str | None, now: datetime) -> None:
    """Set (or, with None, clear) a campaign's current server problem; each change is kept in its history."""
    if problem is None:
        cleared = conn.execute(
            update(campaigns)
            .where(campaigns.c.id == cid, campaigns.c.server_problem.is_not(None))
            .values(server_problem=None)
        ).rowcount
        if cleared:
            history.record(conn, cid, history.SERVER_PROBLEM_OVER, "messages are accepted again", {}, at=now)
        return
    current = conn.execute(select(campaigns.c.server_problem).where(campaigns.c.id == cid)).scalar()
    conn.execute(update(campaigns).where(campaigns.c.id == cid).values(server_problem=problem, server_problem_at=now))
    if current != problem:  # once per problem, not per deferred message
        history.record(conn, cid, history.SERVER_PROBLEM, problem or "server problem", {}, at=now)


def _counted(results: Sequence[queue.Result]) -> tuple[int, int]:
    """What counts against the daily limit: (messages accepted, refused as bad addresses)."""
    sent = sum(1 for r in results if r.status is RecipientStatus.SENT)
    bad = sum(1 for r in results if r.status is RecipientStatus.ERROR and r.kind is FailureKind.RECIPIENT)
    return sent, bad
