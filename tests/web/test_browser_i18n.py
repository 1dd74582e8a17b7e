"""The translated pages in a real browser (Chromium) whose language is Vietnamese, then English, against
`sendwell serve` after a real send: no English catalogue string in a Vietnamese page's text, no Vietnamese one in
an English page. Screenshots of both go to test-artifacts/ (not committed).

Every page a first session meets is walked: the seed's flow (statistics → errors → export → black list →
segment → exclusion → daily limit on the dashboard), and the campaign, draft, contacts, contact, forms and
template pages."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from sendwell import campaigns, contacts, segments
from sendwell.db.engine import open_database
from sendwell.stats import campaign_stats
from sendwell.web.i18n import LOCALE_DIR

from .test_browser import ARGS, ARTIFACTS, BAD, CHROMIUM, PASSWORD, relay, server  # noqa: F401 (fixtures)

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|<[^>]+>")


def _phrases(language: str) -> dict[str, str]:
    """Each catalogue entry's text in `language` as a page shows it (tags and placeholders cut out), for the
    entries whose two languages differ: fragment → the English msgid it came from."""
    with (LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="vi")
    found = {}
    for m in catalog:
        if not m.id:
            continue
        english = m.id if isinstance(m.id, tuple) else (m.id,)
        viet = m.string if isinstance(m.string, tuple) else (m.string,)
        texts, others = (english, " ".join(viet)) if language == "en" else (viet, " ".join(english))
        for text in texts:
            for part in PLACEHOLDER.split(text):
                part = part.strip(" .,:;()—·…←→")
                if re.search(r"[^\W\d_]{2}", part) and part not in others:  # "CSV" reads the same in both
                    found[part] = english[0]
    return found


def _strays(page_text: str, phrases: dict[str, str]) -> list[str]:
    page_text = re.sub(r"\S+@\S+", " ", page_text)  # addresses are data ("other@example.org")
    page_text = re.sub(r"\[\w+\]", " ", page_text)  # so are the configuration's sections ("[sending] public_url")
    return sorted(
        f"{p!r} (from {msgid!r})"
        for p, msgid in phrases.items()
        if re.search(r"(?<!\w)" + re.escape(p) + r"(?!\w)", page_text)
    )


def _sent_campaign(db_url: str) -> tuple[int, int]:
    """Contacts, a segment, an exclusion and a campaign the server's worker sends through the relay; and a draft."""
    engine = open_database(db_url)
    people = [f"good{i}@example.com" for i in range(5)] + BAD
    contacts.import_contacts(engine, io.BytesIO(("email\n" + "\n".join(people) + "\n").encode()))
    segments.create(engine, "newsletter", "")
    segments.import_members(engine, "newsletter", io.BytesIO("\n".join(people).encode()), source_name="t")
    segments.create(engine, "by phone", "")
    segments.import_members(engine, "by phone", io.BytesIO(b"good4@example.com"), source_name="t")
    cid = campaigns.create_campaign(
        engine,
        name="spring",
        subject="Hi",
        from_addr="shop@example.com",
        text="Spring is here.",
        include=["newsletter"],
        exclude=["by phone"],
    )
    campaigns.start_campaign(engine, cid)
    draft = campaigns.create_campaign(  # a draft: its page shows the preview, the test send and the set-up problems
        engine,
        name="autumn",
        subject="Autumn, {{ first_name }}",  # the operator's words, not a catalogue entry ("Hello" is the layouts')
        from_addr="shop@example.com",
        html="<p>Autumn, {{ first_name }}</p>",
        include=["newsletter"],
    )
    deadline = time.monotonic() + 90
    while campaign_stats(engine, cid).by_status.get("queued", 0) and time.monotonic() < deadline:
        time.sleep(0.5)
    engine.dispose()
    return cid, draft


