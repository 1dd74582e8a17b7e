"""The web UI's guards: login, CSRF on every form, and escaping of attacker-controlled text everywhere."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient

from sendwell import blacklist, campaigns, contacts, events, segments
from sendwell.auth import create_user

from .helpers import PASSWORD, UI, csrf_of, settings_for

PAGES = ["/", "/contacts", "/blacklist", "/segments", "/campaigns", "/campaigns/new"]
SCRIPT = "<script>alert(1)</script>"


def test_every_page_wants_a_login(app) -> None:
    with TestClient(app) as client:
        for path in PAGES + ["/contacts/show?email=a@example.com", "/blacklist/export.csv", "/segments/1"]:
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 303, path
            assert r.headers["location"].startswith("/login?next=")
        r = client.post("/blacklist/add", data={"text": "a@example.com"}, follow_redirects=False)
        assert r.status_code == 303


def test_htmx_requests_are_told_to_reload_to_the_login(app) -> None:
    with TestClient(app) as client:
        r = client.get("/contacts", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 204 and r.headers["hx-redirect"].startswith("/login")


def test_wrong_password_is_refused_and_right_one_returns_to_next(app, web_engine) -> None:
    create_user(web_engine, "admin", PASSWORD)
    with TestClient(app) as client:
        page = UI(client)
        page.get("/login?next=/segments")
        r = page.post("/login", {"username": "admin", "password": "wrong password", "next": "/segments"})
        assert r.status_code == 401 and "wrong user name or password" in r.text
        r = page.post("/login", {"username": "nobody", "password": PASSWORD})
        assert r.status_code == 401
        r = page.post(
            "/login", {"username": "admin", "password": PASSWORD, "next": "//evil.example/x"}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
        assert client.get("/segments").status_code == 200


def test_logout_ends_the_session(ui) -> None:
    assert ui.post("/logout", follow_redirects=False).status_code == 303
    assert ui.client.get("/", follow_redirects=False).status_code == 303


def test_changing_the_password_or_removing_the_user_ends_sessions(ui, web_engine) -> None:
    from sendwell.auth import set_password
    from sendwell.db.schema import users

    assert ui.get("/", follow_redirects=False).status_code == 200
    set_password(web_engine, "admin", "a brand new password")
    assert ui.client.get("/", follow_redirects=False).status_code == 303
    ui.get("/login")
    r = ui.post("/login", {"username": "admin", "password": "a brand new password"}, follow_redirects=False)
    assert r.status_code == 303 and ui.client.get("/", follow_redirects=False).status_code == 200
    with web_engine.begin() as conn:
        conn.execute(users.delete())
    assert ui.client.get("/", follow_redirects=False).status_code == 303


def test_forged_session_cookie_is_ignored(app, web_engine) -> None:
    with TestClient(app) as client:
        client.cookies.set("sendwell_session", "eyJ1c2VyIjoiYWRtaW4ifQ.forged.sig")
        assert client.get("/", follow_redirects=False).status_code == 303


def test_a_cookie_signed_with_another_secret_is_ignored(ui, db_url, web_engine) -> None:
    from dataclasses import replace

    from sendwell.web import create_app

    settings = settings_for(db_url)
    other = create_app(replace(settings, sending=replace(settings.sending, secret="another secret")), web_engine)
    with TestClient(other) as client:
        client.cookies = ui.client.cookies
        assert client.get("/", follow_redirects=False).status_code == 303


def test_forms_without_the_right_csrf_token_are_refused(ui, web_engine) -> None:
    for token in (None, "", "wrong-token"):
        extra = {"csrf": token} if token is not None else {}
        r = ui.client.post("/blacklist/add", data={"text": "victim@example.com", "note": "forged", **extra})
        assert r.status_code == 403 and "security token" in r.text
        r = ui.client.post("/segments", data={"name": "forged", **extra})
        assert r.status_code == 403
        r = ui.client.post("/logout", data=extra, follow_redirects=False)
        assert r.status_code == 403
    assert blacklist.count(web_engine) == 0 and segments.list_segments(web_engine) == []
    r = ui.client.post("/blacklist/add", data={"text": "ok@example.com"}, headers={"X-CSRF-Token": ui.csrf})
    assert r.status_code == 200 and blacklist.count(web_engine) == 1


def test_login_form_needs_its_csrf_token_too(app, web_engine) -> None:
    create_user(web_engine, "admin", PASSWORD)
    with TestClient(app) as client:
        csrf_of(client.get("/login").text)
        r = client.post("/login", data={"username": "admin", "password": PASSWORD})
        assert r.status_code == 403


def test_attacker_text_renders_as_text_everywhere(ui, web_engine, db_url) -> None:
    csv_data = (f'email,first name,company\nxss@example.com,"{SCRIPT}","<img src=x onerror=alert(2)>"\n').encode()
    contacts.import_contacts(web_engine, io.BytesIO(csv_data))
    blacklist.add(web_engine, ["xss@example.com"], note=f"<b>bold</b>{SCRIPT}", actor=SCRIPT)
    bounce = (
        b"From: MAILER-DAEMON\r\nSubject: failure\r\n\r\n<script>alert(3)</script> 550 5.1.1 "
        b"<a href=javascript:alert(4)>no such user</a>\r\n"
    )
    events.record_bounce(
        web_engine,
        settings_for(db_url),
        email="xss@example.com",
        reason="user_unknown",
        status_code="5.1.1",
        hard=True,
        detail=f"550 5.1.1 {SCRIPT}",
        raw=bounce,
        source="test",
    )
    segments.create(web_engine, f"seg {SCRIPT}", description=SCRIPT)
    sid = segments.list_segments(web_engine)[0].id
    segments.add(web_engine, f"seg {SCRIPT}", ["xss@example.com"])
    cid = campaigns.create_campaign(
        web_engine,
        name=f"camp {SCRIPT}",
        subject=f"Hi {SCRIPT}",
        from_addr="a@example.com",
        text=SCRIPT,
        html=SCRIPT,
        exclude=[f"seg {SCRIPT}"],
    )
    pages = PAGES + [
        "/contacts?q=xss",
        "/contacts/show?email=xss@example.com",
        "/blacklist/entry?email=xss@example.com",
        f"/segments/{sid}",
        f"/campaigns/{cid}",
        f"/campaigns/{cid}/edit",
        "/blacklist?q=%3Cscript%3E",
        "/contacts?q=%3Cscript%3Ealert(1)",
    ]
    for path in pages:
        r = ui.get(path)
        assert r.status_code == 200, path
        assert "<script>alert" not in r.text, path
        assert "<img src=x" not in r.text and "<b>bold</b>" not in r.text, path
        assert "<a href=javascript" not in r.text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ui.get("/contacts/show?email=xss@example.com").text
    entry = ui.get("/blacklist/entry?email=xss@example.com").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in entry and "&lt;script&gt;alert(3)&lt;/script&gt;" in entry
    # Reports echo the rejected input back: escaped as well.
    r = ui.post("/blacklist/add", {"text": f"{SCRIPT}\n<img src=x onerror=alert(5)>"})
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    assert "onerror=alert(5)" in r.text  # the rejected text is shown, as text


def test_pages_forbid_inline_script_and_framing(ui) -> None:
    for path in PAGES:
        r = ui.get(path)
        policy = r.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy, path
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
        assert " on" + "submit=" not in r.text and "javascript:" not in r.text, path  # no inline handlers to allow


def test_error_pages_escape_the_input_they_name(ui) -> None:
    r = ui.get("/contacts/show?email=" + "<script>alert(1)</script>@example.com")
    assert r.status_code in (400, 404)
    assert "<script>alert" not in r.text


def test_password_guessing_is_throttled_per_user_name(app, web_engine) -> None:
    from sendwell.logins import USER_LIMIT

    create_user(web_engine, "admin", PASSWORD)
    create_user(web_engine, "other", PASSWORD)
    with TestClient(app) as client:
        page = UI(client)
        page.get("/login")
        for _ in range(USER_LIMIT):
            assert page.post("/login", {"username": "admin", "password": "guess"}).status_code == 401
        r = page.post("/login", {"username": "admin", "password": PASSWORD})
        assert r.status_code == 429 and "too many failed logins" in r.text and int(r.headers["retry-after"]) > 0
        r = page.post("/login", {"username": "other", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303  # another user name is not locked out
