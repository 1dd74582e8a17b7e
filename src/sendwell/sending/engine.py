"""The sending loop: limit → claim → black list → build → relay → outcome → record, for one process.

One asyncio loop runs the relay connections, builds messages, claims batches and commits outcomes. Every outcome is
committed before its connection sends the next body (outcomes of all connections share a commit; the next message's
MAIL/RCPT/DATA may go ahead, relay.py), so a killed worker repeats at most the message each connection had on the wire.
Server problems (kind `server`) defer the recipient and pause every connection for the next step of the retry schedule
(2 s, 5 s, 15 s, …). Elsewhere: the database behind a SendStore (store.py, db/), messages and DKIM in render.py, leases
in queue.py, retries in retry.py, ledger rows in result.py, relays in courier.py, pauses in halt.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sendwell.config import Settings
from sendwell.db.engine import utcnow
from sendwell.model import CampaignState, FailureKind, RecipientStatus
from sendwell.sending import eventloop, limit, outcome, queue, workers
from sendwell.sending.commit import GroupCommit
from sendwell.sending.courier import NO_SEAT, Courier
from sendwell.sending.guard import Guard
from sendwell.sending.halt import Halts
from sendwell.sending.quota import DayQuota
from sendwell.sending.relay import Connection, Relay, parse_relays
from sendwell.sending.render import Builder, Built
from sendwell.sending.report import RunReport
from sendwell.sending.result import result_for, unbuilt
from sendwell.sending.store import Outcome, SendStore, StoreError, StoreUnavailable

log = logging.getLogger("sendwell.sending")
S, K, C = RecipientStatus, FailureKind, CampaignState


class Sender:
    """Sends the due recipients of the sending campaigns (or of `campaign_ids`) until there is nothing
    left to do soon (foreground) or forever (the worker). `db` is a SQLAlchemy Engine or a SendStore."""

    def __init__(
        self,
        db: Any,
        settings: Settings,
        *,
        campaign_ids: Sequence[int] | None = None,
        owner: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        linger: float = 60.0,
        forever: bool = False,
        on_progress: Callable[[RunReport], None] | None = None,
        relays: list[Relay] | None = None,
        worker: bool | None = None,
    ) -> None:
        from sendwell.sending.sqlstore import open_store  # imported here: a SendStore given needs no SQL

        db = db if isinstance(db, SendStore) else open_store(db, settings)
        self.store, self.settings, self.clock = db, settings, clock
        self.campaign_ids = list(campaign_ids) if campaign_ids else None
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.linger, self.forever, self.on_progress = linger, forever, on_progress
        self.duties = workers.Duties(forever if worker is None else worker, self.owner, linger)  # workers.py
        self.relays = relays if relays is not None else parse_relays(settings.smtp.urls)
        self.report = RunReport()
        self.guard = Guard(settings.limit, self.report.warnings)
        never = datetime.min.replace(tzinfo=clock().tzinfo)  # for the courier's back-off: none yet
        self.courier = Courier(self.relays, settings, self.store, never, warn=self.guard.warn)
        self.halts = Halts(self.store, settings.sending.pause_after_same_refusals, clock)
        self.builder = Builder(settings.sending, dkim_dir=settings.dkim.dir)
        self.leases = queue.Leases(settings.sending.lease_seconds)
        self.quota = DayQuota(self.store, settings.limit, self.owner, settings.sending.batch_size)
        self.states: dict[int, str] = {}
        self._stop, self._turn, self._stopped = False, 0, asyncio.Event()
        self.store.watch(self._stopped)

    def _finish(self, why: str, message: str = "") -> None:
        if not self._stop:
            self._stop = True
            self.report.stopped, self.report.message = why, message
            self._stopped.set()

    async def _nap(self, seconds: float) -> None:
        """Sleep, but wake at once when the run is stopped (a signal, the breaker)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    def run(self) -> RunReport:
        """Run the loop in this thread until it stops; returns the report."""
        return eventloop.run(self.run_async(), self.settings.sending.event_loop)

    async def run_async(self) -> RunReport:
        self.builder.secret = await self.store.secret()
        self.guard.window.extend(await self.store.error_window())
        # (job, its message when built ahead: rendered and signed in the pool, or why it failed)
        self.jobs: asyncio.Queue[tuple[queue.Job, Built | None] | None] = asyncio.Queue()
        self.commits = GroupCommit(
            lambda batch: self.store.record(batch, self.clock(), self.report.server_problem, self.owner),
            self.settings.smtp.connections,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # stop cleanly: finish messages in hand, release leases
            with contextlib.suppress(ValueError, NotImplementedError, RuntimeError):  # not the main thread
                loop.add_signal_handler(sig, self._finish, "interrupted", f"stopped by {sig.name}")
        workers = [asyncio.create_task(self._deliver()) for _ in range(max(1, self.settings.smtp.connections))]
        recorder = asyncio.create_task(self.commits.run(self._committed, self._not_committed))
        renewer = asyncio.create_task(
            self.leases.keep(lambda ids, until: self.store.renew(ids, self.owner, until), self.clock, (StoreError,))
        )
        try:
            await self._feed()
        except StoreUnavailable as err:
            self._finish("error", str(err))
        finally:
            self._stop = True
            self._stopped.set()  # from here a lost database is not waited for: leases expire instead
            await self.builder.drain()
            while not self.jobs.empty():
                self.jobs.get_nowait()  # still leased: released below
            for _ in workers:
                self.jobs.put_nowait(None)
            await asyncio.gather(*workers, return_exceptions=True)
            self.commits.close()
            await recorder
            renewer.cancel()
            self.builder.close()
            with contextlib.suppress(StoreError):  # unreachable: those stay counted for today
                await self.courier.return_unused()
                await self.quota.give_back()
            with contextlib.suppress(StoreError):  # unreachable: the leases expire instead
                await self.store.release(self.leases.ids(), self.owner)
            self.leases.clear()
            self.store.close()
        return self.report

    async def _feed(self) -> None:
        size = self.settings.sending.batch_size
        # Claim more only when under two per connection wait (a full queue leases a small campaign to one worker)
        low = min(size, 2 * max(1, self.settings.smtp.connections))
        checked = datetime.min.replace(tzinfo=self.clock().tzinfo)
        while not self._stop:
            now = self.clock()
            if self.builder.stocked(self.jobs.qsize(), low) and now - checked < timedelta(seconds=1):
                await self._nap(0.005)  # enough work queued; look again at states once a second
                continue
            if now < self.courier.backoff_until:
                wait = (self.courier.backoff_until - now).total_seconds()
                if not self.forever and wait > self.linger:
                    why = f"the relay keeps failing ({self.courier.problem}); next try in {wait:.0f} s"
                    return self._finish("server", why + ": run the sending worker or send again")
                await self._nap(min(wait, 0.5))
                continue
            (tripped, remaining, capped, daily), checked = await self._check(now), now
            active = [cid for cid, st in self.states.items() if st == C.SENDING]
            allowance = await self.quota.allowance(now, len(self.leases)) if remaining > 0 and active else 0
            if tripped or not active:
                if self.forever or (not tripped and self.duties.starts_in(now) is not None):  # or one starts soon
                    await self._nap(5 if tripped else 1)
                    continue
                if tripped:
                    return self._finish("breaker", tripped)
                states = set(self.states.values())
                if states <= {C.FINISHED}:
                    return self._finish("done")
                why = "; ".join(self.halts.why.values()) or f"campaign is {', '.join(sorted(states))}"
                return self._finish("paused", why)
            if allowance <= 0:
                renewed = limit.next_day_start(now, self.settings.limit, calendar=bool(capped))
                if self.forever:
                    await self._nap(min(60.0, max(1.0, (renewed - now).total_seconds())))
                elif not self.leases:
                    what = capped or self.quota.why_none(daily, remaining)
                    return self._finish("limit", f"{what}; the rest waits until {renewed:%Y-%m-%d %H:%M %Z}")
                else:
                    await self._nap(0.05)
            elif not self.builder.stocked(self.jobs.qsize(), low):
                self._turn += 1  # campaigns take turns at being claimed from first, so none starves the others
                k = self._turn % len(active)
                jobs, skipped = await self.store.claim(
                    active[k:] + active[:k], self.owner, min(size, allowance), self.settings.sending.lease_seconds, now
                )
                self.report.counts["skipped"] += skipped  # counted once committed: a transaction may run twice
                if jobs or self.leases:  # still sending what we have: outcomes may open new work (retries)
                    if jobs:
                        self.leases.take((job.id for job in jobs), now)
                        self.builder.hand_out(jobs, lambda job, built: self.jobs.put_nowait((job, built)))
                    else:
                        await self._nap(0.1)
                    continue
                done, soon = await self.store.close_finished(active, now, now + timedelta(seconds=self.linger))
                self.states.update(dict.fromkeys(done, C.FINISHED))
                if not self.forever and soon == 0 and self.duties.starts_in(now) is None:
                    return self._finish("done" if all(s == C.FINISHED for s in self.states.values()) else "idle")
                await self._nap(0.2 if soon else 1.0)

    async def _check(self, now: datetime) -> tuple[str | None, int, str | None, int]:
        """Before a claim: campaign states, the breaker, relays at their caps, today's allowance.
        Returns (breaker reason, remaining, capped, the limit)."""
        found = await self.store.check(
            self.campaign_ids,
            now,
            complaints_since=self.guard.complaints_since(now),
            relay_day=self.courier.caps.day_of(now) if self.courier.caps.limited else None,
            start_due=self.duties.on,  # the worker starts scheduled campaigns at their time
            heartbeat=self.duties.heartbeat(now),
        )
        self.states, self.duties.next_scheduled = found.states, found.next_scheduled
        for cid in found.states:
            if not self.builder.knows(cid):
                self.guard.warn(self.builder.prepare(await self.store.campaign(cid)))
        tripped, trip = self.guard.checked(found, now)
        if trip and tripped:  # complaints above the threshold
            await self.store.trip(tripped, now)
        capped = self.courier.caps.refresh(found.relays, now)
        return tripped, 0 if capped else max(0, found.limit - found.used), capped, found.limit

    async def _deliver(self) -> None:
        conn, held = None, None  # held: the job this connection sends next, taken to announce it (relay.py)
        try:
            while (item := held or await self.jobs.get()) is not None:
                (job, built), held = item, None
                while (wait := (self.courier.backoff_until - self.clock()).total_seconds()) > 0 and not self._stop:
                    await asyncio.sleep(min(0.2, wait))
                if self.leases.lapsing(job.id, self.clock()):  # not ours any more: whoever claims it next sends it
                    self.leases.let_go(job.id)
                elif self._stop or self.states.get(job.campaign_id) != C.SENDING or job.campaign_id in self.halts.why:
                    await self.store.release([job.id], self.owner)  # not sent now: any worker may claim it again
                    self.leases.let_go(job.id)
                else:  # no None (the end) is queued before a stop; a connection yet to open may wait for a seat
                    ready = conn is not None and conn.is_open and not (self._stop or self.jobs.empty())
                    if held := self.jobs.get_nowait() if ready else None:
                        held = (held[0], held[1] or self.builder.build_one(held[0]))  # built now, to announce it
                    conn = await self._send_one(job, conn, built, held[1] if held else None)
        except StoreError as err:
            lost = isinstance(err, StoreUnavailable)
            if not lost:
                log.exception("sending stopped by a database error")
            self._finish("error", str(err) if lost else f"database error: {err}")
        except Exception as err:
            # A bug must stop the run (leases are released after), not leave a connection short and
            # the foreground `send` waiting forever on a queue nobody empties.
            log.exception("sending stopped by an internal error")
            self._finish("error", f"internal error: {type(err).__name__}: {err}")
        finally:
            if conn is not None:
                await conn.close()

    async def _send_one(
        self, job: queue.Job, conn: Connection | None, built: Built | None, then=None
    ) -> Connection | None:
        rendered = built if built is not None else self.builder.build_one(job)
        if isinstance(rendered, Exception):  # a template that fails for this contact's fields
            await self.commits.record(Outcome(job, unbuilt(job, rendered)))
            return conn
        conn, reply = await self.courier.connect(conn, self.clock())
        if reply is NO_SEAT:  # the relays take no more of our connections: another one sends it
            self.jobs.put_nowait((job, built))
            await self.courier.wait_for_seat(self._nap, lambda: self._stop)
            return None
        if conn is None or await self.halts.unsendable(job.campaign_id, len(rendered.data), conn, reply):
            await self.store.release([job.id], self.owner)
            self.leases.let_go(job.id)
            return conn
        reply = reply or await self.courier.send(conn, rendered, then)
        verdict, now = outcome.classify(reply), self.clock()
        await self.halts.answered(job.campaign_id, reply, verdict)
        await self.courier.answered(conn, reply, verdict, now)
        self.report.server_problem = self.courier.problem
        result, refused = result_for(
            job, reply, verdict, rendered.message_id if verdict.status is S.SENT else None, now, self.settings.sending
        )
        await self.commits.record(Outcome(job, result, refused, conn.relay.label))
        return conn

    async def _committed(self, batch: list[Outcome]) -> None:
        for done in batch:
            self.leases.let_go(done.result.id)
            self.report.counts[done.result.status.value] = self.report.counts.get(done.result.status.value, 0) + 1
            self.guard.counted(done.result)
            self.quota.counted(done.result)
        if tripped := self.guard.judge():
            await self.store.trip(tripped, self.clock())
            if not self.forever:
                self._finish("breaker", tripped)
        if self.on_progress:
            self.on_progress(self.report)

    def _not_committed(self, err: Exception) -> None:
        self._finish("error", str(err) if isinstance(err, StoreUnavailable) else f"could not record outcomes: {err}")


def send(db: Any, settings: Settings, campaign_ids: Sequence[int] | None = None, **kwargs: Any) -> RunReport:
    """Send now, in this process, until nothing is due within `linger` seconds (see Sender)."""
    return Sender(db, settings, campaign_ids=campaign_ids, **kwargs).run()
