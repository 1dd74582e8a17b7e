"""The contacts pages, the draft page's test send, the schedule form and the templates list say what happened
through the session (web/ui/notices.py), never through the URL: a link cannot write in their success or error
boxes, and the notices are written in the reader's language."""

from __future__ import annotations

import io

from sendwell import campaigns, contacts, segments

BAIT = "Your account is suspended, call 555"
QUERIES = {"notice": BAIT, "error": BAIT, "test_notice": BAIT, "test_error": BAIT, "schedule_error": BAIT}


def _draft(engine) -> int:
    contacts.import_contacts(engine, io.BytesIO(b"email,city\nann@example.com,Paris\nbob@example.com,Rome\n"))
    return campaigns.create_campaign(
        engine, name="news", subject="Hi", from_addr="shop@example.com", text="Hello", html=None
    )


def test_no_query_string_writes_in_a_notice_or_error_box(ui, web_engine) -> None:
    cid = _draft(web_engine)
    pages = ["/contacts", "/contacts/show?email=ann@example.com", f"/campaigns/{cid}", "/templates", "/"]
    bait = "&".join(f"{k}={BAIT.replace(' ', '+')}" for k in QUERIES)
    for path in pages:
        page = ui.get(path + ("&" if "?" in path else "?") + bait)
        assert page.status_code == 200, path
        assert BAIT not in page.text, path  # (the query string may be carried over in links, encoded)
        assert 'id="notice"' not in page.text and 'id="test-result"' not in page.text, path


def test_contacts_notices_come_through_the_session_in_the_readers_language(ui, web_engine) -> None:
    _draft(web_engine)
    segments.create(web_engine, "paris")
    form = {"field": "city", "value": "Paris", "all": "1", "action": "add_to_segment", "target_segment": "paris"}
    r = ui.post("/contacts/bulk", form, follow_redirects=False)
    assert r.status_code == 303 and "notice" not in r.headers["location"]
    assert 'id="notice">1 contact added to segment paris.<' in ui.get(r.headers["location"]).text
    r = ui.post("/contacts/edit", {"email": "ann@example.com", "name_0": "city", "value_0": "Lyon"})
    assert 'id="notice">Contact saved.<' in r.text
    r = ui.post("/contacts/delete", {"email": "bob@example.com"}, follow_redirects=False)
    assert r.headers["location"] == "/contacts"
    page = ui.get("/contacts", headers={"Accept-Language": "vi"})
    assert "Đã xóa liên hệ bob@example.com." in page.text
    assert "Đã xóa liên hệ bob@example.com." not in ui.get("/contacts").text  # shown once


def test_a_form_error_travels_in_the_session_and_outlines_its_field(ui, web_engine) -> None:
    _draft(web_engine)
    r = ui.get("/contacts/bulk", params={"action": "add_to_segment", "emails": "ann@example.com"})
    assert r.status_code == 200 and "error=" not in str(r.url) and "error_field=segment" in str(r.url)
    assert 'class="error" role="alert" id="notice">Segment: choose a segment<' in r.text
    assert 'name="target_segment" aria-label="Segment for the action" class="field-error"' in r.text
    vi = ui.get("/contacts/bulk", params={"action": "add_to_segment", "emails": "ann@example.com"},
                headers={"Accept-Language": "vi"})  # fmt: skip
    assert "Phân đoạn: hãy chọn một phân đoạn" in vi.text


def test_the_schedule_error_is_shown_beside_the_schedule_form(ui, web_engine) -> None:
    cid = _draft(web_engine)
    r = ui.post(
        f"/campaigns/{cid}/schedule",
        {"at": "yesterday", "timezone": "UTC"},
        headers={"Accept-Language": "vi"},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"/campaigns/{cid}#schedule"
    page = ui.get(r.headers["location"], headers={"Accept-Language": "vi"})
    assert 'id="schedule-error">Gửi lúc: &#39;yesterday&#39; không phải là thời gian' in page.text
    assert 'id="notice"' not in page.text  # once, where it belongs
