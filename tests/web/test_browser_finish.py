"""Set-up warnings, scheduling and an honest end in a real browser (Playwright driving Debian's Chromium) against
`sendwell serve` (with its worker): the dashboard and the draft page say what is not set up before "Send", the
tracking options are disabled while public_url is unset, a campaign is scheduled from the page and started by
the worker at its time, and it ends "finished sending, 2 waiting for retry" with its audience figures kept."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sendwell import blacklist
from sendwell.db.engine import open_database

from .test_browser import PASSWORD, page, server, shot  # noqa: F401 - the fixtures of the browser story
from sending.smtpd import Script, ScriptedServer

GREY = ["grey1@example.com", "grey2@example.com"]


@pytest.fixture
def relay() -> Iterator[ScriptedServer]:  # the relay `server` (sendwell serve) sends through: it greylists two
    with ScriptedServer(Script(rcpt={a: "451 4.7.1 greylisted, try again later" for a in GREY})) as srv:
        yield srv


def _contacts(tmp_path: Path) -> None:
    from factories import add_contacts

    engine = open_database(f"sqlite:///{tmp_path / 'browser.db'}")
    add_contacts(engine, ["ann@example.com", "bob@example.com", *GREY, "gone@example.com"])
    blacklist.add(engine, ["gone@example.com"], reason="manual")
    engine.dispose()


def test_warnings_schedule_and_an_honest_end(page, tmp_path: Path, relay: ScriptedServer) -> None:  # noqa: F811
    from playwright.sync_api import expect

    _contacts(tmp_path)
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    # The dashboard: what is not set up, and not what is (the worker of `serve` is running).
    warnings = page.locator("#setup-warnings")
    expect(warnings).to_contain_text("public_url is not set")
    expect(warnings).to_contain_text("bounces go nowhere")
    expect(warnings).not_to_contain_text("no sending worker")
    expect(warnings).not_to_contain_text("relay")
    shot(page, "31-dashboard-setup-warnings")

    # The new-campaign form: tracking cannot be chosen, and says why.
    page.goto("/campaigns/new")
    expect(page.locator("#tracking-off")).to_contain_text("public_url")
    expect(page.locator("#pick-track input[value='reads']")).to_be_disabled()
    expect(page.locator("#pick-track input[value='clicks']")).to_be_disabled()
    page.fill("#f-name", "winter")
    page.fill("#f-subject", "Winter news")
    page.fill("#f-from_addr", "Shop <news@nokey.example>")
    page.fill("#f-text", "Hello, {{ unsubscribe_url }}")
    page.click("form.panel button[type=submit]")
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    shot(page, "32-new-form-tracking-off")

    # The draft page warns before "Send": the From domain has no DKIM key.
    draft = page.locator("#setup-warnings")
    expect(draft).to_contain_text("no DKIM key for nokey.example")
    assert page.locator("#setup-warnings").bounding_box()["y"] < page.locator("#send-now").bounding_box()["y"]

    # Scheduled from the page, a few seconds ahead: nothing is sent before, the worker starts it then.
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=6)
    page.fill("#schedule-at", f"{at:%Y-%m-%d %H:%M:%S}")
    page.fill("#schedule-tz", "UTC")
    page.click("#schedule-save")
    expect(page.locator("#campaign-state")).to_have_text("scheduled")
    expect(page.locator("#schedule-when")).to_contain_text(f"{at:%Y-%m-%d %H:%M} UTC")
    shot(page, "33-scheduled")
    deadline = time.monotonic() + 40
    while page.locator("#campaign-state").inner_text() == "scheduled" and time.monotonic() < deadline:
        # the page may have been read just before the worker started it: a message taken by now is early only
        # if now is still before its time
        assert not relay.accepted or datetime.now(UTC) >= at, "sent before its time"
        time.sleep(0.5)
        page.reload()
    assert datetime.now(UTC) >= at

    # Two recipients are greylisted: the campaign has finished sending, and says who waits and until when.
    expect(page.locator("#campaign-state")).to_have_text("finished sending", timeout=30_000)
    expect(page.locator("#campaign-phase")).to_contain_text("Finished sending, 2 waiting for retry until")
    expect(page.locator("#count-sent")).to_have_text("2")
    expect(page.locator("#count-deferred")).to_have_text("2")
    expect(page.locator("#audience-kept")).to_contain_text("1 on the black list")
    expect(page.locator("#setup-warnings")).to_have_count(0)  # it is sent: nothing left to warn about before
    assert relay.counts() == {"ann@example.com": 1, "bob@example.com": 1}
    shot(page, "34-finished-sending-waiting-for-retry")
    assert not page.alerts and not page.csp_violations
