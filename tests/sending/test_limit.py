"""The daily limit and the circuit breaker: the pure policy, then the engine stopping and resuming on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sendwell.config import LimitSettings
from sendwell.db.engine import utcnow
from sendwell.db.schema import daily_usage, events, recipients, usage_shards
from sendwell.model import RecipientStatus
from sendwell.sending import limit, usage
from sendwell.sending.engine import send
from sendwell.sending.limit import DayStats, Level
from sendwell.sending.queue import Result

from .conftest import sender_settings
from factories import started_campaign

S = LimitSettings(start=1000, cap=8000)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (None, 1000),  # first day: the start value
        (DayStats(1000, 500, 5), 2000),  # half used, 1% errors: doubles
        (DayStats(1000, 1000, 0), 2000),
        (DayStats(1000, 499, 0), 1000),  # less than half used: keeps
        (DayStats(1000, 970, 30), 1000),  # 3% errors: keeps
        (DayStats(4000, 3000, 300), 2000),  # 9% errors: halves
        (DayStats(1000, 900, 100), 1000),  # halves, but never below start
        (DayStats(8000, 8000, 0), 8000),  # doubles, but never above cap
    ],
)
def test_growth_policy(day, expected):
    assert limit.next_limit(day, S) == expected


@pytest.mark.parametrize(
    ("errors", "level"), [(0, Level.OK), (25, Level.OK), (26, Level.WARN), (50, Level.WARN), (51, Level.PAUSE)]
)
def test_breaker_over_the_last_500_sends(errors, level):
    window = [True] * errors + [False] * (500 - errors)
    assert limit.judge_errors([False] * 300 + window, LimitSettings()).level is level


@pytest.mark.parametrize(
    ("sends", "errors", "level"),
    [(40, 25, Level.OK), (40, 26, Level.WARN), (60, 50, Level.WARN), (60, 51, Level.PAUSE), (499, 25, Level.OK)],
)
def test_breaker_before_a_full_window_judges_what_the_window_can_no_longer_avoid(sends, errors, level):
    """26 errors in the first 40 sends: the 500-send window is above 5% whatever follows."""
    window = [True] * errors + [False] * (sends - errors)
    judged = limit.judge_errors(window, LimitSettings())
    assert judged.level is level
    if level is not Level.OK:
        assert f"{errors} address errors in the first {sends} sends" in judged.message


@pytest.mark.parametrize(("complaints", "level"), [(1, Level.OK), (2, Level.WARN), (4, Level.PAUSE)])
def test_complaint_rate(complaints, level):
    assert limit.judge_complaints(complaints, 1000, LimitSettings()).level is level


def test_day_boundary_in_the_configured_zone():
    now = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    berlin = LimitSettings(timezone="Europe/Berlin")
    assert limit.day_of(now, berlin) == "2026-03-02"
    assert limit.next_day_start(now, berlin) == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
    assert limit.day_of(now, LimitSettings()) == "2026-03-01"
    rolling = LimitSettings(timezone="Europe/Berlin", window="rolling")
    assert limit.next_day_start(now, rolling) == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # the next hour
    assert limit.next_day_start(now, rolling, calendar=True) == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)


def test_limit_holds_mail_until_the_next_day_and_then_grows(engine, server, clock):
    cid = started_campaign(engine, [f"r{i}@x.org" for i in range(12)])
    settings = sender_settings(server.url, start=5, cap=100)
    report = send(engine, settings, [cid], clock=clock, linger=0.5)
    assert report.stopped == "limit" and report.counts["sent"] == 5
    assert sum(server.counts().values()) == 5
    with engine.connect() as conn:
        assert conn.execute(select(recipients.c.status).where(recipients.c.status == "queued")).all().__len__() == 7
    report = send(engine, settings, [cid], clock=clock, linger=0.5)  # same day: nothing more
    assert report.stopped == "limit" and report.counts["sent"] == 0

    clock.advance(days=1)
    report = send(engine, settings, [cid], clock=clock, linger=0.5)
    assert report.stopped == "done" and report.counts["sent"] == 7
    assert server.counts() == {f"r{i}@x.org": 1 for i in range(12)}
    with engine.connect() as conn:
        days = [(d.limit, d.sent) for d in reversed(usage.history(conn))]  # the workers' shards summed
    assert days == [(5, 5), (10, 7)]  # a full clean day doubled the next day's limit


def test_breaker_pauses_all_sending_until_resumed(engine, server):
    dead = {f"d{i}@x.org" for i in range(15)}
    server.script.rcpt = {a: "550 5.1.1 no such user" for a in dead}
    cid = started_campaign(engine, sorted(dead | {f"ok{i}@x.org" for i in range(45)}))
    settings = sender_settings(server.url, window_sends=10)
    report = send(engine, settings, [cid], linger=0.5)
    assert report.stopped == "breaker" and "address error" in report.message.replace("address-error", "address error")
    with engine.connect() as conn:
        assert usage.breaker(conn) is not None
        left = conn.execute(select(recipients.c.id).where(recipients.c.status == "queued")).all()
    assert left, "the breaker stopped the campaign before its end"

    again = send(engine, settings, [cid], linger=0.5)
    assert again.stopped == "breaker" and sum(again.counts.values()) == 0  # stays paused

    assert usage.resume_breaker(engine)
    server.script.rcpt = {}
    done = send(engine, settings, [cid], linger=0.5)
    assert done.stopped == "done"


def test_complaints_above_threshold_pause_sending(engine, server):
    cid = started_campaign(engine, ["a@x.org"])
    now = utcnow()
    with engine.begin() as conn:
        usage.today(conn, LimitSettings(), now)
        conn.execute(daily_usage.update().values(sent=1000))
        conn.execute(events.insert(), [{"at": now, "type": "complaint", "email": f"c{i}@x.org"} for i in range(4)])
    report = send(engine, sender_settings(server.url), [cid], linger=0.5)
    assert report.stopped == "breaker" and "complaint rate" in report.message
    assert server.counts() == {}


def test_rolling_window_counts_the_last_24_hours(engine, server, clock):
    cid = started_campaign(engine, [f"r{i}@x.org" for i in range(8)])
    settings = sender_settings(server.url, start=5, cap=5, window="rolling")
    assert send(engine, settings, [cid], clock=clock, linger=0.5).counts["sent"] == 5
    clock.advance(hours=23)  # the five are still inside the window
    assert send(engine, settings, [cid], clock=clock, linger=0.5).stopped == "limit"
    clock.advance(hours=2)  # 25 hours on
    report = send(engine, settings, [cid], clock=clock, linger=0.5)
    assert report.stopped == "done" and report.counts["sent"] == 3
    assert sum(server.counts().values()) == 8


def test_a_restarted_worker_seeds_its_window_with_opened_messages_too(engine):
    """Messages later read or clicked were delivered: they count as clean sends in the breaker's window."""
    cid = started_campaign(engine, [f"w{i}@x.org" for i in range(8)])
    statuses = ["sent", "read", "clicked", "clicked", "error", "read", "queued", "deferred"]
    now = utcnow()
    with engine.begin() as conn:
        ids = (
            conn.execute(select(recipients.c.id).where(recipients.c.campaign_id == cid).order_by(recipients.c.id))
            .scalars()
            .all()
        )
        for k, (rid, status) in enumerate(zip(ids, statuses, strict=True)):
            conn.execute(
                recipients.update()
                .where(recipients.c.id == rid)
                .values(
                    status=status,
                    kind="recipient" if status == "error" else None,
                    updated_at=now + timedelta(seconds=k),
                )
            )
        window = usage.last_error_window(conn, LimitSettings())
    assert window == [False, False, False, False, True, False]


