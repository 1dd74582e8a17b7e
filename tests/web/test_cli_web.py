"""`sendwell tokens` and `sendwell users` as an operator runs them, checked against the running app."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from sendwell.db.engine import open_database
from sendwell.web import create_app

from .helpers import UI, settings_for

SENDWELL = [sys.executable, "-m", "sendwell.cli"]


@pytest.fixture
def cli(tmp_path):  # noqa: ANN001, ANN201
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "SENDWELL_DATABASE_URL": url, "COLUMNS": "200"}

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*SENDWELL, *args], input=stdin, capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60)

    run.url = url
    return run


def test_token_is_printed_once_works_and_stops_working_when_revoked(cli) -> None:  # noqa: ANN001
    r = cli("tokens", "create", "ci robot")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("sw_") and "shown only this once" in r.stderr
    listed = json.loads(cli("tokens", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["ci robot"] and token not in json.dumps(listed)
    engine = open_database(cli.url)
    try:
        with TestClient(create_app(settings_for(cli.url), engine),
                        headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get("/api/v1/contacts").status_code == 200
            assert cli("tokens", "revoke", "ci robot").returncode == 0
            assert client.get("/api/v1/contacts").status_code == 401
    finally:
        engine.dispose()
    r = cli("tokens", "revoke", "ci robot")
    assert r.returncode == 2 and "no live token" in r.stderr and "Traceback" not in r.stderr


def test_user_created_from_stdin_can_log_in_and_passwd_changes_it(cli) -> None:  # noqa: ANN001
    r = cli("users", "create", "ops", "--password-stdin", stdin="first password\n")
    assert r.returncode == 0, r.stderr
    assert cli("users", "passwd", "ops", "--password-stdin", stdin="second password\n").returncode == 0
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
