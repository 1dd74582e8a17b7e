"""Contacts in a real browser (Playwright driving Debian's Chromium) against `sendwell serve`: a shop's German
export imported through the column preview (a field chosen per column), then a filter, a bulk action behind its
confirmation, an offline verification followed to its end, and a contact edited."""

from __future__ import annotations

from pathlib import Path

from sendwell import segments
from sendwell.db.engine import open_database

from .test_browser import PASSWORD, page, relay, server, shot  # noqa: F401 - the fixtures of the browser story


def test_import_with_mapping_preview_filter_bulk_action_verify_and_edit(page, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    engine = open_database(f"sqlite:///{tmp_path / 'browser.db'}")
    segments.create(engine, "berlin")
    engine.dispose()
    export = tmp_path / "shop-export.csv"
    export.write_text(
        "Kundennummer;Kontakt;Vorname;Nachname;Stadt\n"
        "1;ann@example.com;Ann;Lee;Berlin\n"
        "2;Gina Lopez <gina@example.es>;;;Madrid\n"
        "3;postmaster@example.org;Post;;Berlin\n"
        "4;ann@example.com;;Lee-Smith;Berlin;extra\n"
    )
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    # Import through the preview: the address column has a name no table knows, so it is chosen by hand.
    page.goto("/contacts")
    page.set_input_files("#contacts-file", str(export))
    page.click("#preview-import")
    expect(page.locator("#preview")).to_contain_text("gina@example.es")
    expect(page.locator("select[name=col_2]")).to_have_value("first_name")  # Vorname, recognised
    expect(page.locator("select[name=col_3]")).to_have_value("last_name")  # Nachname
    page.select_option("select[name=col_0]", "-")  # Kundennummer: left out
    page.select_option("select[name=col_1]", "email")
    shot(page, "41-contacts-import-preview")
    page.click("#import-now")
    expect(page.locator("#report")).to_contain_text("3 contacts imported")
    expect(page.locator("#warnings")).to_contain_text("ann@example.com repeats line 2")
    expect(page.locator("#warnings")).to_contain_text("6 fields where the header has 5")
    expect(page.locator("#rows")).to_contain_text("last_name: Lopez")  # from "Gina Lopez <…>"
    expect(page.locator("#rows")).not_to_contain_text("kundennummer")

    # Filter by a field, then act on all matching after a confirmation that states the count.
    page.fill("#filters input[name=field]", "stadt")
    page.fill("#filters input[name=value]", "berlin")
    page.click("#apply-filters")
    expect(page.locator("#rows")).to_contain_text("2 rows")
    expect(page.locator("#rows")).not_to_contain_text("gina@example.es")
    page.check("#rows input[name=all]")
    page.select_option("select[name=action]", "add_to_segment")
    page.select_option("select[name=target_segment]", "berlin")
    page.click("#rows .bulk-apply")
    expect(page.locator("#bulk-question")).to_contain_text("Add to segment: 2 contacts")
    shot(page, "42-contacts-bulk-confirm")
    page.click("#bulk-do")
    expect(page.locator("#notice")).to_have_text("2 contacts added to segment berlin.")
    expect(page.locator("#filters input[name=field]")).to_have_value("stadt")  # back on the same filtered list

    # Verify every contact offline from the page; the progress block is polled until it says done.
    page.goto("/contacts")
    page.uncheck("#rows .verify-form input[name=dns]")
    page.click("#rows .verify-form button")
    expect(page.locator("#job-state")).to_contain_text("done")
    expect(page.locator("#job-verdicts")).to_contain_text("risky")
    page.click("#job-verdicts a:has-text('risky')")
    expect(page.locator("#rows")).to_contain_text("postmaster@example.org")
    expect(page.locator("#rows")).not_to_contain_text("ann@example.com")

    # Open a contact, change a field, drop one, leave a segment.
    page.goto("/contacts?segment=berlin")
    page.click("#rows a:has-text('ann@example.com')")
    expect(page.locator("#contact-segments input[value=berlin]")).to_be_checked()
    page.fill("input[aria-label='Value of first_name']", "Annie")
    page.fill("input[aria-label='Value of stadt']", "")
    page.uncheck("#contact-segments input[value=berlin]")
    page.click("#save-contact")
    expect(page.locator("#notice")).to_have_text("Contact saved.")
    expect(page.locator("input[aria-label='Value of first_name']")).to_have_value("Annie")
    expect(page.locator("input[aria-label='Value of stadt']")).to_have_count(0)
    expect(page.locator("#contact-segments input[value=berlin]")).not_to_be_checked()
    shot(page, "43-contact-edited")
    assert page.alerts == []
    assert page.csp_violations == [], page.csp_violations
