"""The draft page's schedule form: schedule in a zone, see the time back, change it, unschedule; a past time is
shown on the page in one line; CSRF like every form."""

from __future__ import annotations

from sendwell import campaigns


def _draft(engine) -> int:
    return campaigns.create_campaign(engine, name="xmas", subject="Hi", from_addr="shop@example.com", text="Hello")


def test_schedule_form_on_the_draft_page(ui, web_engine) -> None:
    cid = _draft(web_engine)
    page = ui.get(f"/campaigns/{cid}")
    assert 'id="schedule-at"' in page.text and 'value="UTC"' in page.text  # the installation's zone by default
    r = ui.client.post(f"/campaigns/{cid}/schedule", data={"at": "2099-12-24 09:00"}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    r = ui.post(
        f"/campaigns/{cid}/schedule", {"at": "2099-12-24 09:00", "timezone": "Asia/Ho_Chi_Minh"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = ui.get(r.headers["location"])
    assert 'id="campaign-state">scheduled<' in page.text
    assert "Starts at <strong>2099-12-24 09:00 Asia/Ho_Chi_Minh</strong>" in page.text
    assert 'value="2099-12-24 09:00"' in page.text and 'value="Asia/Ho_Chi_Minh"' in page.text  # editable as given
    r = ui.post(f"/campaigns/{cid}/schedule", {"at": "2020-01-01 09:00", "timezone": ""}, follow_redirects=False)
    assert r.headers["location"] == f"/campaigns/{cid}#schedule"  # the error travels in the session, not the URL
    page = ui.get(r.headers["location"])
    assert 'id="schedule-error"' in page.text and "Send at: 2020-01-01 09:00 UTC is in the past" in page.text
    assert campaigns.get_campaign(web_engine, cid).state == "scheduled"  # the earlier time stands
    r = ui.post(f"/campaigns/{cid}/unschedule", follow_redirects=False)
    assert r.status_code == 303 and campaigns.get_campaign(web_engine, cid).state == "draft"
