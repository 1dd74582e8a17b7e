"""The sending loop: limit → claim → black list → build → relay → outcome → record, for one process.

One asyncio loop runs the relay connections, builds messages, claims batches and commits outcomes.
Every outcome is committed before its connection sends the next message (outcomes of all
connections share a commit), so a killed worker repeats at most the message each connection had
on the wire. Server problems (kind `server`) defer the recipient and
pause every connection for the next step of the retry schedule (2 s, 5 s, 15 s, 1 min, …).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from sendwell import events, hygiene
from sendwell.bounces.report import Reason
from sendwell.config import Settings
from sendwell.db.engine import utcnow, write_turn
from sendwell.db.schema import campaigns
from sendwell.model import CampaignState, FailureKind, RecipientStatus
from sendwell.sending import limit, outcome, queue, refusal, usage
from sendwell.sending.caps import RelayCaps
from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign
from sendwell.sending.relay import Connection as SmtpConnection
from sendwell.sending.relay import Relay, RelayPool, parse_relays

log = logging.getLogger("sendwell.sending")
BUILD_CHUNK = 64  # messages rendered, then signed in the DKIM pool, at a time
S, K = RecipientStatus, FailureKind


@dataclass
class RunReport:
    """What one run did and why it stopped."""

    counts: dict[str, int] = field(default_factory=lambda: {s: 0 for s in ("sent", "error", "deferred", "failed",
                                                                            "skipped")})
    stopped: str = ""  # done | idle | limit | breaker | paused | server | interrupted
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    server_problem: str | None = None


def lost_connection(err: DBAPIError) -> bool:
    """A database error that a new connection may not have: disconnects, a server starting up or
    shutting down, SQLite's lock wait running out. Not a bad statement or a constraint."""
    if err.connection_invalidated:
        return True
    if isinstance(err, (OperationalError, InterfaceError)):
        return not isinstance(err.orig, sqlite3.Error) or "locked" in str(err.orig)
    return False


def unreachable(err: DBAPIError) -> str:
    return (f"the database is unreachable ({str(err.orig or err).splitlines()[0]}); the recipients in hand "
            "are left to their leases, and the next run (or another worker) takes them")


def retry_at(job: queue.Job, now: datetime, settings: Settings) -> datetime | None:
    """When a deferred recipient is tried again, or None when its retry horizon has passed."""
    schedule = settings.sending.retry_schedule or (60.0,)
    delay = schedule[min(job.attempts, len(schedule) - 1)]
    when = now + timedelta(seconds=delay)
    if when - job.queued_at > timedelta(hours=settings.sending.retry_horizon_hours):
        return None
    return when


def result_for(job: queue.Job, reply: outcome.Reply, verdict: outcome.Outcome, message_id: str | None,
               now: datetime, settings: Settings) -> tuple[queue.Result, refusal.Judgment | None]:
    """The ledger row for one attempt, and the refusal to record as an event when the receiving side gave
    a final answer about the recipient.

    outcome.py's table decides whose side failed and whether to retry. An answer about the recipient is
    named by the bounce rules (refusal.judge), so the ledger says `userunknown` as a DSN would; the
    table's `error` must be confirmed by them (the address does not exist, bounces.report.is_hard),
    else the recipient gets what the hygiene policy gives the same bounce (`failed`, scored or not)."""
    status, kind = verdict.status, verdict.kind
    judged = refusal.judge(reply) if status is not S.SENT and kind is not K.SERVER else None
    if status is S.SENT:
        reason = Reason.DELIVERED.value
    elif judged is None:  # our relay, our account or the network: the stage and what went wrong
        what = reply.problem.value if reply.problem else (reply.enhanced or (str(reply.code) if reply.code else None))
        reason = f"{reply.stage.value}: {what or verdict.why}"
    else:
        reason = judged.reason.value
    event = None
    if judged is not None and status in (S.ERROR, S.FAILED):
        # Only RCPT TO names the address (the table's `error` rows); a 5.1.1 after DATA is never hard.
        event = replace(judged, hard=judged.hard and status is S.ERROR)
        if status is S.ERROR and not event.hard:
            decision = hygiene.decide_bounce(reason, event.status, False)
            status, kind = decision.status or S.FAILED, decision.kind or K.OTHER
    next_at = None
    if status is S.DEFERRED:
        next_at = retry_at(job, now, settings)
        if next_at is None:
            status, kind = outcome.exhausted(kind)
    return (queue.Result(job.id, status, kind, reason[:64], reply.code, reply.enhanced, reply.text or None,
                         message_id, next_at, sent=status is S.SENT), event)


