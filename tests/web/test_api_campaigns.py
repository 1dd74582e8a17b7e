"""/api/v1/campaigns: create with segments to include and exclude, show, list, edit while draft, delete."""

from __future__ import annotations

from sendwell import campaigns

BODY = {"name": "spring", "subject": "Hello {{ first_name }}", "from_addr": "Shop <news@shop.example>", "text": "Hi!"}


def test_create_show_by_id_and_name_and_list(api) -> None:
    api.post("/api/v1/segments", json={"name": "buyers"})
    api.post("/api/v1/segments", json={"name": "bounced"})
    r = api.post("/api/v1/campaigns", json={**BODY, "include": ["buyers"], "exclude": ["bounced"]})
    assert r.status_code == 201
    cid = r.json()["id"]
    by_id, by_name = api.get(f"/api/v1/campaigns/{cid}").json(), api.get("/api/v1/campaigns/spring").json()
    assert by_id == by_name
    assert by_id["include"] == ["buyers"] and by_id["exclude"] == ["bounced"] and by_id["state"] == "draft"
    assert [c["name"] for c in api.get("/api/v1/campaigns").json()] == ["spring"]


def test_audience_preview_counts_exclusions_and_the_black_list(api) -> None:
    api.post("/api/v1/segments", json={"name": "all"})
    api.post("/api/v1/segments/all/members", json={"addresses": ["a@example.com", "b@example.com", "c@example.com"]})
    api.post("/api/v1/segments", json={"name": "skip"})
    api.post("/api/v1/segments/skip/members", json={"addresses": ["b@example.com", "z@example.com"]})
    api.post("/api/v1/blacklist", json={"addresses": ["b@example.com", "c@example.com"]})
    api.post("/api/v1/campaigns", json={**BODY, "include": ["all"], "exclude": ["skip"]})
    assert api.get("/api/v1/campaigns/spring/audience").json() == {
        "candidates": 3,
        "excluded": 1,
        "blacklisted": 1,
        "to_send": 1,
    }


def test_errors_name_the_field_at_fault(api) -> None:
    cases = [
        ({"from_addr": "nobody"}, "from_addr"),
        ({"exclude": ["ghost"]}, "exclude"),
        ({"include": ["ghost"]}, "include"),
        ({"subject": "{{ broken"}, "subject"),
        ({"text": None}, "html"),
        ({"track": ["everything"]}, "track"),
        ({"skip_verdicts": ["valid"]}, "skip_verdicts"),
    ]
    for change, field in cases:
        r = api.post("/api/v1/campaigns", json={**BODY, **change})
        assert r.status_code == 400, change
        assert r.json()["field"] == field, r.json()
    api.post("/api/v1/segments", json={"name": "s"})
    r = api.post("/api/v1/campaigns", json={**BODY, "include": ["s"], "exclude": ["s"]})
    assert r.status_code == 400 and r.json()["field"] == "exclude"
    api.post("/api/v1/campaigns", json=BODY)
    r = api.post("/api/v1/campaigns", json=BODY)
    assert r.status_code == 400 and r.json() == {
        "detail": "campaign 'spring' already exists",
        "field": "name",
        "pointer": "/name",
    }
    r = api.post("/api/v1/campaigns", json={"name": "x"})
    assert r.status_code == 422 and r.json()["field"] in ("subject", "from_addr")


def test_edit_while_draft_then_refused_once_started(api, web_engine) -> None:
    api.post("/api/v1/segments", json={"name": "blocked"})
    cid = api.post("/api/v1/campaigns", json=BODY).json()["id"]
    r = api.patch(f"/api/v1/campaigns/{cid}", json={"subject": "New subject", "exclude": ["blocked"]})
    assert r.status_code == 200
    assert r.json()["subject"] == "New subject" and r.json()["exclude"] == ["blocked"]
    assert r.json()["text"] == "Hi!"  # untouched fields stay
    r = api.patch(f"/api/v1/campaigns/{cid}", json={"exclude": []})
    assert r.json()["exclude"] == []
    campaigns.start_campaign(web_engine, cid)
    r = api.patch(f"/api/v1/campaigns/{cid}", json={"subject": "Too late"})
    assert r.status_code == 400 and "only a draft can be edited" in r.json()["detail"]


def test_delete_and_404(api) -> None:
    cid = api.post("/api/v1/campaigns", json=BODY).json()["id"]
    assert api.delete(f"/api/v1/campaigns/{cid}").json() == {"deleted": 1}
    for method in ("get", "delete"):
        r = getattr(api, method)(f"/api/v1/campaigns/{cid}")
        assert r.status_code == 404 and "does not exist" in r.json()["detail"]
    assert api.patch("/api/v1/campaigns/nope", json={"subject": "x"}).status_code == 404


def test_schedule_then_unschedule_and_a_past_time_is_refused(api) -> None:
    api.post("/api/v1/campaigns", json=BODY)
    r = api.post("/api/v1/campaigns/spring/schedule", json={"at": "2099-12-24 09:00", "timezone": "Asia/Ho_Chi_Minh"})
    assert r.status_code == 200, r.text
    assert r.json()["scheduled_at"].startswith("2099-12-24T02:00:00")
    assert r.json()["local"] == "2099-12-24 09:00 Asia/Ho_Chi_Minh" and r.json()["state"] == "scheduled"
    assert api.get("/api/v1/campaigns/spring").json()["state"] == "scheduled"
    r = api.post("/api/v1/campaigns/spring/schedule", json={"at": "2020-01-01 09:00"})
    assert r.status_code == 400 and r.json()["field"] == "at" and "is in the past" in r.json()["detail"]
    r = api.post("/api/v1/campaigns/spring/schedule", json={"at": "2099-01-01 09:00", "timezone": "Nowhere"})
    assert r.status_code == 400 and r.json()["field"] == "timezone"
    r = api.delete("/api/v1/campaigns/spring/schedule")
    assert r.status_code == 200 and r.json()["state"] == "draft"
    assert api.delete("/api/v1/campaigns/spring/schedule").status_code == 400
    assert "/api/v1/campaigns/{campaign}/schedule" in api.get("/openapi.json").json()["paths"]
