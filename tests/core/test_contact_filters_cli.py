"""`sendwell contacts list` and `contacts export` narrowed by the filters the web UI has, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from sendwell import blacklist, segments
from sendwell.cli.app import app
from sendwell.cli.errors import describe
from sendwell.errors import UserError


@pytest.fixture
def cli(db_url):
    runner = CliRunner()

    def _invoke(*args: str):
        return runner.invoke(app, ["--database", db_url, *args])

    return _invoke


def test_list_and_export_follow_the_filters(cli, tmp_path, engine):
    people = tmp_path / "people.csv"
    people.write_text("email,city\nann@example.com,Paris\nbob@example.com,Rome\ncy@example.com,paris\n")
    assert cli("contacts", "import", str(people)).exit_code == 0
    blacklist.add(engine, ["cy@example.com"], reason="complaint")
    segments.create(engine, "vip")
    segments.add(engine, "vip", ["ann@example.com", "bob@example.com"])

    def listed(*args: str) -> list[str]:
        r = cli("contacts", "list", "--json", *args)
        assert r.exit_code == 0, r.output
        return [c["email"] for c in json.loads(r.stdout)]

    assert listed("--field", "city", "--value", "PARIS") == ["ann@example.com", "cy@example.com"]
    assert listed("--blacklisted", "no", "--segment", "vip") == ["ann@example.com", "bob@example.com"]
    assert listed("--blacklisted", "complaint") == ["cy@example.com"]
    assert listed("--verdict", "unchecked", "--search", "bob") == ["bob@example.com"]
    out = tmp_path / "paris.csv"
    r = cli("contacts", "export", "-o", str(out), "--field", "city", "--value", "paris", "--blacklisted", "no")
    assert r.exit_code == 0, r.output
    assert list(csv.DictReader(io.StringIO(out.read_text()))) == [{"email": "ann@example.com", "city": "Paris"}]
    r = cli("contacts", "export", "-o", str(tmp_path / "x.csv"), "--segment", "ghost")
    assert isinstance(r.exception, UserError) and describe(r.exception) == "--segment: no segment named 'ghost'"
    assert not (tmp_path / "x.csv").exists()
