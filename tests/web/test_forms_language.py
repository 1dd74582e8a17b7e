"""The subscription confirmation email and the consent sentence speak the subscriber's language (the language the
public form page was shown in: Accept-Language, else `[web] language`) while the form keeps sendwell's default
text; an operator's own text is sent as written. The mail goes through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from forms.helpers import confirm_link, settings_with
from sqlalchemy import select

from sendwell import segments
from sendwell.db.schema import consents
from sendwell.forms import store
from sendwell.web import create_app

from sending.smtpd import ScriptedServer

TOKEN = re.compile(r'name="token" value="([^"]+)"')
CONSENT = re.compile(r'<p class="consent" id="consent">([^<]*)</p>')


@pytest.fixture
def smtp() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def news(web_engine) -> store.Form:
    segments.create(web_engine, "news", public=True)
    fid = store.create(
        web_engine, "Monthly news", ["news"], fields=["first_name"], from_addr="Acme News <news@acme.example>"
    )
    return store.get(web_engine, fid)


def _client(db_url, web_engine, smtp, language: str = "en") -> TestClient:
    settings = settings_with(db_url, smtp.url, min_seconds=0.0)
    settings = replace(settings, web=replace(settings.web, language=language))
    return TestClient(create_app(settings, web_engine))


def _subscribe(client: TestClient, accept_language: str | None, **data: str) -> str:
    """Fill the hosted form as a browser asking for `accept_language`; returns the consent sentence it showed."""
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = client.get("/f/monthly-news", headers=headers)
    assert page.status_code == 200
    done = client.post(
        "/f/monthly-news", data={"token": TOKEN.search(page.text).group(1), "website": "", **data}, headers=headers
    )
    assert done.status_code == 200 and 'id="form-done"' in done.text, done.text
    return CONSENT.search(page.text).group(1)


def test_confirmation_in_vietnamese_for_a_vietnamese_browser(db_url, web_engine, smtp, news) -> None:
    with _client(db_url, web_engine, smtp) as client:
        shown = _subscribe(client, "vi-VN,vi;q=0.9,en;q=0.5", email="an@example.org", first_name="An")
        [mail] = smtp.accepted
        msg = mail.message
        assert msg["Subject"] == "Vui lòng xác nhận đăng ký nhận email từ Acme News"
        body = msg.get_content().replace("\r\n", "\n")
        assert body.startswith("Xin chào An,\n") and "từ Acme News tại địa chỉ an@example.org" in body, body
        assert "Liên kết có hiệu lực trong 7 ngày." in body
        assert "please confirm" not in body
        assert shown.startswith("Có, hãy gửi cho tôi email từ Acme News.")
        assert client.post(urlsplit(confirm_link(body)).path).status_code == 200
    with web_engine.connect() as conn:
        consent = conn.execute(select(consents)).one()
    assert consent.consent_text == shown  # the record keeps the words the person agreed to, in their language


def test_confirmation_in_english_otherwise(db_url, web_engine, smtp, news) -> None:
    with _client(db_url, web_engine, smtp) as client:
        shown = _subscribe(client, "de-DE,fr;q=0.8", email="bea@example.org", first_name="Bea")
    [mail] = smtp.accepted
    assert mail.message["Subject"] == "Please confirm your subscription to Acme News"
    assert mail.message.get_content().replace("\r\n", "\n").startswith("Hello Bea,\n\nplease confirm")
    assert shown == news.consent_text


def test_installation_language_when_the_browser_names_none_of_ours(db_url, web_engine, smtp, news) -> None:
    with _client(db_url, web_engine, smtp, language="vi") as client:
        _subscribe(client, None, email="chi@example.org")
    [mail] = smtp.accepted
    assert mail.message["Subject"].startswith("Vui lòng xác nhận")
    assert mail.message.get_content().replace("\r\n", "\n").startswith("Xin chào,\n")


def test_operators_own_text_is_sent_as_written(db_url, web_engine, smtp, news) -> None:
    store.edit(
        web_engine,
        news.id,
        confirm_subject="Xác nhận bản tin của {{ sender }} (Acme)",
        consent_text="Tôi đồng ý nhận bản tin.",
    )
    with _client(db_url, web_engine, smtp) as client:
        shown = _subscribe(client, "en", email="dan@example.org", first_name="Dan")
    [mail] = smtp.accepted
    assert mail.message["Subject"] == "Xác nhận bản tin của Acme News (Acme)"  # edited: not translated back
    assert (
        mail.message.get_content().replace("\r\n", "\n").startswith("Hello Dan,")
    )  # the body is still the default: English asked
    assert shown == "Tôi đồng ý nhận bản tin."


def test_public_form_answers_in_the_page_language(db_url, web_engine, smtp, news) -> None:
    vi = {"Accept-Language": "vi"}
    with _client(db_url, web_engine, smtp) as client:
        page = client.get("/f/monthly-news", headers=vi)
        assert ">Tên</label>" in page.text  # the first_name field's label
        token = TOKEN.search(page.text).group(1)
        typo = client.post("/f/monthly-news", data={"token": token, "email": "em@gmial.com"}, headers=vi)
        assert typo.status_code == 422 and "Có phải ý bạn là em@gmail.com?" in typo.text, typo.text
        done = client.post("/f/monthly-news", data={"token": token, "email": "em@example.org"}, headers=vi)
        assert "Sắp xong rồi: chúng tôi đã gửi cho bạn một email." in done.text
        path = urlsplit(confirm_link(smtp.accepted[0].message.get_content())).path
        ok = client.post(path, headers=vi)
        assert "Cảm ơn bạn: đăng ký của bạn đã được xác nhận." in ok.text
        assert "Không có biểu mẫu đăng ký nào tại địa chỉ này." in client.get("/f/nothing-here", headers=vi).text
        english = client.post("/f/monthly-news", data={"token": token, "email": "em@gmial.com"})
        assert "Did you mean em@gmail.com?" in english.text
