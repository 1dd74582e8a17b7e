"""/api/v1/templates and a campaign's template through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

LAYOUT = '<table><tr><td><b>Brand</b>{{ content }}<a href="{{ unsubscribe_url }}">Unsubscribe</a></td></tr></table>'


def test_create_show_edit_preview_and_delete(api) -> None:
    listed = api.get("/api/v1/templates").json()
    assert [(t["name"], t["built_in"], t["id"]) for t in listed] == [("newsletter", True, None), ("simple", True, None)]
    r = api.post("/api/v1/templates", json={"name": "brand", "html": LAYOUT})
    assert r.status_code == 201 and r.json()["name"] == "brand" and r.json()["text"] is None
    tid = r.json()["id"]
    shown = api.get(f"/api/v1/templates/{tid}/preview").json()
    assert "<b>Brand</b><h1>The campaign's body goes here</h1>" in shown["html"].replace("\n", "")
    assert "Brand" in shown["text"] and "[Unsubscribe](https://example.com/unsubscribe)" in shown["text"]
    r = api.patch("/api/v1/templates/brand", json={"text": "BRAND\n{{ content }}"})
    assert r.json()["text"] == "BRAND\n{{ content }}"
    r = api.patch("/api/v1/templates/brand", json={"text": ""})
    assert r.json()["text"] is None
    assert api.delete("/api/v1/templates/brand").json() == {"deleted": 1}
    assert api.get("/api/v1/templates/brand").status_code == 404


def test_a_draft_template_is_rendered_unsaved_and_errors_name_the_field(api) -> None:
    r = api.post("/api/v1/templates/preview", json={"html": "<p>Hi {{ first_name }}</p>{{ content }}"})
    assert r.status_code == 200 and r.json()["html"].startswith("<p>Hi Ada</p><h1>")
    r = api.post("/api/v1/templates", json={"name": "x", "html": "<p>no slot</p>"})
    assert r.status_code == 400 and r.json()["field"] == "html" and "{{ content }}" in r.json()["detail"]


def test_a_campaign_uses_a_template_and_the_template_cannot_be_deleted(api) -> None:
    api.post("/api/v1/templates", json={"name": "brand", "html": LAYOUT})
    r = api.post(
        "/api/v1/campaigns",
        json={
            "name": "c",
            "subject": "s",
            "from_addr": "a@example.com",
            "html": "# Hello",
            "body_format": "markdown",
            "template": "brand",
        },
    )
    assert r.status_code == 201
    camp = api.get("/api/v1/campaigns/c").json()
    assert camp["template"] == "brand" and camp["body_format"] == "markdown"
    r = api.delete("/api/v1/templates/brand")
    assert r.status_code == 400 and "used by 1 campaign(s): 'c'" in r.json()["detail"]
    r = api.patch("/api/v1/campaigns/c", json={"template": "nope"})
    assert r.status_code == 404 and r.json()["field"] == "template"
    assert api.patch("/api/v1/campaigns/c", json={"template": ""}).json()["template"] is None
    assert api.delete("/api/v1/templates/brand").status_code == 200
