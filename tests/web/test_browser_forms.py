"""Subscription forms in a real browser (Playwright driving Chromium) against `sendwell serve`: the hosted form,
its confirmation message through a real SMTP server and the link followed; then the preference page behind a
campaign's unsubscribe link, on a phone-sized window, leaving one list."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from forms.helpers import confirm_link
from sqlalchemy import select

from sendwell import campaigns, segments
from sendwell.config import Settings
from sendwell.db.engine import open_database
from sendwell.db.schema import consents, recipients
from sendwell.forms import store
from sendwell.keys import app_secret
from sendwell.sending import verp

from .test_browser import page, server, shot  # noqa: F401 - the fixtures of the browser story
from sending.smtpd import ScriptedServer

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:  # what `server` (sendwell serve) sends through
    monkeypatch.setenv("SENDWELL_FORMS_CHECK_DNS", "false")  # example.org answers no MX in a sandbox
    monkeypatch.setenv("SENDWELL_FORMS_MIN_SECONDS", "1")
    with ScriptedServer() as srv:
        yield srv


def _members(engine, name: str) -> list[str]:
    return [m.email for m in segments.show(engine, name).shown]


def test_hosted_form_confirmation_and_preference_page(page, tmp_path: Path, relay: ScriptedServer) -> None:  # noqa: F811
    from playwright.sync_api import expect

    engine = open_database(f"sqlite:///{tmp_path / 'browser.db'}")
    segments.create(engine, "news", description="the monthly letter", public=True)
    segments.create(engine, "offers", description="deals, now and then", public=True)
    store.create(
        engine, "Monthly news", ["news", "offers"], fields=["first_name"], from_addr="Acme News <news@acme.example>"
    )

    page.goto("/f/monthly-news")
    expect(page.locator("#sender")).to_have_text("Acme News")
    expect(page.locator("#consent")).to_contain_text("Acme News")
    box = page.locator("#website").bounding_box()  # the honeypot: off the screen, out of a person's sight
    assert box is not None and box["x"] + box["width"] <= 0
    page.fill("#email", "gina@example.org")
    page.fill("#field-first_name", "Gina")
    shot(page, "41-form-hosted")
    time.sleep(1.2)  # a person takes longer than [forms] min_seconds
    page.click("#subscribe-button")
    expect(page.locator("#form-done")).to_contain_text("we sent you an email")
    assert _members(engine, "news") == []  # pending: in no segment yet

    deadline = time.monotonic() + 10
    while not relay.accepted and time.monotonic() < deadline:
        time.sleep(0.1)
    [mail] = relay.accepted
    assert mail.rcpt == "gina@example.org" and "Acme News" in mail.message["Subject"]
    page.goto(confirm_link(mail.message.get_content()))
    expect(page.locator("#sender")).to_have_text("Acme News")
    page.click("#confirm-button")
    expect(page.locator("#confirmed")).to_be_visible()
    shot(page, "42-form-confirmed")
    assert _members(engine, "news") == ["gina@example.org"] and _members(engine, "offers") == ["gina@example.org"]
    with engine.connect() as conn:
        assert conn.execute(select(consents.c.form_name)).scalar_one() == "Monthly news"

    # A campaign to the news list gives her an unsubscribe link: the preference page, on a phone.
    cid = campaigns.create_campaign(
        engine, name="December", subject="News", from_addr="Acme News <news@acme.example>", text="Hi", include=["news"]
    )
    campaigns.start_campaign(engine, cid)
    with engine.connect() as conn:
        rid = conn.execute(select(recipients.c.id).where(recipients.c.campaign_id == cid)).scalar_one()
    token = verp.unsubscribe_token(app_secret(engine, Settings()), cid, rid)
    phone = page.context.browser.new_context(base_url=page.url.split("/f/")[0], viewport=PHONE, is_mobile=True)
    try:
        mobile = phone.new_page()
        mobile.goto(f"/unsubscribe/{token}")
        expect(mobile.locator("#sender")).to_have_text("Acme News")
        expect(mobile.locator("#lists")).to_contain_text("deals, now and then")
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        shot(mobile, "43-preferences-phone")
        mobile.uncheck("#lists input[type=checkbox] >> nth=1")  # offers (lists are by name)
        mobile.click("#save-lists")
        expect(mobile.locator("#lists-left")).to_contain_text("offers")
        shot(mobile, "44-preferences-left-one")
    finally:
        phone.close()
    assert _members(engine, "news") == ["gina@example.org"] and _members(engine, "offers") == []
    assert page.alerts == [] and page.csp_violations == []
    engine.dispose()
