"""The sending commands as a user runs them, against a real SMTP server: send, stats, export, resend, limit."""

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest

from sendwell import campaigns
from sendwell.db.engine import open_database

from .smtpd import Script, ScriptedServer
from factories import add_contacts

SENDWELL = [sys.executable, "-m", "sendwell.cli"]


@pytest.fixture
def smtp():
    with ScriptedServer(
        Script(rcpt={"dead@x.org": "550 5.1.1 no such user", "full@x.org": "452 4.2.2 mailbox full"})
    ) as srv:
        yield srv


@pytest.fixture
def run(tmp_path, smtp):
    env = {
        **os.environ,
        "SENDWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "COLUMNS": "200",
        "SENDWELL_SMTP_URL": smtp.url,
        "SENDWELL_SENDING_RETRY_SCHEDULE": "3600",
        "SENDWELL_SENDING_SECRET": "k",
    }

    def _run(*args):
        return subprocess.run([*SENDWELL, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    return _run


def setup_campaign(tmp_path, name: str, people: dict[str, str]) -> None:
    """Contacts and a draft campaign, made in-process (the CLI for them is tested elsewhere)."""
    engine = open_database(f"sqlite:///{tmp_path / 'cli.db'}")
    add_contacts(engine, list(people), {a: {"first_name": n} for a, n in people.items()})
    campaigns.create_campaign(
        engine,
        name=name,
        subject="Hi {{ first_name }}",
        from_addr="Shop <n@shop.example>",
        html="<p>Hi {{ first_name }}</p>",
    )
    engine.dispose()


def test_send_stats_export_resend(run, smtp, tmp_path):
    setup_campaign(
        tmp_path, "spring", {"ann@x.org": "Ann", "bob@x.org": "Bob", "dead@x.org": "Dee", "full@x.org": "Flo"}
    )
    r = run("campaigns", "send", "spring", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["stats"]["by_status"] == {"queued": 0, "sent": 2, "deferred": 1, "error": 1, "failed": 0, "skipped": 0}
    assert smtp.counts() == {"ann@x.org": 1, "bob@x.org": 1}

    stats = json.loads(run("campaigns", "stats", "spring", "--json").stdout)
    assert stats["error_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert stats["top_errors"][0]["enhanced_code"] == "5.1.1"
    assert stats["top_errors"][0]["reason"] == "userunknown"  # the name a DSN of the same answer gets
    assert "1 × userunknown 550 5.1.1: 5.1.1 no such user" in run("campaigns", "stats", "spring").stdout
    assert stats["server_problems"]["deferred"] == 0

    r = run("campaigns", "recipients", "spring", "--status", "error", "-o", "errors.csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "errors.csv").read_text())))
    assert [(x["email"], x["reason"], x["smtp_code"], x["enhanced_code"], x["first_name"]) for x in rows] == [
        ("dead@x.org", "userunknown", "550", "5.1.1", "Dee")
    ]
    assert "no such user" in rows[0]["smtp_answer"] and rows[0]["updated_at"]

    r = run("campaigns", "recipients", "spring", "--status", "deferred", "--format", "json")
    assert [x["email"] for x in json.loads(r.stdout)] == ["full@x.org"]

    r = run("campaigns", "resend", "spring", "--status", "sent")
    assert r.returncode == 2 and "only deferred, failed" in r.stderr and "Traceback" not in r.stderr

    smtp.script.rcpt.pop("full@x.org")
    r = run("campaigns", "resend", "spring", "--status", "deferred", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["stats"]["by_status"]["sent"] == 3
    assert smtp.counts() == {"ann@x.org": 1, "bob@x.org": 1, "full@x.org": 1}  # nobody twice, dead never

    limit = json.loads(run("limit", "--json").stdout)
    assert limit["today"]["limit"] == 1000 and limit["today"]["used"] == 4
    assert limit["today"]["remaining"] == 996 and limit["breaker"] is None


def test_pause_resume_cancel_and_mistakes(run, tmp_path):
    setup_campaign(tmp_path, "c", {"ann@x.org": "Ann"})
    r = run("campaigns", "pause", "c")
    assert r.returncode == 2 and "is draft" in r.stderr
    r = run("campaigns", "stats", "ghost")
    assert r.returncode == 2 and "ghost" in r.stderr and "Traceback" not in r.stderr
    r = run("campaigns", "recipients", "c", "--status", "bogus")
    assert r.returncode == 2 and "--status" in r.stderr
    r = run("campaigns", "cancel", "c")
    assert r.returncode == 0
    r = run("campaigns", "send", "c")
    assert r.returncode == 2 and "cancelled" in r.stderr


def test_send_with_several_processes_sends_each_recipient_once(run, smtp, tmp_path):
    """`send --processes 2`: a second process shares the connections (and the ledger); every recipient
    is sent exactly once and the statistics are the campaign's, whoever sent."""
    people = {f"p{i}@x.org": f"P{i}" for i in range(300)}
    setup_campaign(tmp_path, "split", people)
    # Nothing is answered until both processes hold recipients, however long the second takes to start on a
    # loaded machine: the first leases one batch (200), the second the rest.
    smtp.script.hold = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(run, "campaigns", "send", "split", "--processes", "2", "--connections", "4", "--json")
        try:
            owners = lease_owners(tmp_path / "cli.db")
            deadline = time.monotonic() + 50
            while len(owners) < 2 and time.monotonic() < deadline and not sending.done():
                time.sleep(0.05)
                owners = lease_owners(tmp_path / "cli.db")
        finally:
            smtp.script.hold.set()
        r = sending.result()
    assert r.returncode == 0, r.stderr
    assert len(owners) == 2, owners
    out = json.loads(r.stdout)
    assert out["stats"]["by_status"]["sent"] == len(people)
    assert smtp.counts() == {a: 1 for a in people}
    assert 0 < out["attempts"]["sent"] < len(people), r.stderr  # the other process sent the rest
    assert out["this_run"]["sent"] == out["this_run"]["recipients"] == len(people)  # per recipient, all processes
    bad = run("campaigns", "send", "split", "--processes", "5", "--connections", "4")
    assert bad.returncode == 2 and "--processes: at most one per connection" in bad.stderr


def lease_owners(db: Path) -> set[str]:
    """The processes holding recipients of the ledger now."""
    with closing(sqlite3.connect(db, timeout=30)) as con:
        return {o for (o,) in con.execute("SELECT DISTINCT lease_owner FROM recipients WHERE lease_owner IS NOT NULL")}


def test_send_in_the_background_hands_the_whole_configuration_to_the_worker(run, smtp, tmp_path):
    """`send --background` returns at once; the worker it starts (configured like the command, here by
    environment variables only) sends everything and exits."""
    import time

    people = {f"b{i}@x.org": f"B{i}" for i in range(40)}
    setup_campaign(tmp_path, "later", people)
    r = run("campaigns", "send", "later", "--background", "--json")
    assert r.returncode == 0, r.stderr
    started = json.loads(r.stdout)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the worker is not our child: wait for the campaign instead
        stats = json.loads(run("campaigns", "stats", "later", "--json").stdout)
        if stats["state"] == "finished":
            break
        time.sleep(0.2)
    assert stats["by_status"]["sent"] == len(people), Path(started["log"]).read_text()
    assert smtp.counts() == {a: 1 for a in people}
