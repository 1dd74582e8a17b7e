"""/api/v1/forms and /api/v1/consents with a real token over a real database; segments' public flag."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sendwell import segments
from sendwell.db.engine import utcnow
from sendwell.forms import store
from sendwell.forms.subscribe import Outcome, Submission, page_token, submit

from .helpers import settings_for


def test_forms_api(api, web_engine, db_url) -> None:
    assert api.post("/api/v1/segments", json={"name": "news", "public": True}).status_code == 201
    assert api.get("/api/v1/segments").json()[0]["public"] is True
    assert api.put("/api/v1/segments/news/public", json={"public": False}).json() == {"public": False}
    assert api.get("/api/v1/segments").json()[0]["public"] is False

    bad = api.post("/api/v1/forms", json={"name": "Monthly", "segments": ["news"]})
    assert bad.status_code == 400 and bad.json()["field"] == "from_addr"
    missing = api.post("/api/v1/forms", json={"name": "Monthly", "segments": ["nope"], "from_addr": "a@acme.example"})
    assert missing.status_code == 404
    r = api.post(
        "/api/v1/forms",
        json={"name": "Monthly", "segments": ["news"], "fields": ["first_name"], "double_opt_in": False},
    )
    assert r.status_code == 201, r.text
    form = r.json()
    assert form["slug"] == "monthly" and form["url"].endswith("/f/monthly") and 'name="first_name"' in form["snippet"]
    r = api.patch("/api/v1/forms/Monthly", json={"consent_text": "Yes, mail me.", "fields": ["first_name", "city"]})
    assert r.status_code == 200 and r.json()["fields"] == ["first_name", "city"]
    assert api.patch("/api/v1/forms/Monthly", json={"confirm_body": "no link"}).json()["field"] == "confirm_body"
    assert [f["name"] for f in api.get("/api/v1/forms").json()] == ["Monthly"]

    # a single opt-in subscription, then its consent through both routes
    base = settings_for(db_url)
    settings = replace(base, forms=replace(base.forms, check_dns=False))
    assert api.get(f"/api/v1/forms/{form['id']}").json()["consent_text"] == "Yes, mail me."
    stored = store.get(web_engine, form["id"])
    token = page_token("s", stored, utcnow() - timedelta(seconds=10))
    sub = Submission("ann@example.org", {"first_name": "Ann"}, page_token=token, client_addr="198.51.100.1")
    assert submit(web_engine, settings, "s", stored, sub).outcome is Outcome.CONFIRMED
    [consent] = api.get("/api/v1/consents", params={"email": "ANN@example.org"}).json()
    assert consent["consent_text"] == "Yes, mail me." and consent["segments"] == ["news"]
    assert consent["submitted_addr"] == "198.51.100.1" and consent["method"] == "single"
    assert api.get("/api/v1/forms/Monthly/consents").json()[0]["id"] == consent["id"]
    assert api.get("/api/v1/consents", params={"email": "not-an-address"}).status_code == 400
    assert segments.show(web_engine, "news").members == 1

    assert api.delete("/api/v1/forms/Monthly").json() == {"deleted": 1}
    assert api.get("/api/v1/forms/Monthly").status_code == 404
    assert api.get("/api/v1/consents", params={"email": "ann@example.org"}).json()[0]["form_name"] == "Monthly"
