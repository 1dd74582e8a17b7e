"""Preview, merge-field check and test send through the API and the draft page (TestClient over SQLite and
PostgreSQL, a real aiosmtpd relay)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sendwell import campaigns
from sendwell.auth import create_token, create_user
from sendwell.db.schema import daily_usage, recipients
from sendwell.demo.server import Behaviour, SimulatedServer
from sendwell.web import create_app
from sendwell.web.headers import POLICY

from .helpers import MAX_UPLOAD, PASSWORD, UI, sending_settings

HTML = '<p>Hi {{ first_name | default("there") }}</p><script>alert(1)</script><img src="https://img.example/x.png">'


@pytest.fixture
def relay() -> Iterator[SimulatedServer]:
    with SimulatedServer(Behaviour(unknown={"nobody@example.com"})) as server:
        yield server


@pytest.fixture
def relay_app(db_url, web_engine, relay):
    return create_app(sending_settings(db_url, relay.url), web_engine, max_upload=MAX_UPLOAD)


@pytest.fixture
def client(relay_app, web_engine) -> Iterator[TestClient]:
    token = create_token(web_engine, "preview")[1]
    with TestClient(relay_app, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@pytest.fixture
def page(relay_app, web_engine) -> Iterator[UI]:
    create_user(web_engine, "admin", PASSWORD)
    with TestClient(relay_app) as c:
        ui = UI(c)
        ui.login()
        yield ui


def _draft(engine) -> int:
    import io

    from sendwell import contacts

    contacts.import_contacts(engine, io.BytesIO(b"email,first_name\nann@example.com,Ann\ncy@example.com,\n"))
    return campaigns.create_campaign(
        engine,
        name="news",
        subject="Hi {{ first_name }}",
        from_addr="shop@example.com",
        html=HTML,
        text="Hello {{ first_name }}",
    )


def test_api_preview_fields_test_send_and_history(client, web_engine, relay) -> None:
    cid = _draft(web_engine)
    r = client.get("/api/v1/campaigns/news/preview", params={"contact": "cy@example.com"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["recipient"] == "cy@example.com" and body["subject"] == "Hi" and body["text"] == "Hello \n"
    assert body["html"].startswith("<p>Hi there</p>") and body["eml"].startswith("To: cy@example.com\r\n")
    assert body["fields"]["fields"] == [
        {"name": "first_name", "cover": "none", "missing": 1, "blank": 0, "unfilled": 1}
    ]
    assert client.get(f"/api/v1/campaigns/{cid}/fields").json()["recipients"] == 2
    assert client.get("/api/v1/campaigns/news/preview", params={"contact": "x@example.com"}).status_code == 400

    r = client.post("/api/v1/campaigns/news/test", json={"to": ["me@example.com"], "contact": "ann@example.com"})
    assert r.status_code == 200, r.text
    assert r.json()["delivered"] == 1 and r.json()["subject"] == "[TEST] Hi Ann"
    assert relay.handler.delivered == {"me@example.com": 1}
    r = client.post("/api/v1/campaigns/news/test", json={"to": ["nobody@example.com"]})
    assert r.status_code == 502 and "nobody@example.com (at rcpt: 550 5.1.1" in r.json()["detail"]
    assert "\n" not in r.json()["detail"]
    assert client.post("/api/v1/campaigns/news/test", json={"to": []}).status_code == 422
    history = client.get("/api/v1/campaigns/news/history").json()
    assert [h["action"] for h in history] == ["test_send", "test_send"] and history[0]["actor"] == "api"
    with web_engine.connect() as conn:  # nothing counted
        assert conn.execute(select(func.count()).select_from(recipients)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(daily_usage)).scalar() == 0
    spec = client.get("/openapi.json").json()["paths"]
    for path in ("preview", "fields", "test", "history"):
        assert f"/api/v1/campaigns/{{campaign}}/{path}" in spec


def test_draft_page_frames_the_html_sandboxed_under_its_own_policy(page, web_engine) -> None:
    cid = _draft(web_engine)
    r = page.get(f"/campaigns/{cid}")
    assert r.status_code == 200 and r.headers["content-security-policy"] == POLICY  # the app's CSP, unchanged
    frame = re.search(r'<iframe id="preview-frame"[^>]*>', r.text).group(0)
    assert 'sandbox=""' in frame and f'src="/campaigns/{cid}/preview.html?contact=ann%40example.com"' in frame
    assert 'id="unfilled-first_name">1<' in r.text  # cy has no first name
    assert "Hello Ann" not in r.text  # the text part is a tab of its own
    framed = page.get(f"/campaigns/{cid}/preview.html", params={"contact": "ann@example.com"})
    csp = framed.headers["content-security-policy"]
    assert "sandbox" in csp and "frame-ancestors 'self'" in csp and "script-src" not in csp
    assert "default-src 'none'" in csp and framed.headers["x-frame-options"] == "SAMEORIGIN"
    assert framed.text.startswith("<p>Hi Ann</p><script>")  # as sent; the policy and sandbox keep it from running
    text = page.get(f"/campaigns/{cid}", params={"view": "text", "contact": "cy@example.com"})
    assert '<pre id="preview-text">Hello \n</pre>' in text.text
    # "preview as" takes part of an address: one match is shown
    found = page.get(f"/campaigns/{cid}", params={"contact": "cy@"})
    assert 'id="preview-to">cy@example.com' in found.text


def test_draft_page_test_send_form(page, web_engine, relay) -> None:
    cid = _draft(web_engine)
    page.get(f"/campaigns/{cid}")
    r = page.client.post(f"/campaigns/{cid}/test", data={"to": "me@example.com"}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    r = page.post(
        f"/campaigns/{cid}/test",
        {"to": "me@example.com, you@example.com", "contact": "ann@example.com"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "test_notice" not in r.headers["location"]  # the outcome travels in the session
    assert relay.handler.delivered == {"me@example.com": 1, "you@example.com": 1}
    shown = page.get(r.headers["location"])
    assert "Test message sent to 2 of 2 addresses" in shown.text and 'id="campaign-history"' in shown.text
    r = page.post(f"/campaigns/{cid}/test", {"to": "not an address"}, follow_redirects=False)
    assert r.status_code == 303 and "&#39;not an address&#39;: white space" in page.get(r.headers["location"]).text
    r = page.post(f"/campaigns/{cid}/test", {"to": "nobody@example.com"}, follow_redirects=False)
    after = page.get(r.headers["location"])
    assert (
        after.status_code == 200
        and "550 5.1.1" in after.text
        and 'class="error" role="alert" id="notice"' in after.text
    )
    assert campaigns.get_campaign(web_engine, cid).recipients == 0
