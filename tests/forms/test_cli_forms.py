"""`sendwell forms …` and `segments public` through the real command line on a real database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass
class Ran:
    exit_code: int
    output: str


def _run(db: str, *args: str) -> Ran:
    env = {**os.environ, "COLUMNS": "200"}
    r = subprocess.run(
        [sys.executable, "-m", "sendwell.cli", "--database", db, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return Ran(r.returncode, r.stdout + r.stderr)


def test_forms_commands(tmp_path) -> None:
    db = str(tmp_path / "s.db")
    assert _run(db, "segments", "create", "news", "--public").exit_code == 0
    assert _run(db, "segments", "create", "offers").exit_code == 0
    r = _run(
        db,
        "forms",
        "create",
        "Monthly news",
        "--segment",
        "news",
        "--segment",
        "offers",
        "--fields",
        "first_name,last_name",
        "--from",
        "Acme <news@acme.example>",
        "--json",
    )
    assert r.exit_code == 0, r.output
    made = json.loads(r.output)
    assert made["slug"] == "monthly-news" and made["segments"] == ["news", "offers"] and made["double_opt_in"]
    assert made["fields"] == ["first_name", "last_name"] and "Acme" in made["consent_text"]

    r = _run(db, "forms", "show", "Monthly news", "--snippet")
    assert r.exit_code == 0 and 'action="https://YOUR-SENDWELL-ADDRESS/f/monthly-news"' in r.output
    assert 'name="website"' in r.output and 'name="first_name"' in r.output

    r = _run(db, "forms", "edit", "Monthly news", "--single-opt-in", "--segment", "news", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["segments"] == ["news"] and not json.loads(r.output)["double_opt_in"]
    assert "Monthly news" in _run(db, "forms", "list").output

    bad = _run(db, "forms", "create", "X", "--segment", "news")  # no sender for its confirmations
    assert bad.exit_code == 2 and "--from" in bad.output and "Traceback" not in bad.output
    bad = _run(db, "forms", "create", "X", "--segment", "nope", "--from", "a@acme.example")
    assert bad.exit_code == 2 and "segment 'nope' does not exist" in bad.output
    bad = _run(db, "forms", "edit", "Monthly news", "--fields", "Bad Name")
    assert bad.exit_code == 2 and "--fields" in bad.output

    assert _run(db, "forms", "delete", "Monthly news").exit_code == 0
    assert json.loads(_run(db, "forms", "list", "--json").output) == []
    listed = json.loads(_run(db, "segments", "list", "--json").output)
    assert {s["name"]: s["public"] for s in listed} == {"news": True, "offers": False}
    assert _run(db, "segments", "public", "news", "--off").exit_code == 0
    assert not json.loads(_run(db, "segments", "list", "--json").output)[0]["public"]
