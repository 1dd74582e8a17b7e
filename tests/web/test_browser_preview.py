"""The draft page's preview and test send in a real browser (Playwright driving Debian's Chromium) against
`sendwell serve`: the HTML in a sandboxed frame where the message's script never runs, the plain-text tab,
"preview as" another recipient, the merge-field check, and a test send through a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sendwell import campaigns
from sendwell.db.engine import open_database

from .test_browser import PASSWORD, page, server, shot  # noqa: F401 - the fixtures of the browser story
from sending.smtpd import Script, ScriptedServer

HTML = (
    '<table style="background:#ffe"><tr><td><p id="hello" style="color:#c00">Hi {{ first_name | '
    'default("there") }}</p><script>alert("from the message")</script></td></tr></table>'
)


@pytest.fixture
def relay() -> Iterator[ScriptedServer]:  # the relay `server` (sendwell serve) sends through
    with ScriptedServer(Script(rcpt={"nobody@example.com": "550 5.1.1 no such user"})) as srv:
        yield srv


def _draft(tmp_path: Path) -> int:
    from factories import add_contacts

    engine = open_database(f"sqlite:///{tmp_path / 'browser.db'}")
    add_contacts(engine, ["ann@example.com", "cy@example.com"], {"ann@example.com": {"first_name": "Ann"}})
    cid = campaigns.create_campaign(
        engine,
        name="news",
        subject="News for {{ first_name | default('you') }}",
        from_addr="Shop <shop@example.com>",
        html=HTML,
        text="Hello {{ first_name }}",
    )
    engine.dispose()
    return cid


def test_preview_and_test_send_on_the_draft_page(page, tmp_path: Path, relay: ScriptedServer) -> None:  # noqa: F811
    from playwright.sync_api import expect

    cid = _draft(tmp_path)
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    page.goto(f"/campaigns/{cid}")
    frame_el = page.locator("#preview-frame")
    assert frame_el.get_attribute("sandbox") == ""
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator("#hello")).to_have_text("Hi Ann")
    # The message's own inline style applies inside the frame (its policy allows styles, nothing else).
    assert frame.locator("#hello").evaluate("e => getComputedStyle(e).color") == "rgb(204, 0, 0)"
    expect(page.locator("#preview-subject")).to_have_text("News for Ann")
    expect(page.locator("#unfilled-first_name")).to_have_text("1")  # cy has no first name
    shot(page, "21-draft-preview-html")

    page.click("#tab-text")
    expect(page.locator("#preview-text")).to_have_text("Hello Ann")

    # Preview as someone else: typed in part, the one match is shown.
    page.fill("#preview-contact", "cy@")
    page.click("#preview-as button")
    expect(page.locator("#preview-to")).to_contain_text("cy@example.com")
    expect(page.locator("#preview-text")).to_have_text("Hello")
    page.click("#tab-html")
    expect(page.frame_locator("#preview-frame").locator("#hello")).to_have_text("Hi there")
    shot(page, "22-draft-preview-as")

    # Test send, as cy: to the given address only, with [TEST] before the subject.
    page.fill("#test-to", "me@example.com")
    # Below the fold under the frame: scrolled to first (Playwright's own scrolling missed it beside the frame).
    page.locator("#test-submit").scroll_into_view_if_needed()
    page.click("#test-submit")
    expect(page.locator("#notice")).to_contain_text("Test message sent to 1 of 1 address")
    expect(page.locator("#campaign-history")).to_contain_text("sent to 1 of 1")
    assert [a.rcpt for a in relay.accepted] == ["me@example.com"]
    assert relay.accepted[0].message["Subject"] == "[TEST] News for you"
    shot(page, "23-draft-test-sent")

    page.fill("#test-to", "nobody@example.com")
    page.locator("#test-submit").scroll_into_view_if_needed()
    page.click("#test-submit")
    expect(page.locator("#notice")).to_contain_text("Not delivered: nobody@example.com (at rcpt: 550 5.1.1")
    expect(page.locator("#campaign-state")).to_have_text("draft")  # nothing started, nothing counted
    assert len(relay.accepted) == 1
    assert page.alerts == []  # the message's script never ran
    # The app's own pages keep working under their policy; only the framed message's script is refused.
    assert all("script" in v for v in page.csp_violations), page.csp_violations
