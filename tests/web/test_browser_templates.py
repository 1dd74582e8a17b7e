"""Templates in a real browser (Playwright driving Debian's Chromium) against `sendwell serve`: create a template,
type in the code editor and watch the sandboxed preview follow, use the template in a campaign, and see the draft's
preview in its layout; the page works without JavaScript too (a plain textarea and a Preview button)."""

from __future__ import annotations

from pathlib import Path

from sendwell.db.engine import open_database

from .test_browser import PASSWORD, page, relay, server, shot  # noqa: F401 - the fixtures of the browser story


def _contacts(tmp_path: Path) -> None:
    from factories import add_contacts

    engine = open_database(f"sqlite:///{tmp_path / 'browser.db'}")
    add_contacts(engine, ["ann@example.com"], {"ann@example.com": {"first_name": "Ann"}})
    engine.dispose()


def _login(page) -> None:  # noqa: F811
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_edit_a_template_with_live_preview_and_use_it_in_a_campaign(page, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    _contacts(tmp_path)
    _login(page)
    page.click("nav >> text=Templates")
    expect(page.locator("#templates")).to_contain_text("newsletter")
    page.click("#new-template")

    # The code editor replaced the textarea (which still carries the value the form posts).
    editor = page.locator("#t-html-editor .cm-content")
    expect(editor).to_be_visible()
    expect(page.locator("#t-html")).to_be_hidden()
    assert page.locator("#t-html-editor .cm-line").count() > 10  # the built-in layout to start from
    frame = page.frame_locator("#template-preview")
    expect(frame.locator("h1")).to_have_text("The campaign's body goes here")
    assert page.locator("#template-preview").get_attribute("sandbox") == ""

    # Replace the HTML (pasted), then type in it: the preview follows after a pause, merge fields filled.
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(
        '<div id="frame" style="border-top:6px solid #1f5fbf">\n<p id="greet">Dear {{ first_name }},</p>\n'
        '{{ content }}\n<p id="foot"><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>\n</div>'
    )
    expect(frame.locator("#greet")).to_have_text("Dear Ada,")
    expect(frame.locator("#foot")).to_have_text("Unsubscribe")
    highlighted = page.locator("#t-html-editor .cm-line span")  # the syntax highlighter's tokens
    assert highlighted.count() > 5
    colours = set(highlighted.evaluate_all("els => els.map(e => getComputedStyle(e).color)"))
    assert len(colours) > 1, colours  # tags, attributes and text in different colours: the styles applied
    page.keyboard.press("Control+End")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("End")
    page.keyboard.type(" Thanks for reading!", delay=5)
    expect(frame.locator("#frame")).to_contain_text("Thanks for reading!")
    shot(page, "41-template-live-preview")

    page.fill("#t-name", "brand")
    page.click("#template-save")
    expect(page.locator("#template-notice")).to_have_text("Saved.")
    expect(page.locator("h1")).to_have_text("Template brand")
    expect(page.frame_locator("#template-preview").locator("#greet")).to_have_text("Dear Ada,")

    # A campaign in that template: picked on the form, its Markdown body rendered into the layout on the draft page.
    page.goto("/campaigns/new")
    page.fill("#f-name", "launch")
    page.fill("#f-subject", "Hi {{ first_name }}")
    page.fill("#f-from_addr", "Shop <shop@example.com>")
    page.fill("#f-html", "## Big news\n\nOur **spring** range is in.")
    page.select_option("#f-body-format", "markdown")
    page.select_option("#f-template", "brand")
    page.click("button:has-text('Create draft')")
    page.wait_for_url("**/campaigns/1")
    expect(page.locator("#campaign-template")).to_have_text("brand")
    preview = page.frame_locator("#preview-frame")
    expect(preview.locator("#greet")).to_have_text("Dear Ann,")
    expect(preview.locator("h2")).to_have_text("Big news")
    expect(preview.locator("strong")).to_have_text("spring")
    shot(page, "42-campaign-in-template")
    page.click("#tab-text")
    expect(page.locator("#preview-text")).to_contain_text("Dear Ann,")
    expect(page.locator("#preview-text")).to_contain_text("Big news")

    # Deleting a template a campaign uses is refused, saying which.
    page.goto("/templates/edit?name=brand")
    page.click("#template-delete")
    expect(page.locator("#template-error")).to_contain_text("used by 1 campaign(s): 'launch'")
    assert not page.csp_violations, page.csp_violations
    assert not page.alerts


def test_the_template_page_works_without_javascript(server) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from .test_browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(base_url=server, java_script_enabled=False)
        page = context.new_page()
        page.set_default_timeout(20_000)
        _login(page)
        page.goto("/templates/new?start=newsletter")
        expect(page.locator("#t-html")).to_be_visible()  # a plain textarea
        page.fill("#t-html", "<p id='plain'>Plain {{ first_name }}</p>{{ content }}")
        page.click("#template-preview-button")  # posts into the frame
        expect(page.frame_locator("#template-preview").locator("#plain")).to_have_text("Plain Ada")
        page.fill("#t-name", "plain")
        page.click("#template-save")
        expect(page.locator("h1")).to_have_text("Template plain")
        context.close()
        browser.close()
