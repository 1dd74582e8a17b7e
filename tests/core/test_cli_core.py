"""The command line as a user runs it: exit codes, one-line errors, --json everywhere."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SENDWELL = [sys.executable, "-m", "sendwell.cli"]


@pytest.fixture
def run(tmp_path):
    env = {**os.environ, "SENDWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200"}

    def _run(*args, stdin: str | None = None):
        return subprocess.run(
            [*SENDWELL, *args], input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
        )

    return _run


def test_import_reports_bad_rows_without_traceback(run, tmp_path):
    f = tmp_path / "people.csv"
    f.write_text("email,first_name\nann@example.com,Ann\nbroken@,B\nbob@example.org,Bob\n")
    r = run("contacts", "import", str(f), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["imported"] == 2 and out["rejected"] == [
        {"line": 3, "text": "broken@", "reason": "missing domain after '@'"}
    ]
    r = run("contacts", "count", "--json")
    assert json.loads(r.stdout) == {"count": 2}


def test_user_mistakes_are_one_line_errors(run):
    r = run("contacts", "import", "/no/such/file.csv")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "/no/such/file.csv: no such file" in r.stderr
    r = run("campaigns", "show", "ghost")
    assert r.returncode == 2 and "campaign 'ghost' does not exist" in r.stderr and "Traceback" not in r.stderr


def test_paste_to_blacklist_then_show_and_export(run):
    r = run("blacklist", "import", "-", "--json", stdin="Ann <ann@example.com>; bob@example.com\nxx\n")
    assert json.loads(r.stdout)["imported"] == 2
    r = run("blacklist", "show", "ANN@example.com", "--json")
    assert json.loads(r.stdout)["entry"]["reason"] == "manual"
    r = run("blacklist", "export")
    assert r.stdout.splitlines()[0].startswith("email,display,reason")
    assert len(r.stdout.splitlines()) == 3


def test_a_bad_black_list_reason_is_one_line_on_add_and_import_alike(run, tmp_path):
    line = "error: --reason: 'hardbounce' is not a reason; choose from manual, hard_bounce, soft_bounce, complaint, "
    line += "unsubscribe, invalid\n"
    (tmp_path / "list.txt").write_text("ann@example.com\nbob@example.com\n")
    for args, stdin in [
        (["add", "ann@example.com"], None),
        (["import", str(tmp_path / "list.txt")], None),
        (["import", "-"], "ann@example.com\n"),
    ]:
        r = run("blacklist", *args, "--reason", "hardbounce", stdin=stdin)
        assert (r.returncode, r.stderr) == (2, line), args
    assert json.loads(run("blacklist", "count", "--json").stdout) == {"count": 0}


def test_campaign_with_segments_round_trip(run, tmp_path):
    (tmp_path / "body.txt").write_text("Hello {{ first_name }}")
    run("segments", "create", "vip")
    run("segments", "add", "vip", "a@example.com", "b@example.com")
    run("segments", "create", "nope")
    r = run(
        "campaigns",
        "create",
        "launch",
        "--subject",
        "Hi",
        "--from",
        "Shop <news@example.com>",
        "--text",
        "body.txt",
        "--segment",
        "vip",
        "--exclude",
        "nope",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    shown = json.loads(run("campaigns", "show", "launch", "--json").stdout)
    assert shown["include"] == ["vip"] and shown["exclude"] == ["nope"] and shown["state"] == "draft"
    assert Path(tmp_path / "cli.db").exists()
