"""The tracking URLs through the app: a genuine open is recorded; every token gets the same pixel; a click
token that names no link gets the neutral page; no cookie is ever set."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sendwell import campaigns, contacts
from sendwell.db.schema import events, recipients
from sendwell.keys import app_secret
from sendwell.tracking import tokens

from .helpers import MAX_UPLOAD, settings_for


@pytest.fixture
def app(db_url, web_engine):
    """An installation reachable at a public URL: tracking is offered."""
    from sendwell.web import create_app

    return create_app(settings_for(db_url, public_url="https://mail.shop.example"), web_engine, max_upload=MAX_UPLOAD)


def test_pixel_and_click_urls(app, web_engine, db_url) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(b"email\nreader@example.com\n"))
    cid = campaigns.create_campaign(
        web_engine,
        name="news",
        subject="Hi",
        from_addr="shop@example.com",
        html='<p><a href="https://shop.example/sale">Sale</a></p>',
        track=["reads"],
    )
    campaigns.start_campaign(web_engine, cid)
    with web_engine.connect() as conn:
        rid = conn.execute(select(recipients.c.id)).scalar_one()
    secret = app_secret(web_engine, settings_for(db_url))
    with TestClient(app, follow_redirects=False) as client:
        genuine = client.get(
            f"/t/o/{tokens.open_token(secret, cid, rid)}",
            headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Firefox/125.0"},
        )
        forged = client.get("/t/o/AAAAAAAAAAAAAAAAAAAAAAAA")
        assert genuine.status_code == forged.status_code == 200
        assert genuine.content == forged.content and genuine.content.startswith(b"GIF89a")
        assert genuine.headers["content-type"] == "image/gif" and "no-store" in genuine.headers["cache-control"]
        assert "set-cookie" not in genuine.headers
        r = client.get("/t/c/AAAAAAAAAAAAAAAAAAAAAAAA")
        assert r.status_code == 404 and "This link is not available" in r.text
    with web_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events).where(events.c.type == "open")).scalar_one() == 1


def test_tracking_choice_in_the_form_and_its_statistics(ui, api, web_engine, db_url) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(b"email\nreader@example.com\n"))
    r = ui.post(
        "/campaigns/new",
        {
            "name": "tracked",
            "subject": "Hi",
            "from_addr": "shop@example.com",
            "html": '<a href="https://shop.example/">Shop</a>',
            "track": ["reads", "clicks"],
        },
        follow_redirects=False,
    )
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    assert campaigns.get_campaign(web_engine, cid).track == ["clicks", "reads"]
    ui.post(f"/campaigns/{cid}/send")
    with web_engine.connect() as conn:
        rid = conn.execute(select(recipients.c.id)).scalar_one()
    secret = app_secret(web_engine, settings_for(db_url))
    ui.client.get(f"/t/o/{tokens.open_token(secret, cid, rid)}", headers={"User-Agent": "Mozilla/5.0 Firefox/125.0"})
    data = api.get(f"/api/v1/campaigns/{cid}/tracking").json()
    assert data["track"] == ["clicks", "reads"] and data["opens"]["human"] + data["opens"]["machine"] == 1
    assert data["links"][0]["url"] == "https://shop.example/"
    page = ui.get(f"/campaigns/{cid}").text
    assert 'id="tracking"' in page and "https://shop.example/" in page
    assert 'id="tracking-off"' not in ui.get("/campaigns/new").text


def test_without_public_url_tracking_is_disabled_in_the_form_and_refused_by_the_api(db_url, web_engine) -> None:
    from sendwell.auth import create_token
    from sendwell.web import create_app

    plain = create_app(settings_for(db_url), web_engine, max_upload=MAX_UPLOAD)
    token = create_token(web_engine, "t")[1]
    with TestClient(plain, headers={"Authorization": f"Bearer {token}"}) as api:
        body = {"name": "t", "subject": "s", "from_addr": "a@shop.example", "text": "t", "track": ["reads"]}
        r = api.post("/api/v1/campaigns", json=body)
        assert r.status_code == 400 and r.json()["field"] == "track"
        assert "public_url" in r.json()["detail"]
        r = api.post("/api/v1/campaigns", json=body | {"track": []})
        assert r.status_code == 201
        r = api.patch("/api/v1/campaigns/t", json={"track": ["clicks"]})
        assert r.status_code == 400 and r.json()["field"] == "track"
    assert campaigns.get_campaign(web_engine, "t").track == []


def test_a_click_on_a_link_with_any_merged_text_redirects_percent_encoded(app, web_engine, db_url) -> None:
    """`https://shop.example/p/{{ company }}` with `café€` was a 500 (a Location header holds ASCII only)."""
    csv = (
        'email,company\nann@example.com,café€\nbob@example.com,R&D 100%\ncid@example.com,"two\nlines"\n'
        "dee@example.com,東京\n"
    )
    contacts.import_contacts(web_engine, io.BytesIO(csv.encode()))
    cid = campaigns.create_campaign(
        web_engine,
        name="news",
        subject="Hi",
        from_addr="shop@example.com",
        html='<p><a href="https://shop.example/p/{{ company }}?from=mail">Shop</a></p>',
        track=["clicks"],
    )
    campaigns.start_campaign(web_engine, cid)
    with web_engine.connect() as conn:
        ids = dict(conn.execute(select(recipients.c.email, recipients.c.id)).all())
    secret = app_secret(web_engine, settings_for(db_url))
    expected = {
        "ann@example.com": "https://shop.example/p/caf%C3%A9%E2%82%AC?from=mail",
        "bob@example.com": "https://shop.example/p/R&D%20100%25?from=mail",
        "cid@example.com": "https://shop.example/p/twolines?from=mail",  # as browsers drop tab and newline
        "dee@example.com": "https://shop.example/p/%E6%9D%B1%E4%BA%AC?from=mail",
    }
    with TestClient(app, follow_redirects=False) as client:
        for email, url in expected.items():
            r = client.get(
                f"/t/c/{tokens.click_token(secret, cid, ids[email], 0)}",
                headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Firefox/125.0"},
            )
            assert r.status_code == 302, (email, r.status_code, r.text[:200])
            assert r.headers["location"] == url
    with web_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events).where(events.c.type == "click")).scalar_one() == 4
