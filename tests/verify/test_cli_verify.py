"""`sendwell verify` and `sendwell contacts verify` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from sendwell.cli.app import app

SENDWELL = [sys.executable, "-m", "sendwell.cli"]


@pytest.fixture
def invoke(tmp_path):
    """In-process, for speed; `run` below starts the real command where exit codes and stdin matter."""
    runner = CliRunner()

    def _invoke(*args: str, stdin: str | None = None):
        result = runner.invoke(
            app, ["--database", f"sqlite:///{tmp_path / 'cli.db'}", *args], input=stdin, catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        return result

    return _invoke


@pytest.fixture
def run(tmp_path):
    env = {**os.environ, "SENDWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200"}

    def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*SENDWELL, *args], input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
        )

    return _run


def test_scorer_contract_one_json_line_per_input_in_order(run):
    lines = [" jerry@gmail.com", "ann@gmial.com", "", "Bob@Example.com", "x@[1.2.3.4]", "info@example.org "]
    r = run("verify", "--offline", "--jsonl", stdin="".join(line + "\n" for line in lines))
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["address"] for o in out] == lines  # leading/trailing spaces are part of the address
    assert [o["valid"] for o in out] == [False, True, False, True, False, False]
    assert out[1]["suggestion"] == "ann@gmail.com" and out[1]["verdict"] == "risky"
    assert out[3] == {
        "address": "Bob@Example.com",
        "valid": True,
        "verdict": "valid",
        "reasons": [],
        "suggestion": None,
        "normalized": "bob@example.com",
        "detail": "",
    }


@pytest.mark.parametrize(
    "text", ["Bob@Example.com", "o'hara+x@example.com", "müller@bücher.de", "a/b|c{d}@x.org", "😀@gmail.com"]
)
def test_the_fast_jsonl_line_is_the_json_of_the_result(text):
    from json.encoder import encode_basestring

    from sendwell.cli.verify import VALID_LINE
    from sendwell.verify.checks import OfflineChecker

    result = OfflineChecker().check(text)
    line = VALID_LINE % (encode_basestring(result.address), encode_basestring(result.key))
    assert result.verdict.value == "valid" and not result.reasons
    assert line == json.dumps(result.as_dict(), ensure_ascii=False)


def test_offline_json_csv_and_table(invoke, tmp_path):
    f = tmp_path / "list.txt"
    f.write_bytes(b"\xef\xbb\xbfann@example.com\r\npostmaster@example.com\r\nbroken@\r\n")  # BOM, CRLF
    r = invoke("verify", str(f), "--offline", "--json")
    assert [o["verdict"] for o in json.loads(r.stdout)] == ["valid", "risky", "invalid"]
    r = invoke("verify", str(f), "--offline", "--csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows[1]["reasons"] == "role" and rows[2]["reasons"] == "syntax" and "domain" in rows[2]["detail"]
    r = invoke("verify", str(f), "--offline")
    assert "verdict" in r.stdout and "role" in r.stdout and "1 invalid, 1 risky, 1 valid" in r.stdout


def test_verify_with_dns(invoke, dns_server):
    stdin = "ann@mx.example.com\nann@nullmx.example.com\nann@missing.example.com\nann@slow.example.com\n"
    r = invoke(
        "verify", "-", "--jsonl", "--dns-server", f"127.0.0.1:{dns_server.port}", "--dns-timeout", "0.5", stdin=stdin
    )
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(o["verdict"], o["reasons"]) for o in out] == [
        ("valid", []),
        ("invalid", ["no_mail"]),
        ("invalid", ["no_domain"]),
        ("unknown", ["dns_unavailable"]),
    ]


def test_user_mistakes_are_one_line_errors(run):
    r = run("verify", "/no/such/list.txt", "--offline")
    assert r.returncode == 2 and "/no/such/list.txt: no such file" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["--offline"], b"ann@example.com\nm\xfcller@example.com\n", "line 2: not UTF-8"),
        (["--json", "--csv"], b"ann@example.com\n", "choose one of --json, --jsonl and --csv"),
        (["--dns-server", "127.0.0.1:x"], b"ann@example.com\n", "--dns-server 127.0.0.1:x: expected HOST"),
    ],
)
def test_bad_input_or_options_name_the_culprit(tmp_path, args, content, message):
    from sendwell.errors import UserError

    path = tmp_path / "list.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        CliRunner().invoke(app, ["verify", str(path), *args], catch_exceptions=False)


def test_contacts_verify_stores_verdicts(invoke, tmp_path, dns_server):
    f = tmp_path / "people.txt"
    f.write_text("ann@mx.example.com\ninfo@mx.example.com\nbob@missing.example.com\n")
    invoke("contacts", "import", str(f))
    r = invoke("contacts", "verify", "--json", "--dns-server", f"127.0.0.1:{dns_server.port}")
    assert json.loads(r.stdout) == {
        "checked": 3,
        "skipped_recent": 0,
        "verdicts": {"valid": 1, "risky": 1, "invalid": 1},
    }
    r = invoke("contacts", "verify", "--dns-server", f"127.0.0.1:{dns_server.port}")
    assert "0 checked (3 checked recently, skipped)" in r.stdout
    r = invoke("contacts", "list", "--json")
    assert {c["display"]: c["verdict"] for c in json.loads(r.stdout)} == {
        "ann@mx.example.com": "valid",
        "info@mx.example.com": "risky",
        "bob@missing.example.com": "invalid",
    }
