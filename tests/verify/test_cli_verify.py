"""`sendwell verify` and `sendwell contacts verify` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

SENDWELL = [sys.executable, "-m", "sendwell.cli"]


@pytest.fixture
def run(tmp_path):
    env = {**os.environ, "SENDWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200"}

    def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*SENDWELL, *args], input=stdin, capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60)
    return _run


def test_scorer_contract_one_json_line_per_input_in_order(run):
    lines = [" jerry@gmail.com", "ann@gmial.com", "", "Bob@Example.com", "x@[1.2.3.4]", "info@example.org "]
    r = run("verify", "--offline", "--jsonl", stdin="".join(line + "\n" for line in lines))
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["address"] for o in out] == lines  # leading/trailing spaces are part of the address
    assert [o["valid"] for o in out] == [False, True, False, True, False, False]
    assert out[1]["suggestion"] == "ann@gmail.com" and out[1]["verdict"] == "risky"
    assert out[3] == {"address": "Bob@Example.com", "valid": True, "verdict": "valid", "reasons": [],
                      "suggestion": None, "normalized": "bob@example.com", "detail": ""}


def test_offline_json_csv_and_table(run, tmp_path):
    f = tmp_path / "list.txt"
    f.write_text("ann@example.com\r\npostmaster@example.com\r\nbroken@\r\n")
    r = run("verify", str(f), "--offline", "--json")
    assert [o["verdict"] for o in json.loads(r.stdout)] == ["valid", "risky", "invalid"]
    r = run("verify", str(f), "--offline", "--csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows[1]["reasons"] == "role" and rows[2]["reasons"] == "syntax" and "domain" in rows[2]["detail"]
    r = run("verify", str(f), "--offline")
    assert r.returncode == 0 and "postmaster@example.com" in r.stdout and "1 invalid, 1 risky, 1 valid" in r.stdout


def test_verify_with_dns(run, dns_server):
    stdin = "ann@mx.example.com\nann@nullmx.example.com\nann@missing.example.com\nann@slow.example.com\n"
    r = run("verify", "-", "--jsonl", "--dns-server", f"127.0.0.1:{dns_server.port}", stdin=stdin)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(o["verdict"], o["reasons"]) for o in out] == [
        ("valid", []), ("invalid", ["no_mail"]), ("invalid", ["no_domain"]), ("unknown", ["dns_unavailable"])]


def test_user_mistakes_are_one_line_errors(run, tmp_path):
    r = run("verify", "/no/such/list.txt", "--offline")
    assert r.returncode == 2 and "/no/such/list.txt: no such file" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "latin1.txt").write_bytes(b"ann@example.com\nm\xfcller@example.com\n")
    r = run("verify", str(tmp_path / "latin1.txt"), "--offline")
    assert r.returncode == 2 and "line 2: not UTF-8" in r.stderr
    r = run("verify", "-", "--json", "--csv", stdin="a@b.co\n")
    assert r.returncode == 2 and "choose one" in r.stderr


def test_contacts_verify_stores_verdicts(run, tmp_path, dns_server):
    f = tmp_path / "people.txt"
    f.write_text("ann@mx.example.com\ninfo@mx.example.com\nbob@missing.example.com\n")
    assert run("contacts", "import", str(f)).returncode == 0
    r = run("contacts", "verify", "--json", "--dns-server", f"127.0.0.1:{dns_server.port}")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"checked": 3, "skipped_recent": 0,
                                    "verdicts": {"valid": 1, "risky": 1, "invalid": 1}}
    r = run("contacts", "verify", "--dns-server", f"127.0.0.1:{dns_server.port}")
    assert "0 checked (3 checked recently, skipped)" in r.stdout
    r = run("contacts", "list", "--json")
    assert {c["display"]: c["verdict"] for c in json.loads(r.stdout)} == {
        "ann@mx.example.com": "valid", "info@mx.example.com": "risky", "bob@missing.example.com": "invalid"}
