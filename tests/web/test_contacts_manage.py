"""Contacts managed over HTTP on SQLite and PostgreSQL: filters (field, verdict, black list, segment), filtered
export, a contact's whole history, edit, and bulk actions — through the API and through the UI's routes."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

from sendwell import blacklist, contacts, segments
from sendwell.db.schema import consents
from sendwell.events import record_bounce

from .helpers import settings_for
from factories import sent_campaign

PEOPLE = (
    b"email,first_name,city,plan\n"
    b"ann@example.com,Ann,Paris,pro\n"
    b"bob@example.com,Bob,Berlin,\n"
    b"postmaster@example.org,Post,Paris,free\n"
    b"cy@mailinator.com,Cy,Rome,pro\n"
)


def load(api) -> None:
    r = api.post("/api/v1/contacts/import", files={"file": ("p.csv", PEOPLE, "text/csv")})
    assert r.status_code == 200, r.text


def emails(api, **params) -> list[str]:
    r = api.get("/api/v1/contacts", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return [c["email"] for c in body["items"]]


def test_filters_by_field_verdict_black_list_and_segment(api, web_engine) -> None:
    load(api)
    assert emails(api, field="city", value="paris") == ["ann@example.com", "postmaster@example.org"]
    assert emails(api, field="plan") == ["ann@example.com", "postmaster@example.org", "cy@mailinator.com"]
    assert emails(api, verdict="unchecked") == emails(api)
    r = api.post("/api/v1/contacts/bulk", json={"action": "verify", "all_matching": True, "dns": False})
    assert r.json()["count"] == 4 and r.json()["verdicts"] == {"valid": 2, "risky": 2}
    assert emails(api, verdict="risky") == ["postmaster@example.org", "cy@mailinator.com"]
    blacklist.add(web_engine, ["bob@example.com"], reason="complaint")
    assert emails(api, blacklisted="yes") == ["bob@example.com"]
    assert emails(api, blacklisted="complaint") == ["bob@example.com"]
    assert emails(api, blacklisted="hard_bounce") == []
    assert "bob@example.com" not in emails(api, blacklisted="no")
    segments.create(web_engine, "vip")
    segments.add(web_engine, "vip", ["cy@mailinator.com", "ann@example.com"])
    assert emails(api, segment="vip", field="plan", value="PRO", search="ann") == ["ann@example.com"]


def test_a_bad_filter_names_its_field(api) -> None:
    for params, field in [
        ({"verdict": "great"}, "verdict"),
        ({"blacklisted": "maybe"}, "blacklisted"),
        ({"segment": "ghost"}, "segment"),
        ({"value": "x"}, "field"),
    ]:
        r = api.get("/api/v1/contacts", params=params)
        assert r.status_code == 400 and r.json()["field"] == field, (params, r.text)
        assert api.get("/api/v1/contacts/export.csv", params=params).status_code == 400


def test_export_holds_the_filtered_contacts_only(api) -> None:
    load(api)
    r = api.get("/api/v1/contacts/export.csv", params={"field": "city", "value": "Paris"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["email"], x["first_name"]) for x in rows] == [
        ("ann@example.com", "Ann"),
        ("postmaster@example.org", "Post"),
    ]


def test_bulk_actions_on_chosen_rows_and_on_all_matching(api, web_engine) -> None:
    load(api)
    segments.create(web_engine, "paris")
    paris = {"field": "city", "value": "Paris"}
    r = api.post(
        "/api/v1/contacts/bulk",
        json={"action": "add_to_segment", "all_matching": True, "filter": paris, "segment": "paris"},
    )
    assert r.json() == {"action": "add_to_segment", "count": 2, "verdicts": None}
    assert emails(api, segment="paris") == ["ann@example.com", "postmaster@example.org"]
    r = api.post(
        "/api/v1/contacts/bulk",
        json={"action": "remove_from_segment", "emails": ["Ann@Example.com"], "segment": "paris"},
    )
    assert r.json()["count"] == 1 and emails(api, segment="paris") == ["postmaster@example.org"]
    r = api.post(
        "/api/v1/contacts/bulk",
        json={"action": "blacklist", "emails": ["bob@example.com"], "reason": "unsubscribe", "note": "asked by phone"},
    )
    assert r.json()["count"] == 1
    entry = blacklist.show(web_engine, "bob@example.com")
    assert entry.entry.reason == "unsubscribe" and entry.entry.note == "asked by phone"
    r = api.post("/api/v1/contacts/bulk", json={"action": "delete", "all_matching": True, "filter": {"search": "mail"}})
    assert r.json()["count"] == 1 and emails(api) == ["ann@example.com", "bob@example.com", "postmaster@example.org"]
    for body, field in [
        ({"action": "explode", "emails": ["ann@example.com"]}, "action"),
        ({"action": "delete"}, "emails"),
        ({"action": "add_to_segment", "emails": ["ann@example.com"], "segment": "ghost"}, "segment"),
        ({"action": "blacklist", "emails": ["ann@example.com"], "reason": "boredom"}, "reason"),
    ]:
        r = api.post("/api/v1/contacts/bulk", json=body)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    assert contacts.count(web_engine) == 3


def test_show_has_the_whole_history_and_edit_changes_fields_and_segments(api, web_engine, db_url) -> None:
    cid, ids = sent_campaign(web_engine, ["ann@example.com"], name="Spring sale")
    record_bounce(
        web_engine,
        settings_for(db_url),
        email="ann@example.com",
        reason="mailbox_full",
        status_code="4.2.2",
        hard=False,
        detail="552 mailbox full",
        raw=b"",
        source="test",
        campaign_id=cid,
        recipient_id=ids["ann@example.com"],
    )
    contacts.import_contacts(web_engine, io.BytesIO(b"email,first_name\nann@example.com,Ann\n"))
    blacklist.add(web_engine, ["ann@example.com"], reason="manual", note="on request")
    shown = api.get("/api/v1/contacts/ann@example.com").json()
    assert [(c["campaign"], c["status"]) for c in shown["campaigns"]] == [
        ("Spring sale", "failed")
    ]  # the bounce settled it
    assert [(e["type"], e["reason"], e["campaign"]) for e in shown["events"]] == [
        ("bounce", "mailbox_full", "Spring sale")
    ]
    assert [(b["action"], b["reason"]) for b in shown["blacklist"]] == [("added", "manual")]
    assert shown["segments"] == ["s"]

    segments.create(web_engine, "vip")
    r = api.patch(
        "/api/v1/contacts/ann@example.com",
        json={"fields": {"first_name": "Annie", "City": "Oslo", "": ""}, "segments": ["vip"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["fields"] == {"first_name": "Annie", "city": "Oslo"} and r.json()["segments"] == ["vip"]
    r = api.patch("/api/v1/contacts/ann@example.com", json={"fields": {"first_name": "Ann"}, "segments": ["nope"]})
    assert r.status_code == 400 and r.json()["field"] == "segments"
    assert api.patch("/api/v1/contacts/ghost@example.com", json={"fields": {}}).status_code == 404


# --- the UI's routes ---------------------------------------------------------------------------------


def test_ui_import_preview_maps_columns_then_reports_on_the_redirected_page(ui, web_engine) -> None:
    data = "Kontakt;Rufname;Nachname;Notiz\nann@example.com;Ann;Lee;x\nann@example.com;Annie;;y\nbob@example.com;Bob\n"
    r = ui.post(
        "/contacts/import", {"preview": "1"}, files={"file": ("shop.csv", data.encode())}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/contacts/import/")
    preview = r.headers["location"]
    page = ui.get(preview).text
    assert 'id="preview"' in page and "Rufname" in page and "ann@example.com" in page
    assert '<option value="last_name" selected>' in page  # Nachname recognised; Kontakt and Rufname are not
    r = ui.post(preview, {"col_0": "first_name", "col_1": "first_name", "col_2": "last_name", "col_3": "-"})
    assert "choose the column that holds the addresses" in r.text and 'class="field-error"' in r.text
    form = {"col_0": "email", "col_1": "first_name", "col_2": "last_name", "col_3": "-", "on_duplicate": "merge"}
    r = ui.post(preview, form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/report")
    page = ui.get(r.headers["location"]).text
    assert 'id="report"' in page and 'id="warnings"' in page
    assert "ann@example.com repeats line 2" in page and "2 fields where the header has 4" in page
    assert contacts.get_contact(web_engine, "ann@example.com").fields == {"first_name": "Ann", "last_name": "Lee"}
    assert ui.get(preview).status_code == 404  # imported: the kept file is gone


def test_ui_filter_bulk_confirmation_and_action(ui, web_engine) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(PEOPLE))
    segments.create(web_engine, "paris")
    page = ui.get("/contacts?field=city&value=paris").text
    assert "ann@example.com" in page and "bob@example.com" not in page and "2 rows" in page
    assert 'href="/contacts/export.csv?field=city&amp;value=paris"' in page
    query = "field=city&value=paris&all=1&action=add_to_segment&target_segment=paris"
    r = ui.get(f"/contacts/bulk?{query}")
    assert "Add to segment: 2 contacts" in r.text and "segment “paris”" in r.text
    form = {"field": "city", "value": "paris", "all": "1", "action": "add_to_segment", "target_segment": "paris"}
    r = ui.post("/contacts/bulk", form, follow_redirects=False)
    assert r.status_code == 303 and "notice" not in r.headers["location"]  # the notice travels in the session
    assert "2 contacts added to segment paris." in ui.get(r.headers["location"]).text
    assert [m.email for m in segments.show(web_engine, "paris").shown] == ["ann@example.com", "postmaster@example.org"]
    r = ui.get("/contacts/bulk?action=delete")  # nothing chosen: back to the list, the selection named
    assert "Selection: choose at least one contact" in r.text
    r = ui.get("/contacts/bulk?action=add_to_segment&emails=bob@example.com")
    assert "Segment: choose a segment" in r.text
    r = ui.post("/contacts/bulk", {"action": "delete", "emails": "bob@example.com"}, follow_redirects=False)
    assert r.status_code == 303 and contacts.count(web_engine) == 3
    assert "Verdict: &#39;bogus&#39; is not one of" in ui.get("/contacts?verdict=bogus").text


def test_ui_verify_job_progress_and_result_filter(ui, web_engine) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(PEOPLE))
    r = ui.post("/contacts/verify", {}, follow_redirects=False)  # no "dns": offline
    assert r.status_code == 303 and r.headers["location"].startswith("/contacts/jobs/")
    job = r.headers["location"].split("?")[0]
    for _ in range(100):
        fragment = ui.get(f"{job}/progress").text
        if "· done" in fragment:
            break
        time.sleep(0.1)
    assert "<strong>4</strong> of <strong>4</strong> checked" in fragment and 'id="job-verdicts"' in fragment
    assert "hx-trigger" not in fragment  # finished: the page stops polling
    page = ui.get("/contacts?verdict=risky").text
    assert "postmaster@example.org" in page and "cy@mailinator.com" in page and "ann@example.com" not in page


def test_ui_contact_edit_and_history(ui, web_engine) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(PEOPLE))
    segments.create(web_engine, "vip")
    blacklist.add(web_engine, ["ann@example.com"], reason="manual", note="asked")
    page = ui.get("/contacts/show?email=ann@example.com").text
    assert 'id="history-blacklist"' in page and "asked" in page and 'value="Paris"' in page
    assert 'id="history-consents"' in page and "No consent recorded" in page
    with web_engine.begin() as conn:  # what confirming a subscription form records (tests/forms: the whole flow)
        now = datetime.now(UTC)
        conn.execute(
            consents.insert().values(
                email="ann@example.com", form_name="Monthly news", segments=["vip"], consent_text="Yes, news monthly",
                method="double", submitted_at=now, submitted_addr="203.0.113.9",
                confirmed_at=now, confirmed_addr="203.0.113.9",
            )
        )  # fmt: skip
    page = ui.get("/contacts/show?email=ann@example.com").text
    assert "Monthly news" in page and "Yes, news monthly" in page and "203.0.113.9" in page
    form = {"email": "ann@example.com", "name_0": "first_name", "value_0": "Annie", "name_1": "city", "value_1": ""}
    r = ui.post("/contacts/edit", {**form, "name_2": "Lieblingsfarbe", "value_2": "blau", "segments": "vip"})
    assert "saved" in r.text
    assert contacts.get_contact(web_engine, "ann@example.com").fields == {
        "first_name": "Annie",
        "lieblingsfarbe": "blau",
    }
    assert [m.email for m in segments.show(web_engine, "vip").shown] == ["ann@example.com"]
    r = ui.post("/contacts/edit", {"email": "ann@example.com", "name_0": "email", "value_0": "x@example.com"})
    assert "Fields: the address is not a field" in r.text and 'id="fields" class="field-error"' in r.text


def test_ui_verify_with_dns_through_the_configured_resolver(db_url, web_engine) -> None:
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from sendwell.auth import create_user
    from sendwell.verify.localdns import LocalDnsServer
    from sendwell.web import create_app

    from .helpers import MAX_UPLOAD, PASSWORD, UI

    zone = {"mx.example.com": {"MX": [(10, "mx1.mx.example.com")]}, "nullmx.example.com": {"MX": [(0, ".")]}}
    contacts.import_contacts(
        web_engine, io.BytesIO(b"ann@mx.example.com\nbob@nullmx.example.com\ncy@none.example.com\n")
    )
    create_user(web_engine, "admin", PASSWORD)
    with LocalDnsServer(zone) as dns:
        base = settings_for(db_url)
        settings = replace(base, verify=replace(base.verify, dns_server=f"127.0.0.1:{dns.port}", dns_timeout=1.0))
        with TestClient(create_app(settings, web_engine, max_upload=MAX_UPLOAD)) as client:
            ui = UI(client)
            ui.get("/login")
            ui.post("/login", {"username": "admin", "password": PASSWORD})
            ui.get("/contacts")
            r = ui.post("/contacts/verify", {"dns": "1"}, follow_redirects=False)
            job = r.headers["location"].split("?")[0]
            for _ in range(200):
                fragment = ui.get(f"{job}/progress").text
                if "· done" in fragment or "· failed" in fragment:
                    break
                time.sleep(0.1)
            assert "with DNS" in ui.get(job).text and "· done" in fragment, fragment
            assert emails_of(ui.get("/contacts?verdict=valid").text) == ["ann@mx.example.com"]
            assert emails_of(ui.get("/contacts?verdict=invalid").text) == [
                "bob@nullmx.example.com",
                "cy@none.example.com",
            ]


def emails_of(html: str) -> list[str]:
    import re

    return re.findall(r'name="emails" value="([^"]+)"', html)
