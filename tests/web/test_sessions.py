"""Web UI sessions live in the database: logging out, a password change and `users revoke-sessions` end them
at once, idle and old sessions end by themselves, and the cookie is only a signed random token."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from fastapi.testclient import TestClient
from itsdangerous import Signer
from sqlalchemy import select, update
from typer.testing import CliRunner

from sendwell import blacklist, sessions
from sendwell.auth import create_user
from sendwell.cli.app import app as cli_app
from sendwell.db.engine import utcnow
from sendwell.db.schema import sessions as sessions_table
from sendwell.keys import app_secret
from sendwell.web import create_app

from .helpers import PASSWORD, UI, settings_for

COOKIE = "sendwell_session"


def _attacker_with(app, ui: UI) -> UI:
    """Another browser holding a stolen copy of the UI's cookie and CSRF token."""
    thief = UI(TestClient(app))
    thief.client.cookies.set(COOKIE, ui.client.cookies[COOKIE])
    thief.csrf = ui.csrf
    return thief


def test_after_logout_a_copy_of_the_cookie_reads_nothing_and_blacklists_nothing(app, ui, web_engine) -> None:
    thief = _attacker_with(app, ui)
    assert thief.client.get("/blacklist", follow_redirects=False).status_code == 200  # the copy works ...
    assert ui.post("/logout", follow_redirects=False).status_code == 303
    # ... until the owner logs out: then it opens no page, exports nothing and adds no black-list entry
    for path in ("/", "/blacklist", "/contacts", "/blacklist/export.csv"):
        r = thief.client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    r = thief.post("/blacklist/add", {"text": "victim@example.com", "note": "after logout"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = thief.client.post(
        "/blacklist/add",
        data={"text": "victim@example.com"},
        headers={"X-CSRF-Token": thief.csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert blacklist.count(web_engine) == 0
    # and the row says why
    with web_engine.connect() as conn:
        assert conn.execute(select(sessions_table.c.revoked_at)).scalar_one() is not None


def test_the_cookie_is_a_signed_random_token_and_the_database_keeps_only_its_hash(ui, web_engine, db_url) -> None:
    raw = ui.client.cookies[COOKIE]
    token = Signer(app_secret(web_engine, settings_for(db_url)), salt="sendwell.ui.session").unsign(raw).decode()
    assert len(token) >= 43 and "admin" not in raw
    with web_engine.connect() as conn:
        stored = conn.execute(select(sessions_table.c.id)).scalar_one()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored


def test_login_replaces_a_planted_token(app, web_engine) -> None:
    """Session fixation: the token an attacker gave the browser before the login opens nothing after it."""
    create_user(web_engine, "admin", PASSWORD)
    with TestClient(app) as client:
        page = UI(client)
        page.get("/login")
        planted = client.cookies[COOKIE]
        r = page.post("/login", {"username": "admin", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303 and client.cookies[COOKIE] != planted
    with TestClient(app) as attacker:
        attacker.cookies.set(COOKIE, planted)
        assert attacker.get("/", follow_redirects=False).status_code == 303


def test_revoke_sessions_command_logs_a_user_out_everywhere(app, ui, db_url, web_engine) -> None:
    other = UI(TestClient(app))
    other.get("/login")
    assert other.post("/login", {"username": "admin", "password": PASSWORD}, follow_redirects=False).status_code == 303
    r = CliRunner().invoke(cli_app, ["--database", db_url, "users", "list", "--json"])
    assert '"sessions": 2' in r.stdout, r.output
    r = CliRunner().invoke(cli_app, ["--database", db_url, "users", "revoke-sessions", "admin"])
    assert r.exit_code == 0 and "2 session(s)" in r.stdout, r.output
    for browser in (ui, other):
        assert browser.client.get("/", follow_redirects=False).status_code == 303
    r = CliRunner().invoke(cli_app, ["--database", db_url, "users", "revoke-sessions", "nobody"])
    assert r.exit_code != 0 and "does not exist" in str(r.exception)


def test_an_idle_session_ends_and_so_does_an_old_one(ui, web_engine) -> None:
    lifetimes = sessions.Lifetimes.of(settings_for("sqlite://").web)
    assert ui.client.get("/", follow_redirects=False).status_code == 200
    idle = utcnow() - lifetimes.idle - timedelta(seconds=1)
    with web_engine.begin() as conn:
        conn.execute(update(sessions_table).values(last_seen_at=idle))
    assert ui.client.get("/", follow_redirects=False).status_code == 303

    ui.get("/login")
    assert ui.post("/login", {"username": "admin", "password": PASSWORD}, follow_redirects=False).status_code == 303
    with web_engine.begin() as conn:  # used a minute ago, but opened longer ago than the absolute lifetime
        conn.execute(
            update(sessions_table)
            .where(sessions_table.c.revoked_at.is_(None))
            .values(created_at=utcnow() - lifetimes.absolute - timedelta(seconds=1), last_seen_at=utcnow())
        )
    assert ui.client.get("/", follow_redirects=False).status_code == 303


def test_lifetimes_come_from_the_web_settings_and_use_keeps_a_session_alive(db_url, web_engine) -> None:
    create_user(web_engine, "ops", PASSWORD)
    settings = settings_for(db_url)
    lifetimes = sessions.Lifetimes.of(replace(settings.web, session_idle_minutes=10, session_max_hours=1))
    assert lifetimes == sessions.Lifetimes(timedelta(minutes=10), timedelta(hours=1))
    start = utcnow()
    token = sessions.open_session(web_engine, "ops", lifetimes, now=start)
    at = start
    for _ in range(5):  # used every 9 minutes: never idle for 10
        at += timedelta(minutes=9)
        assert sessions.session_user(web_engine, token, lifetimes, now=at) == "ops"
    assert sessions.session_user(web_engine, token, lifetimes, now=at + timedelta(minutes=10)) is None  # idle
    assert sessions.session_user(web_engine, token, lifetimes, now=start + timedelta(minutes=61)) is None  # old
    with TestClient(create_app(replace(settings, web=replace(settings.web, session_max_hours=2)), web_engine)) as c:
        page = UI(c)
        page.get("/login")
        r = page.post("/login", {"username": "ops", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303 and "Max-Age=7200;" in r.headers["set-cookie"]  # the browser forgets it too


def test_a_copy_of_the_database_forges_no_session(app, ui, web_engine, db_url) -> None:
    """Finding 8: a local user who read the database forged an admin cookie with its HMAC secret. The secret
    still signs, but a session needs a token whose hash is stored, and the hash is not the token."""
    signer = Signer(app_secret(web_engine, settings_for(db_url)), salt="sendwell.ui.session")
    with web_engine.connect() as conn:
        stored = conn.execute(select(sessions_table.c.id)).scalar_one()
    for token in (stored, sessions.new_token(), "admin"):
        with TestClient(app) as forger:
            forger.cookies.set(COOKIE, signer.sign(token).decode())
            assert forger.get("/", follow_redirects=False).status_code == 303, token
    assert ui.client.get("/", follow_redirects=False).status_code == 200  # the real one still works
