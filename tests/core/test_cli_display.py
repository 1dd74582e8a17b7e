"""What the command line shows a person: help text as written (no Rich markup swallowed, no `<bool>` for a flag),
values as a person reads them (no Python reprs, no microseconds), the reasons listed where a reason is asked."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from sendwell.cli.common import cell
from sendwell.cli.sending import this_run

SENDWELL = [sys.executable, "-m", "sendwell.cli"]


@pytest.fixture
def run(tmp_path):
    env = {**os.environ, "SENDWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "250"}

    def _run(*args):
        return subprocess.run([*SENDWELL, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    return _run


def test_help_keeps_bracketed_setting_names_and_shows_no_bool_for_flags(run):
    r = run("campaigns", "send", "--help")
    assert "([smtp] connections)" in r.stdout and "( connections)" not in r.stdout
    assert "<bool>" not in r.stdout and "--json" in r.stdout


def test_blacklist_reason_help_lists_every_reason_and_a_bad_one_is_one_line(run, tmp_path):
    r = run("blacklist", "import", "--help")
    for reason in ("manual", "hard_bounce", "soft_bounce", "complaint", "unsubscribe", "invalid"):
        assert reason in r.stdout
    (tmp_path / "list.txt").write_text("x@example.com\n")
    r = run("blacklist", "import", str(tmp_path / "list.txt"), "--reason", "bounced")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "hard_bounce" in r.stderr


def test_campaigns_show_and_contacts_list_print_values_not_python(run, tmp_path):
    (tmp_path / "c.csv").write_text("email,first_name,city\nann@example.com,Ann,Hà Nội\n")
    (tmp_path / "t.txt").write_text("hello")
    assert run("contacts", "import", str(tmp_path / "c.csv")).returncode == 0
    r = run("contacts", "list")
    assert "first_name=Ann, city=Hà Nội" in r.stdout and "{" not in r.stdout
    run("segments", "create", "march-errors")
    r = run("campaigns", "create", "spring", "--subject", "Hi [b]you[/b]", "--from", "shop@example.com")
    r = run(
        "campaigns", "create", "c2", "--subject", "Hi [b]you[/b]", "--from", "s@example.com", "--text",
        str(tmp_path / "t.txt"), "--exclude", "march-errors",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run("campaigns", "show", "c2")
    assert "exclude: march-errors" in r.stdout and "reply_to: \n" in r.stdout
    assert "None" not in r.stdout and "['" not in r.stdout and "Hi [b]you[/b]" in r.stdout
    created = next(line for line in r.stdout.splitlines() if line.startswith("created_at"))
    assert len(created.split(": ")[1]) == len("2026-12-06 13:05:09")  # to the second, no microseconds


def test_cell_writes_values_for_people() -> None:
    assert cell(None) == "" and cell(["a", "b"]) == "a, b" and cell({"k": 1}) == "k=1" and cell(True) == "yes"
    assert cell(datetime(2026, 12, 6, 13, 5, 9, 123456, tzinfo=UTC)) == "2026-12-06 13:05:09"
    assert cell("2026-12-06T13:05:09.123456+00:00") == "2026-12-06 13:05:09"


def test_this_run_counts_recipients_not_attempts() -> None:
    before = {"queued": 120, "sent": 0, "error": 0, "deferred": 0}
    after = {"queued": 0, "sent": 109, "error": 9, "deferred": 2}
    attempts = {"sent": 109, "error": 9, "deferred": 17}  # some were deferred several times, then sent
    run = this_run(before, after, attempts)
    assert run == {"sent": 109, "error": 9, "failed": 0, "skipped": 0, "deferred": 2, "recipients": 120}
    assert json.loads(json.dumps(run))["deferred"] == 2
