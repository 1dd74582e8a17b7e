"""/api/v1/segments: create, import, add and remove members, show with paging, export, delete, from a campaign."""

from __future__ import annotations

import csv
import io

from sendwell import campaigns, contacts


def test_create_and_refuse_a_duplicate_naming_the_field(api) -> None:
    r = api.post("/api/v1/segments", json={"name": "vip", "description": "best"})
    assert r.status_code == 201 and r.json()["name"] == "vip"
    r = api.post("/api/v1/segments", json={"name": "vip"})
    assert r.status_code == 400 and r.json() == {
        "detail": "segment 'vip' already exists",
        "field": "name",
        "pointer": "/name",
    }
    r = api.post("/api/v1/segments", json={"name": "   "})
    assert r.status_code == 400 and r.json()["field"] == "name"


def test_members_import_add_remove_show_and_export(api) -> None:
    sid = api.post("/api/v1/segments", json={"name": "list one"}).json()["id"]
    r = api.post(f"/api/v1/segments/{sid}/import", files={"file": ("l.txt", b"a@example.com\nb@example.com\nbad\n")})
    assert r.json()["imported"] == 2 and r.json()["rejected"][0]["line"] == 3
    r = api.post("/api/v1/segments/list one/members", json={"addresses": ["c@example.com", "a@example.com"]})
    assert r.json()["imported"] == 1 and r.json()["merged"] == 1
    shown = api.get(f"/api/v1/segments/{sid}", params={"limit": 2, "offset": 1}).json()
    assert shown["members"] == 3 and [m["email"] for m in shown["shown"]] == ["b@example.com", "c@example.com"]
    r = api.post(f"/api/v1/segments/{sid}/members/remove", json={"addresses": ["b@example.com"]})
    assert r.json()["imported"] == 1
    rows = list(csv.DictReader(io.StringIO(api.get(f"/api/v1/segments/{sid}/export.csv").text)))
    assert [row["email"] for row in rows] == ["a@example.com", "c@example.com"]
    listed = api.get("/api/v1/segments").json()
    assert listed[0]["name"] == "list one" and listed[0]["members"] == 2


def test_unknown_segment_is_404_everywhere(api) -> None:
    for method, path, kw in (
        ("get", "/api/v1/segments/nope", {}),
        ("get", "/api/v1/segments/99/export.csv", {}),
        ("delete", "/api/v1/segments/nope", {}),
        ("post", "/api/v1/segments/nope/members", {"json": {"addresses": ["a@example.com"]}}),
    ):
        r = getattr(api, method)(path, **kw)
        assert r.status_code == 404, path
        assert "does not exist" in r.json()["detail"]


def test_delete_refuses_a_segment_a_campaign_uses(api) -> None:
    api.post("/api/v1/segments", json={"name": "keep"})
    api.post("/api/v1/segments", json={"name": "free"})
    api.post(
        "/api/v1/campaigns",
        json={"name": "c", "subject": "s", "from_addr": "a@example.com", "text": "t", "exclude": ["keep"]},
    )
    r = api.delete("/api/v1/segments/keep")
    assert r.status_code == 400 and "used by campaign" in r.json()["detail"]
    assert api.delete("/api/v1/segments/free").json() == {"deleted": 1}
    assert [s["name"] for s in api.get("/api/v1/segments").json()] == ["keep"]


def test_create_from_a_campaigns_status(api, web_engine) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(b"email\nr1@example.com\nr2@example.com\n"))
    cid = campaigns.create_campaign(web_engine, name="spring", subject="Hi", from_addr="shop@example.com", text="x")
    campaigns.start_campaign(web_engine, cid)
    r = api.post(
        "/api/v1/segments/from-campaign", json={"name": "spring queued", "campaign": str(cid), "statuses": ["queued"]}
    )
    assert r.status_code == 201 and r.json()["members"] == 2
    assert api.get("/api/v1/segments/spring queued").json()["members"] == 2
    r = api.post("/api/v1/segments/from-campaign", json={"name": "x", "campaign": "spring", "statuses": ["lost"]})
    assert r.status_code == 400 and r.json()["field"] == "statuses" and "'lost' is not a status" in r.json()["detail"]
    assert api.get("/api/v1/segments/x").status_code == 404  # refused before the segment was created
