"""A status typed wrong — on the command line, in an API call or in a web form — is the same one-line error from
the one parser (model.parse_statuses), and selects nothing silently; valid statuses still select their recipients."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from sendwell import blacklist, segments
from sendwell.cli.app import app as cli_app
from sendwell.cli.errors import describe
from sendwell.errors import UserError

from factories import campaign

CHOICES = "choose from queued, sent, deferred, error, failed, skipped, read, clicked"
BAD = ["a@example.com", "c@example.com"]  # left in `error`; b@ was sent
STATUSES = {**dict.fromkeys(BAD, "error"), "b@example.com": "sent"}


# Every command that selects recipients by status, given a typo: nothing is selected, nothing written.
CLI_TYPOS = [
    ["campaigns", "recipients", "spring", "--status", "eror"],
    ["campaigns", "resend", "spring", "--status", "eror"],
    ["segments", "create", "dead", "--from-campaign", "spring", "--status", "eror"],
    ["blacklist", "add", "--from-campaign", "spring", "--status", "eror"],
]


@pytest.mark.parametrize("args", CLI_TYPOS, ids=lambda a: " ".join(a[:2]))
def test_the_cli_refuses_a_typo_naming_the_flag(db_url: str, web_engine: Engine, args: list[str]) -> None:
    campaign(web_engine, list(STATUSES), name="spring", statuses=STATUSES)
    r = CliRunner().invoke(cli_app, ["--database", db_url, *args])
    assert isinstance(r.exception, UserError), r.output
    assert describe(r.exception) == f"--status: 'eror' is not a status; {CHOICES}"
    assert blacklist.count(web_engine) == 0 and segments.list_segments(web_engine) == []


def test_the_cli_prints_one_line_and_valid_statuses_still_work(tmp_path, db_url: str, web_engine: Engine) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("one real process is enough: the parsing does not depend on the database")
    campaign(web_engine, list(STATUSES), name="spring", statuses=STATUSES)
    env = {**os.environ, "SENDWELL_DATABASE_URL": db_url, "COLUMNS": "300"}
    run = [sys.executable, "-m", "sendwell.cli", "segments", "create", "dead", "--from-campaign", "spring"]
    r = subprocess.run([*run, "--status", "error,eror"], capture_output=True, text=True, env=env, timeout=60)
    assert (r.returncode, r.stderr) == (2, f"error: --status: 'eror' is not a status; {CHOICES}\n")
    r = CliRunner().invoke(cli_app, ["--database", db_url, *run[3:], "--status", "error"])
    assert r.exit_code == 0, r.output
    assert sorted(m.email for m in segments.iter_members(web_engine, "dead")) == BAD
    r = CliRunner().invoke(cli_app, ["--database", db_url, "blacklist", "add", "--from-campaign", "spring"])
    assert r.exit_code == 0 and blacklist.count(web_engine) == 2, r.output


def test_the_api_refuses_a_typo_naming_the_field(api, web_engine: Engine) -> None:
    cid = campaign(web_engine, list(STATUSES), name="spring", statuses=STATUSES)
    calls = [
        ("get", f"/api/v1/campaigns/{cid}/recipients", {"params": {"status": "eror"}}, "status"),
        (
            "get",
            f"/api/v1/campaigns/{cid}/recipients.csv",
            {"params": [("status", "error"), ("status", "eror")]},
            "status",
        ),
        ("post", f"/api/v1/campaigns/{cid}/resend", {"json": {"statuses": ["eror"]}}, "statuses"),
        (
            "post",
            "/api/v1/segments/from-campaign",
            {"json": {"name": "d", "campaign": "spring", "statuses": ["eror"]}},
            "statuses",
        ),
        ("post", "/api/v1/blacklist/from-campaign", {"json": {"campaign": "spring", "statuses": ["eror"]}}, "statuses"),
    ]
    for method, url, kw, field in calls:
        r = getattr(api, method)(url, **kw)
        assert r.status_code == 400, (url, r.text)
        assert r.json() == {
            "detail": f"{field}: 'eror' is not a status; {CHOICES}",
            "field": field,
            "pointer": f"/{field}",
        }
    assert blacklist.count(web_engine) == 0 and api.get("/api/v1/segments/d").status_code == 404
    r = api.get(f"/api/v1/campaigns/{cid}/recipients.csv", params={"status": "error"})
    assert sorted(row["email"] for row in csv.DictReader(io.StringIO(r.text))) == BAD
    r = api.post("/api/v1/blacklist/from-campaign", json={"campaign": "spring", "statuses": ["error", "sent"]})
    assert r.status_code == 200 and r.json() == {"added": 3}


def test_a_web_form_refuses_a_typo_and_keeps_working(ui, web_engine: Engine) -> None:
    cid = campaign(web_engine, list(STATUSES), name="spring", statuses=STATUSES)
    ui.get(f"/campaigns/{cid}/recipients")
    for url, form in [
        (f"/campaigns/{cid}/recipients/blacklist", {"status": "eror"}),
        (f"/campaigns/{cid}/recipients/segment", {"name": "dead", "status": "eror"}),
    ]:
        r = ui.post(url, form, follow_redirects=False)
        assert r.status_code == 400 and f"status: &#39;eror&#39; is not a status; {CHOICES}" in r.text, r.text
    r = ui.get(f"/campaigns/{cid}/recipients", params={"status": "eror"})
    assert r.status_code == 400 and "&#39;eror&#39; is not a status" in r.text
    assert blacklist.count(web_engine) == 0 and segments.list_segments(web_engine) == []
    r = ui.post(f"/campaigns/{cid}/recipients/segment", {"name": "dead", "status": "error"}, follow_redirects=False)
    assert r.status_code == 303 and sorted(m.email for m in segments.iter_members(web_engine, "dead")) == BAD
