"""/api/v1/blacklist: add, import by upload or pasted text, list, export, show with history, remove."""

from __future__ import annotations

import csv
import io

from sendwell import campaigns, contacts


def test_add_reports_bad_addresses_and_keeps_good_ones(api) -> None:
    r = api.post(
        "/api/v1/blacklist", json={"addresses": ["a@example.com", "nonsense", "A@example.com"], "note": "asked us"}
    )
    report = r.json()
    assert r.status_code == 200 and report["imported"] == 1 and report["merged"] == 1
    assert report["rejected"][0]["line"] == 2
    entry = api.get("/api/v1/blacklist/a@example.com").json()
    assert entry["entry"]["note"] == "asked us" and entry["entry"]["actor"] == "api:tests"
    assert [h["action"] for h in entry["history"]] == ["added"]


def test_add_validates_the_body(api) -> None:
    r = api.post("/api/v1/blacklist", json={"addresses": []})
    assert r.status_code == 422 and r.json()["field"] == "addresses"
    r = api.post("/api/v1/blacklist", json={"addresses": ["a@example.com"], "reason": "because"})
    assert r.status_code == 400 and r.json()["field"] == "reason"


def test_a_bad_reason_is_refused_alike_on_add_import_and_filter(api) -> None:
    """One check of the reason (blacklist.parse_reason) whatever the way in; nothing is written."""
    detail = "reason: 'because' is not a reason; choose from manual, hard_bounce, soft_bounce, complaint, "
    detail += "unsubscribe, invalid"
    answers = [
        api.post("/api/v1/blacklist", json={"addresses": ["a@example.com"], "reason": "because"}),
        api.post(
            "/api/v1/blacklist/import", files={"file": ("l.csv", b"email\na@example.com\n")}, data={"reason": "because"}
        ),
        api.post("/api/v1/blacklist/import", data={"text": "a@example.com b@example.com", "reason": "because"}),
        api.get("/api/v1/blacklist", params={"reason": "because"}),
    ]
    for r in answers:
        assert (r.status_code, r.json()) == (400, {"detail": detail, "field": "reason", "pointer": "/reason"})
    assert api.get("/api/v1/blacklist").json()["total"] == 0


def test_import_by_upload_and_by_pasted_text(api) -> None:
    r = api.post(
        "/api/v1/blacklist/import",
        files={"file": ("errors.csv", b"email,status\nx@example.com,error\ny@example.com,error\nbroken,error\n")},
    )
    assert r.json()["imported"] == 2 and r.json()["rejected"][0]["text"] == "broken"
    r = api.post(
        "/api/v1/blacklist/import",
        data={"text": "z@example.com, w@example.com\nx@example.com", "reason": "complaint", "note": "pasted"},
    )
    assert r.json()["imported"] == 2 and r.json()["merged"] == 1
    assert api.get("/api/v1/blacklist", params={"reason": "complaint"}).json()["total"] == 2
    r = api.post("/api/v1/blacklist/import", data={"note": "nothing given"})
    assert r.status_code == 400 and r.json()["field"] == "file"


def test_list_search_and_paging(api) -> None:
    api.post("/api/v1/blacklist", json={"addresses": [f"n{i}@example.com" for i in range(5)] + ["other@example.org"]})
    page = api.get("/api/v1/blacklist", params={"search": "example.com", "limit": 2, "offset": 2}).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert api.get("/api/v1/blacklist", params={"search": "OTHER"}).json()["total"] == 1


def test_export_is_csv_of_every_entry(api) -> None:
    api.post("/api/v1/blacklist", json={"addresses": ["b@example.com", "a@example.com"], "note": 'x,"y"'})
    r = api.get("/api/v1/blacklist/export.csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["email"] for row in rows] == ["a@example.com", "b@example.com"]
    assert rows[0]["note"] == 'x,"y"'


def test_remove_keeps_the_history_and_a_second_remove_is_404(api) -> None:
    api.post("/api/v1/blacklist", json={"addresses": ["gone@example.com"]})
    r = api.delete("/api/v1/blacklist/gone@example.com", params={"note": "was a mistake"})
    assert r.status_code == 200 and r.json()["imported"] == 1
    shown = api.get("/api/v1/blacklist/gone@example.com").json()
    assert shown["entry"] is None
    assert [(h["action"], h["note"]) for h in shown["history"]][-1] == ("removed", "was a mistake")
    assert api.delete("/api/v1/blacklist/gone@example.com").status_code == 404
    assert api.get("/api/v1/blacklist/never@example.com").status_code == 404


def test_bulk_remove_reports_unknown_addresses(api) -> None:
    api.post("/api/v1/blacklist", json={"addresses": ["a@example.com", "b@example.com"]})
    r = api.post("/api/v1/blacklist/remove", json={"addresses": ["a@example.com", "c@example.com"]}).json()
    assert r["imported"] == 1 and r["rejected"][0]["reason"] == "not on the black list"
    assert api.get("/api/v1/blacklist").json()["total"] == 1


def test_from_campaign_blacklists_its_recipients_in_a_status(api, web_engine) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(b"email\nr1@example.com\nr2@example.com\n"))
    cid = campaigns.create_campaign(web_engine, name="spring", subject="Hi", from_addr="shop@example.com", text="x")
    campaigns.start_campaign(web_engine, cid)
    r = api.post("/api/v1/blacklist/from-campaign", json={"campaign": "spring", "statuses": ["queued"]})
    assert r.json() == {"added": 2}
    assert api.get("/api/v1/blacklist/r1@example.com").json()["entry"]["source"] == f"campaign:{cid}"
    r = api.post("/api/v1/blacklist/from-campaign", json={"campaign": "nope"})
    assert r.status_code == 404
