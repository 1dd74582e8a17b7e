"""Scheduling: a draft gets a start time in a zone (never in the past), goes back to a draft, and a running
worker starts it at that time, not before, resolving its audience then; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from sendwell import campaigns
from sendwell.db.engine import as_utc, open_database
from sendwell.errors import UserError
from sendwell.model import CampaignState
from sendwell.schedule import schedule_campaign, start_due, unschedule_campaign

from .smtpd import Script, ScriptedServer
from factories import add_contacts, started_campaign

SENDWELL = [sys.executable, "-m", "sendwell.cli"]
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_schedule_in_a_named_zone_stores_utc_and_shows_it_back_in_that_zone(engine):
    cid = started_campaign(engine, ["a@x.org"], start=False)
    got = schedule_campaign(engine, cid, "2026-12-24 09:00", "Asia/Ho_Chi_Minh", default_tz="UTC", now=NOW)
    assert got.scheduled_at == datetime(2026, 12, 24, 2, 0, tzinfo=UTC)  # UTC+7
    assert got.local == "2026-12-24 09:00 Asia/Ho_Chi_Minh"
    row = campaigns.get_campaign(engine, cid)
    assert row.state == CampaignState.SCHEDULED
    assert as_utc(row.scheduled_at) == datetime(2026, 12, 24, 2, 0, tzinfo=UTC)
    assert row.schedule_tz == "Asia/Ho_Chi_Minh"
    assert row.recipients == 0  # the audience is resolved when it starts, not now


@pytest.mark.parametrize(
    ("at", "zone", "default", "utc"),
    [
        ("2026-12-24 09:00", None, "UTC", datetime(2026, 12, 24, 9, 0, tzinfo=UTC)),  # the installation's zone
        ("2026-12-24 09:00", None, "Europe/Paris", datetime(2026, 12, 24, 8, 0, tzinfo=UTC)),
        ("2027-07-01T09:00", "Europe/Paris", "UTC", datetime(2027, 7, 1, 7, 0, tzinfo=UTC)),  # summer time
        ("2026-12-24T09:00+07:00", "Europe/Paris", "UTC", datetime(2026, 12, 24, 2, 0, tzinfo=UTC)),  # offset wins
        ("2026-12-24T09:00Z", None, "Asia/Tokyo", datetime(2026, 12, 24, 9, 0, tzinfo=UTC)),
    ],
)
def test_times_without_a_zone_take_the_given_or_the_installation_zone(sqlite_engine, at, zone, default, utc):
    cid = started_campaign(sqlite_engine, ["a@x.org"], start=False)
    assert schedule_campaign(sqlite_engine, cid, at, zone, default_tz=default, now=NOW).scheduled_at == utc


@pytest.mark.parametrize(
    ("at", "zone", "field", "words"),
    [
        ("2026-12-06 11:59", None, "at", "is in the past"),
        ("2026-12-06 18:00", "Asia/Ho_Chi_Minh", "at", "is in the past"),  # 11:00 UTC: an hour ago
        ("tomorrow at nine", None, "at", "is not a time"),
        ("2026-12-24 09:00", "Mars/Olympus", "timezone", "is not a time zone"),
    ],
)
def test_a_past_time_or_an_unreadable_time_or_zone_is_refused(engine, at, zone, field, words):
    cid = started_campaign(engine, ["a@x.org"], start=False)
    with pytest.raises(UserError) as err:
        schedule_campaign(engine, cid, at, zone, default_tz="UTC", now=NOW)
    assert err.value.field == field and words in err.value.message
    assert "\n" not in str(err.value)
    assert campaigns.get_campaign(engine, cid).state == CampaignState.DRAFT


def test_unschedule_makes_a_draft_again_and_only_drafts_are_scheduled(engine):
    cid = started_campaign(engine, ["a@x.org"], start=False)
    schedule_campaign(engine, cid, "2026-12-24 09:00", None, default_tz="UTC", now=NOW)
    campaigns.edit_campaign(engine, cid, subject="Still editable")  # nothing is resolved until it starts
    assert unschedule_campaign(engine, cid) == "c1"
    row = campaigns.get_campaign(engine, cid)
    assert (row.state, row.scheduled_at, row.subject) == (CampaignState.DRAFT, None, "Still editable")
    with pytest.raises(UserError, match="is draft, not scheduled"):
        unschedule_campaign(engine, cid)
    started = started_campaign(engine, [], name="c2")
    with pytest.raises(UserError, match="only a draft can be scheduled"):
        schedule_campaign(engine, started, "2026-12-24 09:00", None, default_tz="UTC", now=NOW)


def test_start_due_starts_only_campaigns_whose_time_came_with_the_audience_of_that_time(engine):
    early = started_campaign(engine, ["a@x.org", "b@x.org"], start=False, name="early")
    late = started_campaign(engine, [], start=False, name="late")
    schedule_campaign(engine, early, "2026-12-06 13:00", None, default_tz="UTC", now=NOW)
    schedule_campaign(engine, late, "2026-12-06 15:00", None, default_tz="UTC", now=NOW)
    add_contacts(engine, ["c@x.org"])  # joined after scheduling: still in the audience
    with engine.begin() as conn:
        assert start_due(conn, NOW + timedelta(minutes=59)) == {}
    with engine.begin() as conn:
        assert start_due(conn, NOW + timedelta(hours=1)) == {early: 3}
    with engine.begin() as conn:  # a second worker finds nothing left to start
        assert start_due(conn, NOW + timedelta(hours=1, seconds=1)) == {}
    assert campaigns.get_campaign(engine, early).state == CampaignState.SENDING
    assert campaigns.get_campaign(engine, late).state == CampaignState.SCHEDULED


def test_two_workers_at_the_same_moment_start_a_scheduled_campaign_once(engine):
    import threading

    cid = started_campaign(engine, [f"p{i}@x.org" for i in range(50)], start=False)
    schedule_campaign(engine, cid, "2026-12-06 13:00", None, default_tz="UTC", now=NOW)
    barrier, results = threading.Barrier(2), []

    def worker() -> None:
        barrier.wait()
        with engine.begin() as conn:
            results.append(start_due(conn, NOW + timedelta(hours=2)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results, key=len) == [{}, {cid: 50}]
    assert campaigns.get_campaign(engine, cid).recipients == 50  # one ledger, not two


@pytest.fixture
def smtp():
    with ScriptedServer(Script()) as srv:
        yield srv


def _env(db_url: str, smtp: ScriptedServer) -> dict[str, str]:
    return {
        **os.environ,
        "SENDWELL_DATABASE_URL": db_url,
        "SENDWELL_SMTP_URL": smtp.url,
        "SENDWELL_SENDING_SECRET": "k",
        "SENDWELL_SENDING_TIMEZONE": "Asia/Ho_Chi_Minh",
        "COLUMNS": "200",
    }


def test_schedule_and_unschedule_from_the_command_line(db_url, smtp, tmp_path):
    engine = open_database(db_url)
    started_campaign(engine, ["a@x.org"], start=False, name="xmas")
    engine.dispose()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = _env(db_url, smtp)
        return subprocess.run([*SENDWELL, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    r = run("campaigns", "schedule", "xmas", "--at", "2099-12-24 09:00")  # in [sending] timezone
    assert r.returncode == 0, r.stderr
    assert "scheduled for 2099-12-24 09:00 Asia/Ho_Chi_Minh (2099-12-24 02:00 UTC)" in r.stdout
    r = run("campaigns", "schedule", "xmas", "--at", "2099-12-24 09:00", "--timezone", "UTC", "--json")
    assert json.loads(r.stdout)["scheduled_at"] == "2099-12-24T09:00:00+00:00"
    assert json.loads(run("campaigns", "show", "xmas", "--json").stdout)["state"] == "scheduled"
    past = run("campaigns", "schedule", "xmas", "--at", "2020-01-01 09:00")
    assert past.returncode == 2 and "Traceback" not in past.stderr
    assert len(past.stderr.strip().splitlines()) == 1
    assert "--at: 2020-01-01 09:00 Asia/Ho_Chi_Minh is in the past" in past.stderr
    bad = run("campaigns", "schedule", "xmas", "--at", "2099-12-24 09:00", "--timezone", "Nowhere/City")
    assert bad.returncode == 2 and "--timezone: 'Nowhere/City' is not a time zone" in bad.stderr
    r = run("campaigns", "unschedule", "xmas")
    assert r.returncode == 0 and "a draft again" in r.stdout
    assert json.loads(run("campaigns", "show", "xmas", "--json").stdout)["state"] == "draft"


def test_a_running_worker_sends_a_campaign_scheduled_10_seconds_ahead_after_its_time_and_not_before(
    db_url, smtp, tmp_path
):
    """The real clock: a `sendwell worker` process, started first, waits while the time has not come, then
    starts the campaign (with a contact who joined after scheduling) and delivers every message."""
    people = [f"p{i}@x.org" for i in range(5)]
    engine = open_database(db_url)
    cid = started_campaign(engine, people, start=False, name="soon")
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=10)
    schedule_campaign(engine, cid, at.isoformat(), None, default_tz="UTC")
    logfile = tmp_path / "worker.log"
    with logfile.open("w") as log:
        worker = subprocess.Popen([*SENDWELL, "worker"], env=_env(db_url, smtp), cwd=tmp_path, stdout=log, stderr=log)
    try:
        add_contacts(engine, ["late@x.org"])
        while datetime.now(UTC) < at - timedelta(seconds=0.3):  # nothing before the time
            assert not smtp.accepted, f"sent before {at}"
            assert worker.poll() is None, logfile.read_text()
            time.sleep(0.1)
        deadline = time.monotonic() + 20
        while len(smtp.counts()) < len(people) + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert smtp.counts() == {a: 1 for a in [*people, "late@x.org"]}, logfile.read_text()
        started = as_utc(campaigns.get_campaign(engine, cid).started_at)
        assert started >= at  # started by the worker at its time, not earlier
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        engine.dispose()
