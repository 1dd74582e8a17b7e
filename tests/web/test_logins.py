"""The login throttle over real sockets: concurrent guesses are counted, several servers share one count, the
owner still gets in from an address that has not failed, X-Forwarded-For is believed only from a trusted proxy."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import httpx
import uvicorn
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from sendwell import logins
from sendwell.auth import create_user
from sendwell.cli.app import app as cli_app
from sendwell.cli.web import server_config
from sendwell.config import Settings
from sendwell.db.engine import make_engine, utcnow
from sendwell.db.schema import login_failures
from sendwell.logins import USER_LIMIT
from sendwell.web import create_app

from .helpers import PASSWORD, settings_for

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


@contextmanager
def serving(settings: Settings, url: str) -> Iterator[str]:
    """The app as `sendwell serve` runs it (same uvicorn settings), on its own engine, on a free local port."""
    engine = make_engine(url)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(server_config(create_app(settings, engine), "127.0.0.1", port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        engine.dispose()


def _login_form(base: str) -> tuple[dict[str, str], str]:
    r = httpx.get(base + "/login")
    return dict(r.cookies), CSRF.search(r.text).group(1)


def _try(
    base: str, password: str, cookies: dict[str, str], csrf: str, forwarded: str | None = None, username: str = "admin"
) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with httpx.Client(cookies=cookies, timeout=60) as client:
        return client.post(
            base + "/login", data={"username": username, "password": password, "csrf": csrf}, headers=headers
        ).status_code


def _storm(bases: list[str], n: int, forwarded: str | None = None) -> Counter:
    """n wrong passwords at once, spread over the servers, each with its own browser session."""
    forms = [_login_form(bases[i % len(bases)]) for i in range(n)]
    start = threading.Barrier(n)

    def guess(i: int) -> int:
        start.wait()
        return _try(bases[i % len(bases)], f"guess {i}", *forms[i], forwarded=forwarded)

    with ThreadPoolExecutor(n) as pool:
        return Counter(pool.map(guess, range(n)))


def test_concurrent_guesses_on_two_servers_check_only_the_limit(db_url: str, web_engine: Engine) -> None:
    """Finding 6: 36 concurrent wrong passwords were all checked against a limit of 10."""
    create_user(web_engine, "admin", PASSWORD)
    settings = settings_for(db_url)
    with serving(settings, db_url) as one, serving(settings, db_url) as two:
        codes = _storm([one, two], 36)
        assert codes == {401: USER_LIMIT, 429: 36 - USER_LIMIT}, codes  # only ten passwords were checked
        # the right password from the guessing address is refused too: it is locked out of this user
        assert _try(one, PASSWORD, *_login_form(one)) == 429
    with web_engine.connect() as conn:
        counts = dict(conn.execute(select(login_failures.c.key, login_failures.c.failures)).all())
    assert counts["user:admin"] == counts["addr:127.0.0.1"] == 37


def test_the_owner_logs_in_from_an_address_that_has_not_failed(db_url: str, web_engine: Engine) -> None:
    create_user(web_engine, "admin", PASSWORD)
    settings = settings_for(db_url)
    trusting = replace(settings, web=replace(settings.web, trusted_proxies=("127.0.0.1",)))
    with serving(trusting, db_url) as base:
        assert _storm([base], 20, forwarded=ATTACKER) == {401: USER_LIMIT, 429: 20 - USER_LIMIT}
        assert _try(base, PASSWORD, *_login_form(base), forwarded=ATTACKER) == 429
        assert _try(base, PASSWORD, *_login_form(base), forwarded=OWNER) == 303  # not locked out

        # the lock is shown to the admin, who can lift it
        listed = json.loads(CliRunner().invoke(cli_app, ["--database", db_url, "users", "list", "--json"]).stdout)
        assert listed[0]["failed_logins"] >= USER_LIMIT and listed[0]["locked_until"]
        assert CliRunner().invoke(cli_app, ["--database", db_url, "users", "unlock", "admin"]).exit_code == 0
        listed = json.loads(CliRunner().invoke(cli_app, ["--database", db_url, "users", "list", "--json"]).stdout)
        assert listed[0]["failed_logins"] == 0 and listed[0]["locked_until"] is None
        assert _try(base, PASSWORD, *_login_form(base), forwarded=ATTACKER) == 303


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(db_url: str, web_engine: Engine) -> None:
    """Finding 11: X-Forwarded-For was believed from loopback, so a guesser could pick a new address per try."""
    create_user(web_engine, "admin", PASSWORD)
    with serving(settings_for(db_url), db_url) as base:
        form = _login_form(base)
        codes = Counter(_try(base, "guess", *form, forwarded=f"192.0.2.{i}") for i in range(USER_LIMIT + 3))
        assert codes == {401: USER_LIMIT, 429: 3}
    with web_engine.connect() as conn:
        keys = set(conn.execute(select(login_failures.c.key)).scalars())
    assert keys == {"user:admin", "addr:127.0.0.1", "pair:admin|127.0.0.1"}


def test_a_bad_trusted_proxy_is_a_one_line_error(db_url: str) -> None:
    r = CliRunner().invoke(
        cli_app,
        ["--database", db_url, "serve", "--no-worker"],
        env={"SENDWELL_WEB_TRUSTED_PROXIES": "10.0.0.1,proxy.example"},
    )
    assert r.exit_code != 0 and "[web] trusted_proxies: 'proxy.example'" in (r.output + str(r.exception))


def test_failures_are_forgotten_after_the_window_and_a_success_gives_its_count_back(web_engine: Engine) -> None:
    keys = logins.keys_for("Admin ", "192.0.2.1")
    assert keys.user == "user:admin"
    start = utcnow()
    for i in range(USER_LIMIT):
        assert logins.begin_attempt(web_engine, keys, now=start + timedelta(seconds=i)).allowed
    refused = logins.begin_attempt(web_engine, keys, now=start + timedelta(minutes=1))
    assert not refused.allowed and 13 * 60 < refused.retry_after <= 14 * 60
    # another address may still try a locked user name, a few times
    other = logins.keys_for("admin", "192.0.2.2")
    assert [logins.begin_attempt(web_engine, other, now=start).allowed for _ in range(4)] == [True] * 3 + [False]
    later = start + logins.WINDOW + timedelta(seconds=1)
    assert logins.begin_attempt(web_engine, keys, now=later).allowed
    logins.attempt_succeeded(web_engine, keys)
    with web_engine.connect() as conn:
        counts = dict(conn.execute(select(login_failures.c.key, login_failures.c.failures)).all())
    assert counts["user:admin"] == 0 and "pair:admin|192.0.2.1" not in counts and counts["addr:192.0.2.1"] == 0
