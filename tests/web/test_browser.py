"""The seed story in a real browser (Playwright driving Debian's Chromium) against `sendwell serve`:
log in, import contacts, paste a black list, make a segment from a pasted list, create a campaign with an
exclusion, send it through a simulated receiving server, open the statistics, click the errors, see their
server answers, export them, blacklist them, send a second campaign that excludes them: no repeated errors.
Screenshots of the main pages go to test-artifacts/ (not committed)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sendwell.auth import create_user
from sendwell.db.engine import open_database
from sendwell.demo.server import Behaviour, SimulatedServer

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ENABLE = (
    "browser tests need Playwright for Python and Debian's Chromium: `.venv/bin/pip install playwright` "
    "and `apt-get install chromium` (no `playwright install`: the system browser is used)"
)
BAD = ["nobody@example.com", "ghost@example.com"]
PASSWORD = "browser password"


def _require_browser() -> None:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright")
    if not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    if missing:
        message = f"missing {', '.join(missing)}: {ENABLE}"
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def relay() -> Iterator[SimulatedServer]:
    with SimulatedServer(Behaviour(unknown=set(BAD))) as server:
        yield server


@pytest.fixture
def server(tmp_path: Path, relay: SimulatedServer) -> Iterator[str]:
    """`sendwell serve` (uvicorn + the sending worker) on 127.0.0.1 and a free port, over a SQLite file."""
    _require_browser()
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = open_database(url)
    create_user(engine, "admin", PASSWORD)
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "SENDWELL_DATABASE_URL": url,
        "SENDWELL_SMTP_URL": relay.url,
        "SENDWELL_SMTP_CONNECTIONS": "2",
        "SENDWELL_SENDING_RETRY_SCHEDULE": "0.5",
    }
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sendwell.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("sendwell serve did not start: " + (tmp_path / "serve.log").read_text()[-2000:])
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def page(server: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(base_url=server, accept_downloads=True, viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        pg.alerts = []
        # Confirm dialogs (send, blacklist) are accepted; any alert() would be an XSS that ran.
        pg.on("dialog", lambda d: (pg.alerts.append(d.message) if d.type == "alert" else None, d.accept()))
        pg.csp_violations = []  # the pages must work under their own Content-Security-Policy
        pg.on("console", lambda m: pg.csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
        yield pg
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fill_campaign(page, name: str, subject: str, from_addr: str, text: str, *, include: str, exclude: str) -> None:
    """The new-campaign form, filled in as a person would (not submitted)."""
    page.goto("/campaigns/new")
    page.fill("#f-name", name)
    page.fill("#f-subject", subject)
    page.fill("#f-from_addr", from_addr)
    page.fill("#f-text", text)
    page.check(f"#pick-include input[value='{include}']")
    page.check(f"#pick-exclude input[value='{exclude}']")


def test_the_seed_story_in_a_browser(page, tmp_path: Path, relay: SimulatedServer) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    assert "/login" in page.url
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    shot(page, "01-dashboard-empty")

    # Contacts, one of them with a name meant to run script in the operator's browser.
    people = tmp_path / "people.csv"
    people.write_text(
        "email,first name\n"
        + "".join(f"good{i}@example.com,Good {i}\n" for i in range(8))
        + "".join(f"{a},Bad\n" for a in BAD)
        + 'evil@example.com,"<script>alert(1)</script>"\n'
        + "not-an-address,X\n"
    )
    page.goto("/contacts")
    page.set_input_files("#contacts-file", str(people))
    page.click("form[action='/contacts/import'] button")
    expect(page.locator("#report")).to_contain_text("11 contacts imported")
    expect(page.locator("#rejected")).to_contain_text("not-an-address")
    expect(page.get_by_text("<script>alert(1)</script>")).to_be_visible()  # shown as text, not run
    shot(page, "02-contacts-imported")
    page.fill("input[name=q]", "good3")  # search as you type: htmx swaps the rows in place
    expect(page.locator("#rows")).not_to_contain_text("good4@example.com")
    expect(page.locator("#rows")).to_contain_text("good3@example.com")
    assert "q=good3" in page.url  # and the URL follows, so the search can be bookmarked

    # Black list by pasting.
    page.goto("/blacklist")
    page.fill("#bl-text", "evil@example.com\nspam-trap@example.net")
    page.fill("#bl-note", "pasted by hand")
    page.click("form:has(#bl-text) button")
    expect(page.locator("#notice")).to_contain_text("2 added to the black list")
    shot(page, "03-blacklist-pasted")

    # A segment from a pasted custom recipient list, and one to exclude.
    page.goto("/segments")
    page.fill("#seg-name", "newsletter")
    page.fill("#seg-text", "\n".join([*(f"good{i}@example.com" for i in range(8)), *BAD, "evil@example.com"]))
    page.click("#new-segment button")
    expect(page.locator("#member-count")).to_have_text("11")
    shot(page, "04-segment-created")
    page.goto("/segments")
    page.fill("#seg-name", "unsubscribed by phone")
    page.fill("#seg-text", "good7@example.com")
    page.click("#new-segment button")
    expect(page.locator("#member-count")).to_have_text("1")

    # A campaign: send to one segment, exclude the other.
    fill_campaign(
        page,
        "spring",
        "Hello {{ first_name }}",
        "Shop <shop@example.com>",
        "Spring is here.",
        include="newsletter",
        exclude="unsubscribed by phone",
    )
    shot(page, "05-campaign-form")
    page.click("form.panel button[type=submit]")
    expect(page.locator("#campaign-exclude")).to_have_text("unsubscribed by phone")

    # Send: the worker inside `sendwell serve` delivers; the statistics refresh themselves (htmx polling).
    page.click("#send-now")
    expect(page.locator("#count-error")).to_have_text("2", timeout=60_000)
    expect(page.locator("#progress-done")).to_have_text("9", timeout=60_000)  # 11 - evil (black list) - good7
    expect(page.locator("#count-sent")).to_have_text("7")
    shot(page, "06-campaign-statistics")

    # Click the number of errors: those recipients with their server's answer.
    page.click("#count-error")
    expect(page.locator("#recipients")).to_contain_text("550")
    expect(page.locator("#recipients")).to_contain_text("nobody@example.com")
    shot(page, "07-error-recipients")
    with page.expect_download() as download:
        page.click("#export-csv")
    exported = Path(download.value.path()).read_text()
    assert exported.startswith("email,") and all(a in exported for a in BAD) and "good0" not in exported

    # Black list them, and keep a segment of them to exclude next time.
    page.click("form[action$='/recipients/blacklist'] button")
    expect(page.locator(".ok")).to_contain_text("already on the black list (added at send time)")
    page.fill("#seg-name", "spring errors")
    page.click("form[action$='/recipients/segment'] button")
    expect(page.locator("#member-count")).to_have_text("2")

    # The next campaign excludes them: no address error is repeated.
    fill_campaign(
        page, "summer", "Summer", "shop@example.com", "Summer is here.", include="newsletter", exclude="spring errors"
    )
    page.click("form.panel button[type=submit]")
    page.click("#send-now")
    expect(page.locator("#count-sent")).to_have_text("8", timeout=60_000)
    expect(page.locator("#count-error")).to_have_text("0")
    shot(page, "08-second-campaign-no-errors")
    assert relay.handler.rejected.total() == 2  # each bad address was tried once, in the first campaign only

    page.goto("/")
    expect(page.locator("#limit-today")).to_have_text("1,000")
    shot(page, "09-dashboard-daily-limit")
    page.goto("/blacklist")
    shot(page, "10-blacklist")
    assert page.alerts == []  # no injected script ever ran
    assert page.csp_violations == []
