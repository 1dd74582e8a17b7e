"""The campaign page keeps following a campaign that waits for retries, in a real browser (Playwright driving
Debian's Chromium) against `sendwell serve` with its worker: "finished sending, 2 waiting for retry" polls at a
slower pace, and when the last retry goes through the page turns to "finished" by itself, then stops polling.
The browser's clock is Playwright's, moved forward instead of waiting half a minute."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from sendwell.db.engine import open_database
from sendwell.db.schema import campaigns

from .test_browser import PASSWORD, page, server  # noqa: F401 - the fixtures of the browser story
from factories import started_campaign
from sending.smtpd import Script, ScriptedServer

GREY = ["grey1@example.com", "grey2@example.com"]


@pytest.fixture
def relay() -> Iterator[ScriptedServer]:  # the relay `server` (sendwell serve) sends through: it greylists two
    with ScriptedServer(Script(rcpt={a: "451 4.7.1 greylisted, try again later" for a in GREY})) as srv:
        yield srv


def test_a_page_waiting_for_retries_turns_finished_by_itself(page, tmp_path: Path, relay: ScriptedServer) -> None:  # noqa: F811
    from playwright.sync_api import expect

    engine = open_database(f"sqlite:///{tmp_path / 'browser.db'}")
    cid = started_campaign(engine, ["ann@example.com", "bob@example.com", *GREY])
    page.clock.install()  # timers run at the real pace until moved forward
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto(f"/campaigns/{cid}")

    # Sent to two, two greylisted: the page says it is waiting, and keeps asking, every 30 seconds.
    expect(page.locator("#campaign-state")).to_have_text("finished sending", timeout=30_000)
    expect(page.locator("#campaign-phase")).to_contain_text("2 waiting for retry")
    stats = page.locator("#campaign-stats")
    expect(stats).to_have_attribute("hx-trigger", "every 30s")

    # The greylisting ends: the worker's next retry delivers both, and the campaign is finished.
    relay.script = Script()
    deadline = time.monotonic() + 30
    state = None
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            state = conn.execute(select(campaigns.c.state).where(campaigns.c.id == cid)).scalar_one()
        if state == "finished":
            break
        time.sleep(0.2)
    engine.dispose()
    assert state == "finished"
    expect(page.locator("#campaign-state")).to_have_text("finished sending")  # not asked again yet

    # Half a minute later (on the page's clock) the page has asked, seen the end, and reloaded itself.
    page.clock.fast_forward("00:31")
    expect(page.locator("#campaign-state")).to_have_text("finished", timeout=10_000)
    expect(page.locator("#campaign-phase")).to_have_count(0)
    expect(page.locator("#count-sent")).to_have_text("4")
    expect(page.locator("#campaign-stats")).not_to_have_attribute("hx-trigger", "every 30s")
    assert page.locator("#campaign-stats").get_attribute("hx-get") is None  # finished: no more polling
    assert not page.alerts and not page.csp_violations
