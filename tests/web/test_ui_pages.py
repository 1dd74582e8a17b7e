"""The UI's workflow through its real forms: import contacts, paste a black list, build segments, make a campaign."""

from __future__ import annotations

import csv
import io

from sendwell import blacklist, campaigns, contacts, segments


def test_import_contacts_by_upload_then_search(ui, web_engine) -> None:
    data = b"email,first name\nann@example.com,Ann\nbob@example.com,Bob\nnot an address,X\n"
    r = ui.post("/contacts/import", files={"file": ("people.csv", data, "text/csv")})
    assert r.status_code == 200
    assert 'id="report"' in r.text and 'id="rejected"' in r.text and "not an address" in r.text
    assert contacts.count(web_engine) == 2
    r = ui.get("/contacts?q=bob")
    assert "bob@example.com" in r.text and "ann@example.com" not in r.text
    r = ui.post("/contacts/import", files={"file": ("", b"", "application/octet-stream")})
    assert r.history[0].status_code == 303 and "choose a CSV" in r.text  # every POST redirects, errors included
    r = ui.post("/contacts/import", files={"file": ("x.bin", b"\x00\x01\x02\x03" * 50)})
    assert r.history[0].status_code == 303 and "binary" in r.text


def test_contact_page_and_delete(ui, web_engine) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(b"email,city\ncat@example.com,Oslo\n"))
    r = ui.get("/contacts/show?email=cat@example.com")
    assert "Oslo" in r.text
    r = ui.post("/contacts/delete", {"email": "cat@example.com"}, follow_redirects=False)
    assert r.status_code == 303 and contacts.count(web_engine) == 0
    assert ui.get("/contacts/show?email=cat@example.com").status_code == 404


def test_blacklist_paste_upload_show_and_remove(ui, web_engine) -> None:
    r = ui.post("/blacklist/add", {"text": "a@example.com, b@example.com\nnonsense", "note": "asked"})
    assert r.status_code == 200 and blacklist.count(web_engine) == 2 and "nonsense" in r.text
    r = ui.post("/blacklist/add", {"note": "file"}, files={"file": ("errors.csv", b"email\nc@example.com\n")})
    assert blacklist.count(web_engine) == 3
    r = ui.post("/blacklist/add", {"text": "  "})
    assert r.status_code == 400 and "paste some addresses" in r.text
    page = ui.get("/blacklist?q=b@")
    assert "b@example.com" in page.text and "c@example.com" not in page.text
    entry = ui.get("/blacklist/entry?email=a@example.com")
    assert "asked" in entry.text and "web:admin" in entry.text
    r = ui.post("/blacklist/remove", {"email": "a@example.com", "note": "mistake"}, follow_redirects=False)
    assert r.status_code == 303 and blacklist.count(web_engine) == 2
    assert "mistake" in ui.get("/blacklist/entry?email=a@example.com").text
    rows = list(csv.DictReader(io.StringIO(ui.get("/blacklist/export.csv").text)))
    assert sorted(r["email"] for r in rows) == ["b@example.com", "c@example.com"]


def test_segment_from_pasted_list_then_add_remove_export_delete(ui, web_engine) -> None:
    r = ui.post("/segments", {"name": "vip", "description": "best", "text": "x@example.com\ny@example.com\nbroken@"})
    assert r.status_code == 200 and 'id="member-count">2<' in r.text and "broken@" in r.text
    sid = segments.list_segments(web_engine)[0].id
    r = ui.post(f"/segments/{sid}/add", files={"file": ("more.txt", b"z@example.com\n")})
    assert 'id="member-count">3<' in r.text
    r = ui.post(f"/segments/{sid}/remove", {"text": "x@example.com"})
    assert 'id="member-count">2<' in r.text
    rows = list(csv.DictReader(io.StringIO(ui.get(f"/segments/{sid}/export.csv").text)))
    assert [r["email"] for r in rows] == ["y@example.com", "z@example.com"]
    r = ui.post("/segments", {"name": "vip"})
    assert r.status_code == 400 and "already exists" in r.text
    r = ui.post(f"/segments/{sid}/delete", follow_redirects=False)
    assert r.status_code == 303 and segments.list_segments(web_engine) == []
    assert ui.get(f"/segments/{sid}").status_code == 404


def test_campaign_with_segments_to_send_to_and_to_exclude(ui, web_engine) -> None:
    ui.post("/segments", {"name": "customers", "text": "a@example.com\nb@example.com\nc@example.com"})
    ui.post("/segments", {"name": "bounced last time", "text": "b@example.com"})
    ui.post("/blacklist/add", {"text": "c@example.com"})
    form = ui.get("/campaigns/new").text
    assert 'name="include" value="customers"' in form and 'name="exclude" value="bounced last time"' in form
    r = ui.post(
        "/campaigns/new",
        {
            "name": "autumn",
            "subject": "Hello",
            "from_addr": "Shop <shop@example.com>",
            "text": "Hi there",
            "include": "customers",
            "exclude": "bounced last time",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    page = ui.get(f"/campaigns/{cid}").text
    assert 'id="campaign-include">customers<' in page and 'id="campaign-exclude">bounced last time<' in page
    assert 'id="audience-excluded">1<' in page and 'id="audience-blacklisted">1<' in page
    assert 'id="audience-to-send">1<' in page
    # What the campaign will reach: customers minus the excluded segment minus the black list.
    assert campaigns.start_campaign(web_engine, cid) == 1


def test_campaign_form_keeps_input_and_marks_the_bad_field(ui) -> None:
    r = ui.post("/campaigns/new", {"name": "x", "subject": "Hi <b>", "from_addr": "not an address", "text": "t"})
    assert r.status_code == 400
    assert 'aria-invalid="true"' in r.text and "From: &#39;not an address&#39;" in r.text
    assert 'value="Hi &lt;b&gt;"' in r.text


def test_edit_a_draft_then_delete_it(ui, web_engine) -> None:
    ui.post("/segments", {"name": "s1", "text": "a@example.com"})
    cid = campaigns.create_campaign(web_engine, name="draft", subject="One", from_addr="a@example.com", text="t")
    assert 'value="One"' in ui.get(f"/campaigns/{cid}/edit").text
    r = ui.post(
        f"/campaigns/{cid}/edit",
        {"subject": "Two", "from_addr": "a@example.com", "text": "t", "exclude": "s1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    camp = campaigns.get_campaign(web_engine, cid)
    assert camp.subject == "Two" and camp.exclude == ["s1"]
    r = ui.post(f"/campaigns/{cid}/delete", follow_redirects=False)
    assert r.status_code == 303 and campaigns.list_campaigns(web_engine) == []


def test_dashboard_counts(ui, web_engine) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(b"email\na@example.com\nb@example.com\n"))
    blacklist.add(web_engine, ["b@example.com"])
    r = ui.get("/")
    assert 'id="count-contacts">2<' in r.text and 'id="count-blacklist">1<' in r.text


def test_static_assets_are_served_without_login(app) -> None:
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        js = client.get("/static/htmx.min.js")
        assert js.status_code == 200 and js.text.startswith("/*! htmx 2.")
        assert client.get("/static/style.css").status_code == 200
        assert "set-cookie" not in js.headers