@pytest.mark.parametrize("window", ["calendar", "rolling"])
def test_per_relay_daily_caps_hold_mail_until_the_next_day(engine, window, clock):
    """`?daily_limit=N` on a relay URL: that relay accepts at most N a day; when every relay is at its cap
    the rest waits for tomorrow (stopped "limit"; caps count calendar days, with a rolling daily limit too),
    and `limit --json` shows each relay's count."""
    from sendwell.sending.usage import limit_report

    from .smtpd import ScriptedServer

    addrs = [f"c{i}@x.org" for i in range(20)]
    with ScriptedServer() as a, ScriptedServer() as b:
        urls = (f"{a.url}?daily_limit=5", f"{b.url}?daily_limit=7")
        settings = sender_settings(urls, start=1000, window=window)
        cid = started_campaign(engine, addrs)
        report = send(engine, settings, [cid], clock=clock, linger=0.5)
        assert report.stopped == "limit" and "every relay reached its daily cap" in report.message
        midnight = limit.next_day_start(clock(), settings.limit, calendar=True)
        assert f"waits until {midnight:%Y-%m-%d %H:%M}" in report.message
        assert (sum(a.counts().values()), sum(b.counts().values())) == (5, 7)
        caps = {f"127.0.0.1:{a.port}": 5, f"127.0.0.1:{b.port}": 7}
        shown = limit_report(engine, settings.limit, clock(), relay_caps=caps).relays
        assert {r.relay: (r.sent_today, r.remaining) for r in shown} == {
            f"127.0.0.1:{a.port}": (5, 0),
            f"127.0.0.1:{b.port}": (7, 0),
        }

        clock.advance(days=1)
        report = send(engine, settings, [cid], clock=clock, linger=0.5)
        assert report.stopped == "done"
        assert sum(a.counts().values()) + sum(b.counts().values()) == len(addrs)
        assert set(a.counts()) | set(b.counts()) == set(addrs)
        assert max(a.counts().values()) == max(b.counts().values()) == 1