@pytest.mark.parametrize("language", ["vi", "en"])
def test_translated_pages_have_no_string_of_the_other_language(
    server: str,  # noqa: F811
    tmp_path: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    cid, draft = _sent_campaign(f"sqlite:///{tmp_path / 'browser.db'}")
    other = _phrases("en" if language == "vi" else "vi")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        locale = "vi-VN" if language == "vi" else "en-US"
        scheme = "light" if language == "vi" else "dark"  # the English walk also shows dark mode
        context = browser.new_context(
            base_url=server, locale=locale, color_scheme=scheme, viewport={"width": 390, "height": 844}
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("dialog", lambda d: d.accept())
        strays: dict[str, list[str]] = {}

        def visit(url: str, name: str) -> None:
            if url:
                page.goto(url)
            assert page.locator("html").get_attribute("lang") == language
            page.screenshot(path=str(ARTIFACTS / f"i18n-{language}-{name}.png"), full_page=True)
            # stored or relayed text (SMTP answers, notes, descriptions) is marked translate="no": not ours to check
            text = page.evaluate(
                "() => { const b = document.body.cloneNode(true);"
                " b.querySelectorAll('[translate=no], script, style').forEach(e => e.remove());"
                " b.querySelectorAll('td, th, p, div, li, dt, dd, label, option, h1, h2, a, button')"
                ".forEach(e => e.append(' ')); return b.textContent; }"
            )
            text += " ".join(page.locator("[placeholder]").evaluate_all("e => e.map(x => x.placeholder)"))
            (ARTIFACTS / f"i18n-{language}-{name}.txt").write_text(text)
            found = _strays(text, other)
            if found:
                strays[name] = found
            assert_fits(name)

        def assert_fits(name: str) -> None:
            # at phone width nothing pushes the page sideways: wide tables scroll inside their own box
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 1, f"{name}: the page is {wide}px wider than the phone's screen"

        visit("/login", "01-login")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(246, 247, 249)" if scheme == "light" else "rgb(20, 23, 29)")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        # errors → export → black list → segment → exclusion, on the pages translated so far
        visit(f"/campaigns/{cid}/recipients?status=error", "02-errors")
        expect(page.locator("#recipients")).to_contain_text("nobody@example.com")
        with page.expect_download() as download:
            page.click("#export-csv")
        assert "nobody@example.com" in Path(download.value.path()).read_text()
        page.click("#blacklist-them button")
        expect(page.locator("#notice")).to_be_visible()
        visit("", "03-blacklisted")
        page.fill("#seg-name", "spring errors")
        page.click("#segment-of-them button")
        expect(page.locator("#member-count")).to_have_text("2")
        visit("", "04-segment")
        visit(f"/campaigns/{cid}/recipients?status=sent", "05-sent-asks-for-count")
        page.click("#blacklist-them button")  # no count typed: the browser asks for it, nothing is sent
        assert "/recipients?status=sent" in page.url
        visit("/blacklist", "06-blacklist")
        page.fill("input[name=q]", "nobody")
        page.press("input[name=q]", "Enter")
        expect(page.locator("#rows")).to_contain_text("nobody@example.com")
        page.select_option("select[name=reason]", "")
        expect(page.locator("#rows")).to_contain_text("nobody@example.com")
        visit("", "07-blacklist-search")
        visit("/blacklist/entry?email=nobody@example.com", "08-blacklist-entry")
        visit("/segments", "09-segments")
        visit("/campaigns", "10-campaigns")
        visit("/settings", "11-settings")
        visit("/nowhere", "12-not-found")
        visit("/templates", "14-templates")
        visit(f"/campaigns/{cid}", "13-statistics")
        visit("/", "15-dashboard-daily-limit")
        expect(page.locator("#limit-tomorrow")).to_be_visible()
        visit("/campaigns/new", "16-campaign-form")
        page.click("#pick-include input[value=newsletter]")
        page.click("form.panel button[type=submit]")  # no name, subject or body: the form says so, in its language
        visit("", "17-campaign-form-error")
        visit(f"/campaigns/{draft}", "18-draft")
        page.fill("#test-to", "not an address")
        page.click("#test-submit")
        expect(page.locator("#notice")).to_be_visible()
        visit("", "19-draft-test-refused")
        visit("/contacts", "20-contacts")
        visit("/contacts/show?email=good0@example.com", "21-contact")
        page.click("#save-contact")
        expect(page.locator("#notice")).to_be_visible()
        visit("", "22-contact-saved")
        visit("/contacts/bulk?action=blacklist&emails=good1@example.com", "23-contacts-bulk")
        visit("/forms", "24-forms")
        visit("/templates/new", "25-template-form")
        context.close()
        browser.close()
    assert not strays, f"{language} pages show strings of the other language: {strays}"
