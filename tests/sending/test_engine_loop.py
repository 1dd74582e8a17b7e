"""The sending loop without a database: `Sender` driven through a small in-memory SendStore of our own
(the port in sending/store.py), against a real SMTP server (aiosmtpd on a socket).

The real-database behaviour (SQLite and PostgreSQL) is proven by the other tests of tests/sending and
tests/faults; these show the loop itself: claim → build → relay → outcome → record, retries on the
schedule, the breaker and the daily limit, leases given back, and the engine's own shape."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sendwell.model import CampaignState, RecipientStatus
from sendwell.sending import engine
from sendwell.sending.engine import Sender
from sendwell.sending.message import CampaignContent
from sendwell.sending.queue import Job
from sendwell.sending.store import Check, Outcome, SendStore

from .conftest import sender_settings
from .smtpd import Script, ScriptedServer

OPEN = {RecipientStatus.QUEUED, RecipientStatus.DEFERRED}


class FakeStore:
    """One campaign's ledger in a dict: recipient id -> (email, status, attempts, next try, lease owner)."""

    def __init__(self, addresses: list[str], daily_limit: int = 1000) -> None:
        self.rows = {
            i: {
                "email": a,
                "status": RecipientStatus.QUEUED,
                "attempts": 0,
                "next": None,
                "owner": None,
                "reason": None,
            }
            for i, a in enumerate(addresses, 1)
        }
        self.state, self.limit, self.used = CampaignState.SENDING.value, daily_limit, 0
        self.reserved = 0  # of the daily limit
        self.breaker: str | None = None
        self.commits: list[int] = []  # outcomes per commit
        self.released: list[int] = []
        self.closed = False  # close(): the run gave back what the store keeps
        self.queued_at = datetime.now(UTC)

    def watch(self, stopped: asyncio.Event) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    async def secret(self) -> str:
        return "test-secret"

    async def error_window(self) -> list[bool]:
        return []

    async def check(
        self, campaign_ids, now, *, complaints_since=None, relay_day=None, start_due=False, heartbeat=None
    ) -> Check:
        return Check({1: self.state}, self.breaker, self.limit, self.used, (0, self.used) if complaints_since else None)

    async def campaign(self, campaign_id: int) -> CampaignContent:
        return CampaignContent(campaign_id, "Hello {{ name }}", "News <news@shop.example>", text="Hi {{ name }}!")

    async def claim(
        self, campaign_ids: Sequence[int], owner: str, n: int, lease_seconds: float, now: datetime
    ) -> tuple[list[Job], int]:
        due = [
            rid
            for rid, r in self.rows.items()
            if r["status"] in OPEN and r["owner"] is None and (r["next"] is None or r["next"] <= now)
        ][:n]
        for rid in due:
            self.rows[rid]["owner"] = owner
        return [
            Job(rid, 1, self.rows[rid]["email"], "", self.rows[rid]["attempts"], self.queued_at, {"name": f"N{rid}"})
            for rid in due
        ], 0

    async def record(self, outcomes: Sequence[Outcome], now: datetime, server_problem: str | None, owner="") -> None:
        self.commits.append(len(outcomes))
        for o in outcomes:
            r = o.result
            self.rows[r.id].update(
                status=r.status,
                next=r.next_attempt_at,
                owner=None,
                reason=r.reason,
                attempts=self.rows[r.id]["attempts"] + 1,
            )
            self.used += r.status is RecipientStatus.SENT

    async def release(self, ids: Sequence[int], owner: str) -> None:
        self.released += ids
        for rid in ids:
            if self.rows[rid]["owner"] == owner:
                self.rows[rid]["owner"] = None

    async def renew(self, ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        return {rid for rid in ids if self.rows[rid]["owner"] == owner}

    async def close_finished(self, campaign_ids, now, due_before) -> tuple[set[int], int]:
        left = [r for r in self.rows.values() if r["status"] in OPEN]
        if not left:
            self.state = CampaignState.FINISHED.value
            return {1}, 0
        return set(), sum(1 for r in left if r["next"] is None or r["next"] <= due_before)

    async def trip(self, reason: str, now: datetime) -> None:
        self.breaker = reason

    async def pause(self, campaign_id: int, reason: str, now: datetime) -> None:
        self.state = CampaignState.PAUSED.value

    async def problem(self, campaign_id: int, problem: str, now: datetime) -> None:
        pass

    async def reserve_day(self, now: datetime, owner: str, want: int) -> int:
        grant = max(0, min(want, self.limit - self.reserved))  # one worker: what it reserved covers its sends
        self.reserved += grant
        return grant

    async def return_day(self, day: str, owner: str, unused: int) -> None:
        self.reserved -= unused

    async def reserve_relay(self, day: str, relay: str, want: int, cap: int) -> int:
        return want

    async def return_relays(self, day: str, unused: Mapping[str, int]) -> None:
        pass


def statuses(store: FakeStore) -> dict[str, str]:
    return {r["email"]: r["status"].value for r in store.rows.values()}


def test_the_fake_is_a_send_store():
    assert isinstance(FakeStore([]), SendStore)


def test_the_loop_sends_every_recipient_once_and_records_each_outcome():
    addrs = [f"r{i}@x.org" for i in range(30)]
    store = FakeStore(addrs)
    with ScriptedServer() as srv:
        report = Sender(
            store,
            replace(sender_settings(srv.url), sending=replace(sender_settings(srv.url).sending, signing_processes=0)),
            linger=0.5,
        ).run()
        counts = srv.counts()
    assert report.stopped == "done" and report.counts["sent"] == 30
    assert counts == {a: 1 for a in addrs}
    assert statuses(store) == {a: "sent" for a in addrs}
    assert sum(store.commits) == 30 and store.state == CampaignState.FINISHED.value
    got = next(a for a in srv.accepted if a.rcpt == "r3@x.org")
    assert b"Hi N4!" in got.data  # rendered per recipient (r3 is row 4)


def test_a_refusal_is_recorded_and_a_deferral_retried_on_the_schedule():
    store = FakeStore(["ok@x.org", "gone@x.org", "later@x.org"])
    script = Script(rcpt={"gone@x.org": "550 5.1.1 no such user", "later@x.org": "451 4.7.1 try again later"})
    settings = sender_settings("", retry_schedule=(0.2, 3600))
    with ScriptedServer(script) as srv:
        settings = replace(settings, smtp=replace(settings.smtp, urls=(srv.url,)))
        report = Sender(store, settings, linger=0.5).run()
    rows = {r["email"]: r for r in store.rows.values()}
    assert rows["ok@x.org"]["status"] is RecipientStatus.SENT
    assert rows["gone@x.org"]["status"] is RecipientStatus.ERROR and rows["gone@x.org"]["reason"] == "userunknown"
    later = rows["later@x.org"]  # tried at once, again 0.2 s later (step 1), then waits the next step
    assert later["status"] is RecipientStatus.DEFERRED and later["attempts"] == 2
    assert later["next"] - datetime.now(UTC) > timedelta(seconds=3000)
    assert report.stopped == "idle"


def test_the_daily_limit_stops_the_run_and_unsent_leases_are_given_back():
    store = FakeStore([f"r{i}@x.org" for i in range(10)], daily_limit=4)
    with ScriptedServer() as srv:
        report = Sender(store, sender_settings(srv.url, connections=1), linger=0.5).run()
        assert sum(srv.counts().values()) == 4
    assert report.stopped == "limit" and "daily limit of 4" in report.message
    assert all(r["owner"] is None for r in store.rows.values())  # nothing left leased


def test_a_tripped_breaker_stops_before_any_claim():
    store = FakeStore(["a@x.org"])
    store.breaker = "too many address errors"
    with ScriptedServer() as srv:
        report = Sender(store, sender_settings(srv.url), linger=0.5).run()
        assert not srv.accepted
    assert (report.stopped, report.message) == ("breaker", "too many address errors")


def test_engine_is_the_loop_only():
    """Issue 15: sending/engine.py stays under 300 lines and imports neither sqlite3 nor sqlalchemy."""
    path = Path(engine.__file__)
    source = path.read_text()
    assert len(source.splitlines()) < 300
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"sqlite3", "sqlalchemy"}, imported
