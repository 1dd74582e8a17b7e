"""The public subscription pages over HTTP: the hosted form, the snippet's post, the bot refusals, the
confirmation link; the confirmation message goes through a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from forms.helpers import confirm_link, settings_with
from sqlalchemy import select

from sendwell import blacklist, segments
from sendwell.db.schema import consents, segment_members
from sendwell.forms import store
from sendwell.web import create_app

from sending.smtpd import ScriptedServer

TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def smtp() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def _client(db_url, web_engine, smtp, **forms) -> TestClient:
    app = create_app(settings_with(db_url, smtp.url, **{"min_seconds": 0.0, **forms}), web_engine)
    return TestClient(app)


@pytest.fixture
def news(web_engine) -> store.Form:
    segments.create(web_engine, "news", public=True)
    fid = store.create(
        web_engine, "Monthly news", ["news"], fields=["first_name"], from_addr="Acme News <news@acme.example>"
    )
    return store.get(web_engine, fid)


def _fill(client: TestClient, slug: str, **data: str):
    page = client.get(f"/f/{slug}")
    assert page.status_code == 200
    token = TOKEN.search(page.text).group(1)
    return client.post(f"/f/{slug}", data={"token": token, "website": "", **data})


def test_hosted_form_then_confirmation_link(db_url, web_engine, smtp, news) -> None:
    with _client(db_url, web_engine, smtp) as client:
        page = client.get("/f/monthly-news")
        assert page.status_code == 200 and "set-cookie" not in page.headers
        assert "Acme News" in page.text and news.consent_text in page.text and 'name="website"' in page.text
        done = _fill(client, "monthly-news", email="ann@example.org", first_name="Ann")
        assert done.status_code == 200 and 'id="form-done"' in done.text, done.text
        [mail] = smtp.accepted
        link = confirm_link(mail.message.get_content())
        assert link.startswith("http://mail.test/f/confirm/")
        path = urlsplit(link).path
        ask = client.get(path)  # a mail scanner opening the link subscribes nobody
        assert ask.status_code == 200 and 'id="confirm-button"' in ask.text and "ann@example.org" in ask.text
        with web_engine.connect() as conn:
            assert conn.execute(select(segment_members.c.email)).first() is None
        ok = client.post(path)
        assert ok.status_code == 200 and 'id="confirmed"' in ok.text
        again = client.post(path)
        assert again.status_code == 410
        assert client.get("/f/confirm/1.2.nonsense").status_code == 404
    with web_engine.connect() as conn:
        assert conn.execute(select(segment_members.c.email)).scalars().all() == ["ann@example.org"]
        consent = conn.execute(select(consents)).one()
    assert consent.form_name == "Monthly news" and consent.confirmed_addr == "testclient"


def test_snippet_post_is_shown_again_with_a_token(db_url, web_engine, smtp, news) -> None:
    with _client(db_url, web_engine, smtp) as client:
        r = client.post("/f/monthly-news", data={"email": "bea@example.org", "first_name": "Bea", "website": ""})
        assert r.status_code == 200 and 'id="form-message"' in r.text
        assert 'value="bea@example.org"' in r.text and 'value="Bea"' in r.text and TOKEN.search(r.text)
        assert smtp.accepted == []
        token = TOKEN.search(r.text).group(1)
        r = client.post("/f/monthly-news", data={"email": "bea@example.org", "token": token, "website": ""})
        assert r.status_code == 200 and 'id="form-done"' in r.text
    assert [m.rcpt for m in smtp.accepted] == ["bea@example.org"]


def test_refusals_on_the_hosted_form(db_url, web_engine, smtp, news) -> None:
    blacklist.add(web_engine, ["bounced@example.org"], reason="hard_bounce")
    with _client(db_url, web_engine, smtp, rate_limit=1) as client:
        bot = _fill(client, "monthly-news", email="bot@example.org", website="http://spam.example")
        assert bot.status_code == 400
        typo = _fill(client, "monthly-news", email="cy@gmal.com")
        assert typo.status_code == 422 and "Did you mean cy@gmail.com?" in typo.text
        refused = _fill(client, "monthly-news", email="bounced@example.org")
        assert refused.status_code == 403 and "black" not in refused.text.lower()
        token = TOKEN.search(typo.text).group(1)
        used = client.post(
            "/f/monthly-news", data={"email": "cy@gmal.com", "suggested": "cy@gmail.com", "token": token}
        )
        assert used.status_code == 200 and 'id="form-done"' in used.text
        limited = _fill(client, "monthly-news", email="dee@example.org")
        assert limited.status_code == 429
        assert client.get("/f/nothing-here").status_code == 404
    assert [m.rcpt for m in smtp.accepted] == ["cy@gmail.com"]


def test_too_fast_is_shown_again(db_url, web_engine, smtp, news) -> None:
    with _client(db_url, web_engine, smtp, min_seconds=60.0) as client:
        r = _fill(client, "monthly-news", email="quick@example.org")
        assert r.status_code == 200 and 'id="form-message"' in r.text and 'value="quick@example.org"' in r.text
    assert smtp.accepted == []
