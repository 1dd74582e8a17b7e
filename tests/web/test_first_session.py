"""What a first session in the browser hit: the black list's search, blacklisting a campaign's errors that were
already blacklisted at send time, one-click actions only for addresses that did not take mail, and form mistakes
shown on the form itself with the input kept."""

from __future__ import annotations

import io

from sqlalchemy import update

from sendwell import blacklist, campaigns, contacts, segments
from sendwell.db.schema import recipients

ERRORS = [f"bad{i}@example.com" for i in range(3)]
SENT = [f"ok{i}@example.com" for i in range(4)]


def _sent_campaign(engine) -> int:
    """A started campaign whose rows are as a send left them: 3 error (2 blacklisted at send time), 4 sent."""
    contacts.import_contacts(engine, io.BytesIO(("email\n" + "\n".join(ERRORS + SENT) + "\n").encode()))
    cid = campaigns.create_campaign(engine, name="spring", subject="Hi", from_addr="shop@example.com", text="t")
    campaigns.start_campaign(engine, cid)
    with engine.begin() as conn:
        conn.execute(update(recipients).where(recipients.c.email.in_(ERRORS)).values(status="error"))
        conn.execute(update(recipients).where(recipients.c.email.in_(SENT)).values(status="sent"))
    blacklist.add(engine, ERRORS[:2], reason="hard_bounce", actor="send")
    return cid


def test_blacklisting_errors_says_how_many_were_already_there(ui, web_engine) -> None:
    cid = _sent_campaign(web_engine)
    page = ui.get(f"/campaigns/{cid}/recipients?status=error")
    assert 'data-confirm="Add all of them to the black list?"' in page.text and "confirm_count" not in page.text
    r = ui.post(f"/campaigns/{cid}/recipients/blacklist", {"status": "error", "note": "x"}, follow_redirects=False)
    assert r.status_code == 303 and "notice" not in r.headers["location"]
    shown = ui.get(r.headers["location"]).text
    assert "1 address added to the black list; 2 already on the black list (added at send time)." in shown
    vi = ui.get(r.headers["location"], headers={"Accept-Language": "vi"}).text  # shown once only
    assert "Danh sách đen" in vi and 'id="notice"' not in vi


def test_sent_recipients_need_their_count_typed(ui, web_engine) -> None:
    cid = _sent_campaign(web_engine)
    page = ui.get(f"/campaigns/{cid}/recipients?status=sent")
    assert 'name="confirm_count"' in page.text and "data-confirm" not in page.text.split('id="blacklist-them"')[1][:200]
    r = ui.post(f"/campaigns/{cid}/recipients/blacklist", {"status": "sent", "note": "oops"})
    assert r.status_code == 400 and blacklist.count(web_engine) == 2
    assert 'class="invalid" aria-invalid="true"' in r.text and 'value="oops"' in r.text
    r = ui.post(f"/campaigns/{cid}/recipients/blacklist", {"status": "sent", "confirm_count": "3"})
    assert r.status_code == 400 and blacklist.count(web_engine) == 2
    r = ui.post(f"/campaigns/{cid}/recipients/segment", {"status": "sent", "name": "readers"})
    assert r.status_code == 400 and segments.list_segments(web_engine) == [] and 'value="readers"' in r.text
    r = ui.post(
        f"/campaigns/{cid}/recipients/segment",
        {"status": "sent", "name": "readers", "confirm_count": "4"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and segments.list_segments(web_engine)[0].members == 4
    r = ui.post(f"/campaigns/{cid}/recipients/blacklist", {"status": "sent", "confirm_count": "4"})
    assert r.status_code == 200 and blacklist.count(web_engine) == 6


def test_a_duplicate_segment_name_is_shown_on_the_form(ui, web_engine) -> None:
    cid = _sent_campaign(web_engine)
    ui.post("/segments", {"name": "vip", "text": "a@example.com"})
    r = ui.post("/segments", {"name": "vip", "description": "again", "text": "b@example.com"})
    assert r.status_code == 400 and "already exists" in r.text and "Something is wrong" not in r.text
    assert 'id="seg-name" name="name" value="vip"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="again"' in r.text and "b@example.com</textarea>" in r.text
    r = ui.post(f"/campaigns/{cid}/recipients/segment", {"status": "error", "name": "vip"})
    assert r.status_code == 400 and "already exists" in r.text and 'value="vip"' in r.text


def test_black_list_search_with_any_reason_and_enter(ui, web_engine) -> None:
    blacklist.add(web_engine, ["a@example.com"], reason="complaint")
    blacklist.add(web_engine, ["b@example.com"], reason="manual")
    page = ui.get("/blacklist?q=&reason=")  # "any reason" selected: the form sends reason=
    assert page.status_code == 200 and "a@example.com" in page.text and "b@example.com" in page.text
    page = ui.get("/blacklist?q=example&reason=complaint")
    assert "a@example.com" in page.text and "b@example.com" not in page.text
    assert 'type="submit"' in page.text.split('id="bl-search"')[1].split("</form>")[0]  # Enter submits the form
    page = ui.get("/blacklist?reason=nope")
    assert page.status_code == 400 and "is not a reason" in page.text and 'id="bl-text"' in page.text


def test_pasting_to_the_black_list_redirects_and_keeps_refused_lines(ui, web_engine) -> None:
    r = ui.post("/blacklist/add", {"text": "a@example.com\nb@example.com"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/blacklist"
    assert "2 added to the black list" in ui.get("/blacklist").text
    r = ui.post("/blacklist/add", {"text": "c@example.com\nbroken@\nalso bad", "note": "n"})
    assert r.status_code == 200 and blacklist.count(web_engine) == 3
    assert "broken@\nalso bad</textarea>" in r.text and 'id="rejected"' in r.text