@pytest.mark.parametrize(
    "url, words",
    [
        ("smtp://h:25?daily_limit=0", "daily_limit must be a positive"),
        ("smtp://h:25?daily_limit=lots", "daily_limit must be a positive"),
        ("smtp://u:secret@h:25?dayly_limit=5", "unknown option dayly_limit"),
        ("smtp://u:secret@h:port", "bad port"),
        ("smpt://u:secret@h:25", "scheme must be"),
        ("smtp://u:secret@:25", "no host"),
        ("u:secret@mail.example.com:587", "scheme must be"),
        ("smtp:/u:secret@h:25", "no host"),
        ("smtp+starttls//u:secret@h:587", "scheme must be"),
    ],
)
def test_bad_relay_options_are_named(url, words):
    from sendwell.errors import UserError
    from sendwell.sending.relay import parse_relay

    with pytest.raises(UserError, match=words) as err:
        parse_relay(url)
    assert "secret" not in str(err.value)


def test_the_address_error_warning_is_one_line_kept_up_to_date(engine, server):
    """30 errors in the first 100 sends: the warn band of a 500-send window. The run reports one warning
    with the latest figures, not one per send."""
    dead = {f"x{i}@x.org" for i in range(30)}
    server.script.rcpt = {a: "550 5.1.1 no such user" for a in dead}
    cid = started_campaign(engine, sorted(dead | {f"y{i}@x.org" for i in range(70)}))
    report = send(engine, sender_settings(server.url), [cid], linger=0.5)
    assert report.stopped == "done" and report.counts["error"] == 30
    about_errors = [w for w in report.warnings if "address errors" in w or "address-error" in w]
    assert about_errors == [
        "30 address errors in the first 100 sends (already 6.0% of a 500-send window) is above 5.0%"
    ]


def test_workers_sharing_a_capped_relay_never_exceed_its_cap_together(engine):
    """Two senders at once on one ledger and one relay with ?daily_limit=20: they reserve the relay's
    messages in the database, so the relay receives exactly 20, and the count says 20 (unused
    reservations given back)."""
    import threading

    from sendwell.sending.usage import relays_today

    from .smtpd import ScriptedServer

    addrs = [f"w{i}@x.org" for i in range(100)]
    with ScriptedServer() as relay:
        settings = sender_settings(f"{relay.url}?daily_limit=20", start=1000, connections=3, batch_size=10)
        cid = started_campaign(engine, addrs)
        reports = []
        workers = [
            threading.Thread(target=lambda: reports.append(send(engine, settings, [cid], linger=0.5))) for _ in range(2)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        assert sum(relay.counts().values()) == 20
        assert {r.stopped for r in reports} == {"limit"}
    with engine.connect() as conn:
        assert relays_today(conn, settings.limit, utcnow()) == {f"127.0.0.1:{relay.port}": 20}


def test_workers_reserve_the_daily_limit_exactly_and_count_in_their_own_rows(engine):
    settings = LimitSettings(start=100, cap=100)
    now = utcnow()
    day = limit.day_of(now, settings)
    with engine.begin() as conn:
        assert usage.reserve_day(conn, settings, now, "worker-a", 60) == 60
        assert usage.reserve_day(conn, settings, now, "worker-b", 60) == 40  # what a holds is not free
        assert usage.reserve_day(conn, settings, now, "worker-c", 10) == 0
        usage.add(conn, settings, now, sent=25, address_errors=5, owner="worker-a")
        usage.return_day(conn, day, "worker-a", 30)  # a's run ends: it used 30 of its 60
        assert usage.reserve_day(conn, settings, now, "worker-c", 50) == 30
        usage.add(conn, settings, now, sent=40, address_errors=0, owner="worker-b")
        assert usage.used(conn, settings, now) == 70  # the shards summed
        today = usage.history(conn, 1)[0]
        assert (today.sent, today.address_errors) == (65, 5)
        owners = conn.execute(select(usage_shards.c.owner).where(usage_shards.c.day == day)).scalars().all()
    assert sorted(owners) == ["worker-a", "worker-b", "worker-c"]  # one row each


def test_a_worker_holds_at_most_two_blocks_of_the_day_leased_ones_included(engine):
    """What a worker holds (reserved, not spent) is what the day loses if it is killed: two blocks, never two
    blocks on top of what it has leased."""
    import asyncio

    from sendwell.config import Settings
    from sendwell.sending.quota import DayQuota
    from sendwell.sending.sqlstore import open_store

    settings = Settings(limit=LimitSettings(start=1000, cap=1000))
    now = utcnow()
    day = limit.day_of(now, settings.limit)
    quota = DayQuota(open_store(engine, settings), settings.limit, "worker-a", 50)

    async def story() -> list[int]:
        seen = [await quota.allowance(now, 0)]  # reserves two blocks
        seen.append(await quota.allowance(now, 60))  # 60 leased: 40 left, but two blocks are already held
        for _ in range(30):
            quota.counted(Result(0, RecipientStatus.SENT, None, None))
        seen.append(await quota.allowance(now, 30))  # 30 spent: topped up to two blocks again
        return seen

    assert asyncio.run(story()) == [100, 40, 70]
    with engine.connect() as conn:
        granted = conn.execute(select(usage_shards.c.granted).where(usage_shards.c.day == day)).scalar_one()
    assert granted == 130  # 100 + the 30 spent; the old top-up of `left` had reserved 160 by the second call
