"""The public unsubscribe link: a page, then RFC 8058 one-click POST without any cookie; idempotent; forged
tokens are refused."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sendwell import blacklist, campaigns, contacts, segments
from sendwell.db.schema import events, recipients
from sendwell.db.schema import segments as segments_t
from sendwell.keys import app_secret
from sendwell.sending import verp

from .helpers import settings_for


def _token(engine, db_url: str) -> str:
    contacts.import_contacts(engine, io.BytesIO(b"email\nreader@example.com\n"))
    cid = campaigns.create_campaign(engine, name="news", subject="Hi", from_addr="shop@example.com", text="t")
    campaigns.start_campaign(engine, cid)
    with engine.connect() as conn:
        rid = conn.execute(select(recipients.c.id)).scalar_one()
    return verp.unsubscribe_token(app_secret(engine, settings_for(db_url)), cid, rid)


def test_one_click_unsubscribe_blacklists_once(app, web_engine, db_url) -> None:
    token = _token(web_engine, db_url)
    with TestClient(app) as client:
        page = client.get(f"/unsubscribe/{token}")
        assert page.status_code == 200 and "Stop receiving these emails?" in page.text
        assert "set-cookie" not in page.headers
        for _ in range(2):  # a mail client's one-click POST, then a second click
            r = client.post(
                f"/unsubscribe/{token}",
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert r.status_code == 200 and 'id="unsubscribed"' in r.text
    entry = blacklist.show(web_engine, "reader@example.com")
    assert entry.entry.reason == "unsubscribe"
    with web_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 1


def test_forged_or_stale_tokens_are_refused(app, web_engine, db_url) -> None:
    token = _token(web_engine, db_url)
    cid, rid, sig = token.split(".")
    with TestClient(app) as client:
        for bad in (f"{cid}.{int(rid) + 1}.{sig}", "1.1.0000000000000000", "nonsense"):
            assert client.get(f"/unsubscribe/{bad}").status_code == 404
            assert client.post(f"/unsubscribe/{bad}").status_code == 404
        from sendwell.sending import control

        control.cancel(web_engine, int(cid))
        campaigns.delete_campaign(web_engine, int(cid))
        r = client.post(f"/unsubscribe/{token}")
        assert r.status_code == 404 and "no longer works" in r.text
    assert blacklist.count(web_engine) == 0


def test_other_spellings_of_a_token_are_refused_and_add_no_event(app, web_engine, db_url) -> None:
    """The decoder forgives case and leading zeros (for VERP addresses mangled by mail systems); the web link
    takes only the form we sent, so re-spelling one genuine token cannot add event rows."""
    token = _token(web_engine, db_url)
    cid, rid, sig = token.split(".")
    spellings = [
        token.upper(),
        f"{cid}.{rid}.{sig.upper()}",
        f"0{cid}.{rid}.{sig}",
        f"{cid}.00{rid}.{sig}",
        f"%20{token}",
        f"{token}%20",
        f"{token}%0A",
    ]
    assert all(
        verp.decode_unsubscribe(app.state.web.secret, s.replace("%20", " ").replace("%0A", "\n")) for s in spellings
    )  # each one names the same recipient: the attack is real
    with TestClient(app) as client:
        for other in spellings:
            assert client.get(f"/unsubscribe/{other}").status_code == 404, other
            r = client.post(
                f"/unsubscribe/{other}",
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert r.status_code == 404 and "no longer works" in r.text, other
        with web_engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0
        assert blacklist.count(web_engine) == 0
        assert client.post(f"/unsubscribe/{token}").status_code == 200  # the one we sent still works
    with web_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 1


def test_preference_page_leaves_one_public_segment(app, web_engine, db_url) -> None:
    """The link's page lists the public segments the person is in; leaving one keeps the others and blacklists
    nothing; "unsubscribe from everything" (and a mail client's one-click POST) still blacklists."""
    contacts.import_contacts(web_engine, io.BytesIO(b"email\nreader@example.com\nother@example.com\n"))
    for name, public in (("news", True), ("offers", True), ("staff", False), ("events", True)):
        segments.create(web_engine, name, description=f"the {name}", public=public)
    for name in ("news", "offers", "staff"):
        segments.add(web_engine, name, ["reader@example.com", "other@example.com"])
    cid = campaigns.create_campaign(
        web_engine, name="news", subject="Hi", from_addr="Acme News <shop@example.com>", text="t", include=["news"]
    )
    campaigns.start_campaign(web_engine, cid)
    with web_engine.connect() as conn:
        rid = conn.execute(select(recipients.c.id).where(recipients.c.email == "reader@example.com")).scalar_one()
        news_id, offers_id = (
            conn.execute(select(segments_t.c.id).where(segments_t.c.name == n)).scalar_one() for n in ("news", "offers")
        )
    token = verp.unsubscribe_token(app_secret(web_engine, settings_for(db_url)), cid, rid)
    with TestClient(app) as client:
        page = client.get(f"/unsubscribe/{token}")
        assert page.status_code == 200 and "Acme News" in page.text
        assert "the news" in page.text and "the offers" in page.text
        assert "staff" not in page.text and "events" not in page.text  # private, or not a member
        r = client.post(f"/unsubscribe/{token}/lists", data={"keep": str(news_id)})
        assert r.status_code == 200 and 'id="lists-left"' in r.text and "offers" in r.text
        assert client.post("/unsubscribe/1.1.0000000000000000/lists", data={"keep": "1"}).status_code == 404
    members = {name: [m.email for m in segments.show(web_engine, name).shown] for name in ("news", "offers")}
    assert members == {"news": ["other@example.com", "reader@example.com"], "offers": ["other@example.com"]}
    assert blacklist.count(web_engine) == 0
    assert offers_id != news_id
    with TestClient(app) as client:
        r = client.post(
            f"/unsubscribe/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200 and 'id="unsubscribed"' in r.text
    assert blacklist.show(web_engine, "reader@example.com").entry.reason == "unsubscribe"
