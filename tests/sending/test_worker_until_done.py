"""`sendwell worker --until-done` starts scheduled campaigns too: one due within its linger (a minute) is waited
for, started at its time (not before) and sent, then the worker exits; one due later is left to a running worker.
Real clock, real SMTP server, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from sendwell import campaigns
from sendwell.db.engine import as_utc, open_database
from sendwell.schedule import schedule_campaign

from .smtpd import ScriptedServer
from factories import started_campaign

SENDWELL = [sys.executable, "-m", "sendwell.cli"]


@pytest.fixture
def smtp():
    with ScriptedServer() as srv:
        yield srv


def _env(db_url: str, smtp: ScriptedServer) -> dict[str, str]:
    return {
        **os.environ,
        "SENDWELL_DATABASE_URL": db_url,
        "SENDWELL_SMTP_URL": smtp.url,
        "SENDWELL_SENDING_SECRET": "k",
    }


def test_until_done_waits_for_a_campaign_due_soon_sends_it_and_exits(db_url, smtp, tmp_path):
    engine = open_database(db_url)
    people = [f"p{i}@x.org" for i in range(3)]
    cid = started_campaign(engine, people, start=False, name="soon")
    later = started_campaign(engine, [], start=False, name="later")  # due in an hour: not waited for
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    schedule_campaign(engine, cid, at.isoformat(), None, default_tz="UTC")
    schedule_campaign(engine, later, (at + timedelta(hours=1)).isoformat(), None, default_tz="UTC")
    try:
        began = time.monotonic()
        r = subprocess.run(
            [*SENDWELL, "worker", "--until-done"],
            env=_env(db_url, smtp),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - began < 45  # did not wait for the one due in an hour
        assert smtp.counts() == {a: 1 for a in people}, r.stderr
        camp = campaigns.get_campaign(engine, cid)
        assert camp.state == "finished"
        assert as_utc(camp.started_at) >= at  # started at its time, not before
        assert campaigns.get_campaign(engine, later).state == "scheduled"
    finally:
        engine.dispose()
