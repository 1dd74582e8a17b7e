"""The language of a page: the user's choice, else the browser's Accept-Language, else `[web] language`; public
pages follow the subscriber's browser. Notices reach the next page through the session, never the URL."""

from __future__ import annotations

import re
from dataclasses import replace

from fastapi.testclient import TestClient

from sendwell import auth, campaigns
from sendwell.config import ConfigError, load_settings
from sendwell.web import create_app
from sendwell.web.i18n import from_accept_language

from .helpers import MAX_UPLOAD, settings_for
from .test_unsubscribe import _token


def test_accept_language_picks_the_best_language_we_have() -> None:
    assert from_accept_language("vi-VN,vi;q=0.9,en-US;q=0.8") == "vi"
    assert from_accept_language("fr-FR,fr;q=0.9,en;q=0.5,vi;q=0.7") == "vi"
    assert from_accept_language("en-GB") == "en"
    assert from_accept_language("fr, de") is None
    assert from_accept_language("vi;q=0, en;q=0.1") == "en"
    assert from_accept_language("") is None and from_accept_language(None) is None


def test_browser_language_then_the_users_choice(ui, web_engine) -> None:
    page = ui.get("/blacklist", headers={"Accept-Language": "vi-VN,vi;q=0.9"})
    assert '<html lang="vi">' in page.text and "Danh sách đen" in page.text and "Black list" not in page.text
    page = ui.get("/blacklist", headers={"Accept-Language": "en-US"})
    assert '<html lang="en">' in page.text and "Black list" in page.text

    r = ui.post("/settings/language", {"language": "vi"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    assert auth.user_language(web_engine, "admin") == "vi"
    settings = ui.get("/settings", headers={"Accept-Language": "en-US"})  # the user's choice beats the browser's
    assert '<html lang="vi">' in settings.text and 'id="notice"' in settings.text
    assert "Đã lưu ngôn ngữ." in settings.text
    assert 'value="vi" lang="vi" selected' in settings.text
    again = ui.get("/settings")  # a notice is shown once
    assert 'id="notice"' not in again.text

    ui.post("/settings/language", {"language": ""})  # back to the browser's
    assert auth.user_language(web_engine, "admin") is None
    assert '<html lang="en">' in ui.get("/segments", headers={"Accept-Language": "en"}).text


def test_dates_and_numbers_follow_the_language(ui, web_engine) -> None:
    ui.post("/segments", {"name": "big", "text": "\n".join(f"p{i}@example.com" for i in range(1200))})
    en = ui.get("/segments", headers={"Accept-Language": "en"}).text
    vi = ui.get("/segments", headers={"Accept-Language": "vi"}).text
    assert ">1,200<" in en and ">1.200<" in vi
    assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d\d:\d\d<", en)  # "Dec 6, 2026 13:05": no seconds
    assert re.search(r"\d{1,2} thg \d{1,2}, \d{4} \d\d:\d\d<", vi)


def test_installation_language_when_the_browser_names_none(db_url, web_engine) -> None:
    base = settings_for(db_url)
    app = create_app(replace(base, web=replace(base.web, language="vi")), web_engine, max_upload=MAX_UPLOAD)
    with TestClient(app) as client:
        assert '<html lang="vi">' in client.get("/login").text
        assert "Đăng nhập" in client.get("/login").text
        assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "en"}).text
        # a public page: the subscriber's browser, else the installation's language
        token = _token(web_engine, db_url)
        assert '<html lang="vi">' in client.get(f"/unsubscribe/{token}").text
        assert '<html lang="en">' in client.get(f"/unsubscribe/{token}", headers={"Accept-Language": "en"}).text


def test_unknown_installation_language_is_a_config_error(tmp_path) -> None:
    try:
        load_settings(env={"SENDWELL_WEB_LANGUAGE": "fr"})
    except ConfigError as err:
        assert "[web] language" in str(err) and "en, vi" in str(err)
    else:
        raise AssertionError("fr accepted")
    assert load_settings(env={"SENDWELL_WEB_LANGUAGE": "vi"}).web.language == "vi"


def test_the_query_string_cannot_write_a_notice(ui, web_engine, db_url) -> None:
    _token(web_engine, db_url)
    cid = campaigns.list_campaigns(web_engine)[0].id
    page = ui.get(f"/campaigns/{cid}/recipients?status=queued&notice=Your+account+is+suspended%2C+call+555")
    assert page.status_code == 200
    assert "suspended" not in page.text and 'id="notice"' not in page.text
    ui.client.cookies.set("sendwell_notice", "forged.value")
    page = ui.get("/segments")
    assert 'id="notice"' not in page.text


def test_login_page_names_no_command(app) -> None:
    with TestClient(app) as client:
        text = client.get("/login").text
    assert "sendwell users" not in text and "<code>" not in text


def test_favicon_is_served(app) -> None:
    with TestClient(app) as client:
        assert client.get("/static/favicon.svg").status_code == 200
        r = client.get("/favicon.ico", follow_redirects=True)
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg")
        assert 'rel="icon"' in client.get("/login").text


def test_login_mistake_in_the_browsers_language(app) -> None:
    from .helpers import csrf_of

    with TestClient(app) as client:
        page = client.get("/login", headers={"Accept-Language": "vi"})
        r = client.post(
            "/login",
            data={"csrf": csrf_of(page.text), "username": "nobody", "password": "x"},
            headers={"Accept-Language": "vi"},
        )
    assert r.status_code == 401 and "sai tên đăng nhập hoặc mật khẩu" in r.text