class Sender:
    """Sends the due recipients of the sending campaigns (or of `campaign_ids`) until there is nothing
    left to do soon (foreground) or forever (the worker)."""

    def __init__(self, engine: Engine, settings: Settings, *, campaign_ids: Sequence[int] | None = None,
                 owner: str | None = None, clock: Callable[[], datetime] = utcnow, linger: float = 60.0,
                 forever: bool = False, on_progress: Callable[[RunReport], None] | None = None,
                 relays: list[Relay] | None = None) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        self.campaign_ids = list(campaign_ids) if campaign_ids else None
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.linger, self.forever, self.on_progress = linger, forever, on_progress
        self.relays = relays if relays is not None else parse_relays(settings.smtp.urls)
        self.pool = RelayPool(self.relays, settings.smtp.rest_seconds)
        self.caps = RelayCaps(self.pool, settings.limit)
        self.report = RunReport()
        self.states: dict[int, str] = {}
        self.prepared: dict[int, PreparedCampaign] = {}
        self.signers: dict[int, Any] = {}  # campaign -> dkim.Signer or None
        self.pools: dict[str, Any] = {}  # From domain -> dkim.SigningPool (signing_processes > 0)
        self.signing: dict[int, Any] = {}  # campaign -> its domain's pool, when it signs in one
        self._building: set[asyncio.Task] = set()
        self._in_build = 0  # claimed jobs being rendered and signed ahead
        self._cached: set[int] = set()  # SQLite connections given the sender's page cache size
        self._outage_since = 0.0  # monotonic time the database was first found unreachable, 0 when fine
        self._error_warning: int | None = None  # where the address-error warning is in report.warnings
        self.names: dict[int, str] = {}
        self.held: set[int] = set()
        self.leases: dict[int, datetime] = {}  # claimed recipient -> when our lease on it runs out
        self.backoff_until = datetime.min.replace(tzinfo=clock().tzinfo)
        self.backoff_step = 0
        self.window: deque[bool] = deque(maxlen=max(1, settings.limit.window_sends))
        # (job, its outcome, the live refusal to record as an event, the connection's relay, a future)
        self._pending: list[tuple[queue.Job, queue.Result, refusal.Judgment | None, str, asyncio.Future]] = []
        self._stop = False
        self._secret = ""
        self._tripped = False
        self._turn = 0
        self._stopped: asyncio.Event | None = None
        self._complaints_checked = datetime.min.replace(tzinfo=clock().tzinfo)

    # -- plumbing -------------------------------------------------------------------------------

    async def _db(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one transaction. Synchronously, in the loop's thread: a database thread would fight the
        loop for the GIL on every socket call (a convoy that cut throughput to a third), and the
        connections wait for their outcome's commit anyway.

        A lost connection (a PostgreSQL restart, a killed backend) rolls the transaction back; it is
        run again on a new connection until `database.reconnect_seconds` have passed, so a restart
        costs a pause, not the run. Every transaction here may run twice: claims and outcomes are
        keyed by recipient (only a commit lost in flight can count one batch's attempts twice)."""
        delay = 0.1
        while True:
            try:
                with write_turn(self.engine), self.engine.begin() as conn:
                    self._small_cache(conn)
                    result = fn(conn, *args)
                self._outage_since = 0.0
                return result
            except DBAPIError as err:
                if not lost_connection(err):
                    raise
                # One deadline for the whole outage (not one per call), and none of it once the run is
                # stopping: what is left in hand is then left to its leases, as if the worker were killed.
                now = time.monotonic()
                self._outage_since = self._outage_since or now
                if self._stop or now >= self._outage_since + self.settings.database.reconnect_seconds:
                    raise
                log.warning("database connection lost (%s); trying again in %.1f s",
                            str(err.orig or err).splitlines()[0], delay)
                await self._nap(delay)  # a stop request ends the wait
                delay = min(delay * 2, 5.0)

    def _small_cache(self, conn: Connection) -> None:
        """A 4 MiB SQLite page cache on the sender's connections, not the 64 MiB bulk imports get: the
        sender touches the recent end of the ledger only, and with the big cache its memory grew
        with the list (67 MB at 10k recipients, 131 MB at 1M) for no speed."""
        raw = conn.connection.dbapi_connection
        if conn.dialect.name == "sqlite" and id(raw) not in self._cached:
            conn.exec_driver_sql("PRAGMA cache_size=-4096")
            self._cached.add(id(raw))

    def _finish(self, why: str, message: str = "") -> None:
        if not self._stop:
            self._stop = True
            self.report.stopped, self.report.message = why, message
            if self._stopped is not None:
                self._stopped.set()

    async def _nap(self, seconds: float) -> None:
        """Sleep, but wake at once when the run is stopped (a signal, the breaker)."""
        if self._stopped is None:  # before the run has begun
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> RunReport:
        """Run the loop in this thread until it stops; returns the report."""
        return asyncio.run(self.run_async())

    async def run_async(self) -> RunReport:
        from sendwell.keys import app_secret

        self._secret = app_secret(self.engine, self.settings)
        self.window.extend(await self._db(usage.last_error_window, self.settings.limit))
        size = self.settings.sending.batch_size
        # (job, its message when built ahead: rendered and signed in the pool, or why it failed)
        self.jobs: asyncio.Queue[tuple[queue.Job, Any] | None] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # stop cleanly: finish messages in hand, release leases
            with contextlib.suppress(ValueError, NotImplementedError, RuntimeError):  # not the main thread
                loop.add_signal_handler(sig, self._finish, "interrupted", f"stopped by {sig.name}")
        workers = [asyncio.create_task(self._deliver()) for _ in range(max(1, self.settings.smtp.connections))]
        recorder = asyncio.create_task(self._recorder())
        renewer = asyncio.create_task(self._renew())
        try:
            await self._feed(size)
        except DBAPIError as err:
            if not lost_connection(err):
                raise
            self._finish("error", unreachable(err))
        finally:
            self._stop = True
            await asyncio.gather(*self._building, return_exceptions=True)
            released = []
            while not self.jobs.empty():
                item = self.jobs.get_nowait()
                if item is not None:
                    released.append(item[0].id)
            for _ in workers:
                self.jobs.put_nowait(None)
            await asyncio.gather(*workers, return_exceptions=True)
            self._wake.set()
            await recorder
            renewer.cancel()
            for pool in self.pools.values():
                pool.close()
            self.held.update(released)
            if self.caps.quota:
                with contextlib.suppress(DBAPIError):  # unreachable: those stay counted for today
                    await self._db(self.caps.release)
                    self.caps.released()
            if self.held:
                with contextlib.suppress(DBAPIError):  # unreachable: the leases expire instead
                    await self._db(queue.release, list(self.held), self.owner)
                self.held.clear()
        return self.report

    async def _feed(self, size: int) -> None:
        # Claim `size` more only when fewer than two per connection are waiting: a queue kept full to
        # `size` would lease a small campaign whole to the first worker while others sit idle.
        low = min(size, 2 * max(1, self.settings.smtp.connections))
        checked = datetime.min.replace(tzinfo=self.clock().tzinfo)
        while not self._stop:
            now = self.clock()
            if self._stocked(low) and now - checked < timedelta(seconds=1):
                await self._nap(0.005)  # enough work queued; look again at states once a second
                continue
            if now < self.backoff_until:
                wait = (self.backoff_until - now).total_seconds()
                if not self.forever and wait > self.linger:
                    self._finish("server", f"the relay keeps failing ({self.report.server_problem}); "
                                           f"next try in {wait:.0f} s: run the sending worker or send again")
                    break
                await self._nap(min(wait, 0.5))
                continue
            check = await self._db(self._check, now)
            self._checked(check, now)
            checked = now
            if check["breaker"]:
                if self.forever:
                    await self._nap(5)
                    continue
                self._finish("breaker", check["breaker"])
                break
            active = [cid for cid, st in self.states.items() if st == CampaignState.SENDING]
            if not active:
                if self.forever:
                    await self._nap(1)
                    continue
                states = set(self.states.values())
                self._finish("done" if states <= {CampaignState.DONE} else "paused",
                             "" if states <= {CampaignState.DONE} else f"campaign is {', '.join(sorted(states))}")
                break
            allowance = check["remaining"] - len(self.held)
            if allowance <= 0:
                renewed = limit.next_day_start(now, self.settings.limit, calendar=bool(check["capped"]))
                if self.forever:
                    await self._nap(min(60.0, max(1.0, (renewed - now).total_seconds())))
                    continue
                if not self.held:
                    what = check["capped"] or f"daily limit of {check['limit']} reached"
                    self._finish("limit", f"{what}; the rest waits until {renewed:%Y-%m-%d %H:%M %Z}")
                    break
                await self._nap(0.05)
                continue
            if self._stocked(low):
                continue
            n = min(size, allowance)
            jobs, skipped = await self._db(self._claim, active, n, now)
            self.report.counts["skipped"] += skipped  # counted once committed: a transaction may run twice
            if jobs:
                until = now + timedelta(seconds=self.settings.sending.lease_seconds)
                ahead = []
                for job in jobs:
                    self.held.add(job.id)
                    self.leases[job.id] = until
                    if job.campaign_id in self.signing:
                        ahead.append(job)
                    else:
                        self.jobs.put_nowait((job, None))
                if ahead:
                    self._in_build += len(ahead)
                    task = asyncio.create_task(self._build(ahead))
                    self._building.add(task)
                    task.add_done_callback(self._building.discard)
                continue
            if self.held:  # still sending what we have: outcomes may open new work (retries)
                await self._nap(0.1)
                continue
            soon = await self._db(self._idle, active, now)
            if not self.forever and soon == 0:
                self._finish("done" if all(s == CampaignState.DONE for s in self.states.values()) else "idle")
                break
            await self._nap(0.2 if soon else 1.0)

    def _stocked(self, low: int) -> bool:
        """Enough jobs queued or being built; when campaigns sign, a chunk more, since it spends a while
        in the pool before it can be sent."""
        return self.jobs.qsize() + self._in_build >= low + BUILD_CHUNK * bool(self.signing)

    def _check(self, conn: Connection, now: datetime) -> dict[str, Any]:
        """Campaign states, the breaker, today's allowance (and complaint rate) before a claim."""
        self.states = queue.sending_campaigns(conn, self.campaign_ids)
        for cid in self.states:
            if cid not in self.prepared:
                self._prepare(conn, cid)
        tripped = usage.breaker(conn)
        if self._tripped and not tripped:  # the operator resumed: start a fresh error window
            self.window.clear()
        self._tripped = tripped is not None
        _, stats = usage.today(conn, self.settings.limit, now)
        remaining = max(0, stats.limit - usage.used(conn, self.settings.limit, now))
        complaints = None
        if now >= self._complaints_checked + timedelta(seconds=30):  # a scan of events: not on every claim
            since = max(now - timedelta(days=7), usage.as_time((usage.get_state(conn, usage.BREAKER) or {})
                                                               .get("resumed_at")) or now - timedelta(days=7))
            complaints = limit.judge_complaints(usage.complaints_since(conn, since),
                                                usage.sent_since(conn, self.settings.limit, since),
                                                self.settings.limit)
            if complaints.level is limit.Level.PAUSE and not tripped:
                usage.trip(conn, complaints.message, now)
                tripped = usage.breaker(conn)
        capped = self.caps.refresh(conn, now)
        if capped:
            remaining = 0
        return {"breaker": tripped["reason"] if tripped else None, "remaining": remaining, "limit": stats.limit,
                "capped": capped, "complaints": complaints}

    def _checked(self, check: dict[str, Any], now: datetime) -> None:
        """What `_check` found, kept once its transaction committed (it may run twice)."""
        complaints = check["complaints"]
        if complaints is None:
            return
        self._complaints_checked = now
        if complaints.level is limit.Level.PAUSE:
            self._tripped = True  # the breaker is set: by this check, or already before it
        elif complaints.level is limit.Level.WARN and complaints.message not in self.report.warnings:
            self.report.warnings.append(complaints.message)

    def _prepare(self, conn: Connection, cid: int) -> None:
        row = conn.execute(select(campaigns).where(campaigns.c.id == cid)).first()
        content = CampaignContent(row.id, row.subject, row.from_addr, row.html, row.text, row.reply_to,
                                  tuple(row.track or ()))
        links = Links(self._secret, self.settings.sending.bounce_domain, self.settings.sending.public_url)
        self.prepared[cid] = PreparedCampaign(content, links)
        self.names[cid] = row.name
        from sendwell import dkim

        self.signers[cid] = dkim.Signer.for_from_domain(row.from_addr)
        if self.signers[cid] is not None and self.settings.sending.signing_processes > 0:
            domain = self.signers[cid].domain
            if domain not in self.pools:
                self.pools[domain] = dkim.SigningPool(domain, processes=self.settings.sending.signing_processes)
            self.signing[cid] = self.pools[domain]
        if self.signers[cid] is None:
            warning = dkim.missing_key_warning(row.from_addr)
            if warning and warning not in self.report.warnings:
                self.report.warnings.append(warning)

    def _claim(self, conn: Connection, active: list[int], n: int, now: datetime) -> tuple[list[queue.Job], int]:
        """(jobs claimed, recipients skipped as blacklisted)."""
        jobs: list[queue.Job] = []
        skipped = 0
        self._turn += 1  # campaigns take turns at being claimed from first, so none starves the others
        k = self._turn % len(active)
        for cid in active[k:] + active[:k]:
            got, banned = queue.claim(conn, campaign_id=cid, owner=self.owner, limit=n - len(jobs),
                                      lease_seconds=self.settings.sending.lease_seconds, now=now)
            skipped += banned
            jobs += got
            if len(jobs) >= n:
                break
        return jobs, skipped

    def _idle(self, conn: Connection, active: list[int], now: datetime) -> int:
        """Close finished campaigns; count recipients due within `linger` seconds."""
        soon = 0
        for cid in active:
            if queue.finish_if_done(conn, cid, now):
                self.states[cid] = CampaignState.DONE
                continue
            soon += queue.open_count(conn, cid, due_before=now + timedelta(seconds=self.linger))
        return soon

    async def _renew(self) -> None:
        every = max(0.2, self.settings.sending.lease_seconds / 3)
        while True:
            await asyncio.sleep(every)
            if self.held:
                until = self.clock() + timedelta(seconds=self.settings.sending.lease_seconds)
                held = list(self.held)
                with contextlib.suppress(DBAPIError):  # the database is away: the leases run down
                    kept = await self._db(queue.renew, held, self.owner, until)
                    for rid in held:  # one not kept is another worker's now: _lease_lapsing drops it
                        if rid in kept:
                            self.leases[rid] = until
                        else:
                            self.leases.pop(rid, None)

    async def _slot(self, relay: Relay) -> bool:
        """Take one of today's messages of `relay` (reserving a block in the database when ours are used
        up); False when it has none left today (it is then marked capped)."""
        if self.caps.take(relay):
            return True
        day, granted = await self._db(self.caps.reserve, relay, self.clock())
        return bool(self.caps.grant(relay, day, granted)) and self.caps.take(relay)

    def _let_go(self, rid: int) -> None:
        """The recipient is no longer in this worker's hands (recorded, given back, or taken over)."""
        self.held.discard(rid)
        self.leases.pop(rid, None)

    async def _give_back(self, job: queue.Job) -> None:
        """Release our lease on a job we will not send now, so any worker may claim it again."""
        await self._db(queue.release, [job.id], self.owner)
        self._let_go(job.id)

    def _lease_lapsing(self, job: queue.Job) -> bool:
        """True when our lease on the job has (nearly) run out, e.g. while the database was away: another
        worker may have taken the recipient over, so sending it now could mail it twice. Renewals keep
        at least two thirds of a lease ahead, so a healthy run never gets here."""
        until = self.leases.get(job.id)
        return until is None or self.clock() >= until - timedelta(seconds=self.settings.sending.lease_seconds / 3)

    # -- delivery -------------------------------------------------------------------------------

    async def _deliver(self) -> None:
        conn: SmtpConnection | None = None
        try:
            while True:
                item = await self.jobs.get()
                if item is None:
                    break
                job, built = item
                while self.clock() < self.backoff_until and not self._stop:
                    await asyncio.sleep(min(0.2, (self.backoff_until - self.clock()).total_seconds()))
                if self._lease_lapsing(job):  # not ours any more: whoever claims it next sends it
                    self._let_go(job.id)
                    continue
                if self._stop or self.states.get(job.campaign_id) != CampaignState.SENDING:
                    await self._give_back(job)
                    continue
                conn = await self._send_one(job, conn, built)
        except DBAPIError as err:
            if not lost_connection(err):
                log.exception("sending stopped by a database error")
            self._finish("error", unreachable(err) if lost_connection(err) else f"database error: {err}")
        except Exception as err:
            # A bug must stop the run (leases are released below), not leave a connection short and
            # the foreground `send` waiting forever on a queue nobody empties.
            log.exception("sending stopped by an internal error")
            self._finish("error", f"internal error: {type(err).__name__}: {err}")
        finally:
            if conn is not None:
                await conn.close()

    async def _build(self, jobs: list[queue.Job]) -> None:
        """Render claimed jobs BUILD_CHUNK at a time and have their domain's pool DKIM-sign each chunk while the
        next one renders (the loop keeps sending in between); queue them, in order, once signed. A chunk
        that cannot be built or signed is queued with the error, so its recipients end `failed` instead
        of waiting forever on leases we keep renewing."""
        chunks = [jobs[i:i + BUILD_CHUNK] for i in range(0, len(jobs), BUILD_CHUNK)]
        signing: list[asyncio.Future] = []
        try:
            for chunk in chunks:
                signing.append(asyncio.ensure_future(self._sign(chunk, [self._render(j) for j in chunk])))
                await asyncio.sleep(0)
        finally:
            for k, chunk in enumerate(chunks):
                try:
                    built = await signing[k] if k < len(signing) else None
                except Exception as err:  # noqa: BLE001 - recorded on each recipient of the chunk
                    log.exception("could not build or sign %d messages", len(chunk))
                    built = [err] * len(chunk)
                if built is None:  # cancelled before this chunk was rendered: give the jobs back
                    for job in chunk:
                        self.jobs.put_nowait((job, None))
                else:
                    for job, item in zip(chunk, built, strict=True):
                        self.jobs.put_nowait((job, item))
                self._in_build -= len(chunk)

    async def _sign(self, chunk: list[queue.Job], built: list[Any]) -> list[Any]:
        by_pool: dict[Any, list[int]] = {}
        for k, item in enumerate(built):
            if not isinstance(item, Exception):
                by_pool.setdefault(self.signing[chunk[k].campaign_id], []).append(k)
        for pool, ks in by_pool.items():
            try:
                signed = await pool.sign_batch([built[k].data for k in ks])
            except Exception:  # noqa: BLE001 - a broken pool: sign in this process instead
                log.exception("the DKIM signing pool failed; signing in the sending process")
                signed = [self.signers[chunk[k].campaign_id].sign(built[k].data) for k in ks]
            for k, data in zip(ks, signed, strict=True):
                built[k] = replace(built[k], data=data)
        return built

    def _render(self, job: queue.Job) -> Any:
        """The job's message, or the exception its template raised for this contact's fields."""
        try:
            return self.prepared[job.campaign_id].render(Personal(job.id, job.email, job.fields))
        except Exception as err:  # noqa: BLE001 - reported on the recipient's row
            return err

    async def _send_one(self, job: queue.Job, conn: SmtpConnection | None, built: Any = None) -> SmtpConnection | None:
        rendered = built if built is not None else self._render(job)
        if isinstance(rendered, Exception):  # a template that fails for this contact's fields
            text = f"the message could not be built: {type(rendered).__name__}: {rendered}"[:1000]
            await self._record(job, queue.Result(job.id, S.FAILED, K.OTHER, "template error", smtp_answer=text))
            return conn
        signer = self.signers.get(job.campaign_id)
        if signer is not None and built is None:  # DKIM: the key of the From domain (docs/authentication.md)
            rendered = replace(rendered, data=signer.sign(rendered.data))
        reply = None
        while True:
            if conn is not None and conn.is_open:
                if await self._slot(conn.relay):
                    break
                await conn.close()  # its relay reached its daily cap: done for today
            if not self.pool.available:  # every relay at its cap: the recipient waits for tomorrow
                await self._give_back(job)
                return None
            relay = self.pool.pick()
            conn = SmtpConnection(relay, timeout=self.settings.smtp.timeout, helo_name=self.settings.smtp.helo_name)
            reply = await conn.open()
            if reply is not None:  # could not open: a server problem, handled below
                break
        if reply is None:  # rendered (and signed) messages end every line in CRLF (tests/fuzz/test_header_injection.py)
            reply = await conn.send(rendered.envelope_from, rendered.rcpt, rendered.data, crlf=True)
            if conn.relay.daily_limit and outcome.classify(reply).status is not S.SENT:
                self.caps.give_back(conn.relay)
        verdict = outcome.classify(reply)
        now = self.clock()
        if verdict.kind is K.SERVER:
            self.pool.rest(conn.relay)
            conn.abort()
            self._server_problem(now, reply, conn.relay)
        elif verdict.status is S.SENT:
            self.pool.ok(conn.relay)
            self.backoff_step = 0
        result, refused = result_for(job, reply, verdict, rendered.message_id if verdict.status is S.SENT else None,
                                     now, self.settings)
        await self._record(job, result, refused, conn.relay.label)
        if conn.is_open and conn.sent >= self.settings.smtp.messages_per_connection:
            await conn.close()
        return conn

    def _server_problem(self, now: datetime, reply: outcome.Reply, relay: Relay) -> None:
        code = f"{reply.code} {reply.enhanced or ''}".strip() if reply.code else (reply.problem or "")
        text = reply.text
        if reply.enhanced and text.startswith(reply.enhanced):  # servers repeat the code in their text
            text = text[len(reply.enhanced):].lstrip()
        self.report.server_problem = f"{relay.label} at {reply.stage.value}: {code} {text}".strip()[:500]
        if now >= self.backoff_until:  # one step per round of failures, not one per connection
            schedule = self.settings.sending.retry_schedule or (60.0,)
            delay = schedule[min(self.backoff_step, len(schedule) - 1)]
            self.backoff_step += 1
            self.backoff_until = now + timedelta(seconds=delay)
            log.warning("server problem: %s; all connections wait %.0f s", self.report.server_problem, delay)

    # -- recording ------------------------------------------------------------------------------

    async def _record(self, job: queue.Job, result: queue.Result, refused: refusal.Judgment | None = None,
                      relay: str = "") -> None:
        """Queue the outcome for the next commit and wait for it: the connection sends nothing until then."""
        fut = asyncio.get_running_loop().create_future()
        self._pending.append((job, result, refused, relay, fut))
        self._wake.set()
        await fut

    async def _recorder(self) -> None:
        while True:
            await self._wake.wait()
            # Group commit: take loop turns while outcomes keep arriving (answers already on the
            # sockets), so one commit carries several connections' outcomes; a commit costs more
            # than a message's rendering.
            seen = 0
            while len(self._pending) != seen and len(self._pending) < self.settings.smtp.connections:
                seen = len(self._pending)
                await asyncio.sleep(0)
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                try:
                    await self._db(self._flush, [item[:4] for item in batch], self.clock())
                except Exception as err:  # noqa: BLE001 - hand the failure to every waiting connection
                    for *_, fut in batch:
                        fut.set_exception(err)
                    lost = isinstance(err, DBAPIError) and lost_connection(err)
                    self._finish("error", unreachable(err) if lost else f"could not record outcomes: {err}")
                    continue
                for job, result, *_, fut in batch:
                    self._let_go(job.id)
                    self.report.counts[result.status.value] = self.report.counts.get(result.status.value, 0) + 1
                    if result.status in (S.SENT, S.ERROR) and (result.status is S.SENT or result.kind is K.RECIPIENT):
                        self.window.append(result.status is S.ERROR)
                    fut.set_result(None)
                await self._judge_window()
                if self.on_progress:
                    self.on_progress(self.report)
            elif self._stop and not self._pending:
                return

    def _flush(self, conn: Connection, items: list[tuple[queue.Job, queue.Result, refusal.Judgment | None, str]],
               now: datetime) -> None:
        if conn.dialect.name == "postgresql":
            # The commit must survive this worker, not the database server: skipping the WAL flush
            # wait is safe against a killed worker and saves a disk sync per group of outcomes.
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        results = [r for _, r, _, _ in items]
        queue.record(conn, results, now)
        sent = sum(1 for r in results if r.status is S.SENT)
        bad = sum(1 for r in results if r.status is S.ERROR and r.kind is K.RECIPIENT)
        usage.add(conn, self.settings.limit, now, sent=sent, address_errors=bad)
        server = {j.campaign_id for j, r, _, _ in items if r.kind is K.SERVER}
        for cid in server:
            conn.execute(update(campaigns).where(campaigns.c.id == cid)
                         .values(server_problem=self.report.server_problem, server_problem_at=now))
        # Refusals become events in this same transaction; the hygiene policy (not this engine) decides
        # from them what happens to the address, as for a DSN.
        events.record_answers(conn, self.settings, [
            events.Answer(j.email, j.display, j.campaign_id, j.id, j.attempts + 1, r.stage, relay, r.answer,
                          r.reason.value, r.status, r.hard)
            for j, _, r, relay in items if r is not None], now)

    async def _judge_window(self) -> None:
        judged = limit.judge_errors(list(self.window), self.settings.limit)
        if judged.level is limit.Level.PAUSE:
            await self._db(usage.trip, judged.message, self.clock())
            if not self.forever:
                self._finish("breaker", judged.message)
        elif judged.level is limit.Level.WARN:  # one warning, kept up to date (its figures change with each send)
            if self._error_warning is None:
                self._error_warning = len(self.report.warnings)
                self.report.warnings.append(judged.message)
            else:
                self.report.warnings[self._error_warning] = judged.message


def send(engine: Engine, settings: Settings, campaign_ids: Sequence[int] | None = None, **kwargs: Any) -> RunReport:
    """Send now, in this process, until nothing is due within `linger` seconds (see Sender)."""
    return Sender(engine, settings, campaign_ids=campaign_ids, **kwargs).run()
