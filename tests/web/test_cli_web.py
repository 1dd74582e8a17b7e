"""`sendwell tokens` and `sendwell users` as an operator runs them, checked against the running app."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sendwell.cli.app import app as cli_app
from sendwell.db.engine import open_database
from sendwell.errors import NotFound, UserError
from sendwell.web import create_app

from .helpers import UI, settings_for


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def run(*args: str, stdin: str | None = None):  # click's Result
        return CliRunner().invoke(cli_app, ["--database", url, *args], input=stdin)

    run.url = url
    return run


def test_token_is_printed_once_works_and_stops_working_when_revoked(cli) -> None:
    r = cli("tokens", "create", "ci robot")
    assert r.exit_code == 0, r.output
    token = r.stdout.strip()
    assert token.startswith("sw_") and "shown only this once" in r.stderr
    listed = json.loads(cli("tokens", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["ci robot"] and token not in json.dumps(listed)
    engine = open_database(cli.url)
    try:
        with TestClient(
            create_app(settings_for(cli.url), engine), headers={"Authorization": f"Bearer {token}"}
        ) as client:
            assert client.get("/api/v1/contacts").status_code == 200
            assert cli("tokens", "revoke", "ci robot").exit_code == 0
            assert client.get("/api/v1/contacts").status_code == 401
    finally:
        engine.dispose()
    r = cli("tokens", "revoke", "ci robot")
    assert isinstance(r.exception, NotFound) and "no live token" in str(r.exception)


def test_user_created_from_stdin_can_log_in_and_passwd_changes_it(cli) -> None:
    r = cli("users", "create", "ops", "--password-stdin", stdin="first password\n")
    assert r.exit_code == 0, r.output
    r = cli("users", "create", "ops", "--password-stdin", stdin="first password\n")
    assert isinstance(r.exception, UserError) and "already exists" in str(r.exception)
    r = cli("users", "create", "ops2", stdin="a prompted password\na prompted password\n")
    assert r.exit_code == 0, r.output  # typed twice at the prompt
    assert cli("users", "passwd", "ops", "--password-stdin", stdin="second password\n").exit_code == 0
    assert [u["username"] for u in json.loads(cli("users", "list", "--json").stdout)] == ["ops", "ops2"]
    engine = open_database(cli.url)
    try:
        with TestClient(create_app(settings_for(cli.url), engine)) as client:
            page = UI(client)
            page.get("/login")
            assert page.post("/login", {"username": "ops", "password": "first password"}).status_code == 401
            r = page.post("/login", {"username": "ops", "password": "second password"}, follow_redirects=False)
            assert r.status_code == 303
    finally:
        engine.dispose()


def test_serve_refuses_a_silly_upload_limit(cli) -> None:
    r = cli("serve", "--max-upload-mb", "0", "--no-worker")
    assert isinstance(r.exception, UserError) and "--max-upload-mb" in str(r.exception)
