"""The forms management pages (logged in): create, show with its snippet, edit, refuse bad input by field,
delete; and a segment put on (and off) the preference page."""

from __future__ import annotations

from sendwell import segments
from sendwell.forms import store


def test_forms_pages(ui, web_engine) -> None:
    segments.create(web_engine, "news")
    segments.create(web_engine, "offers")
    ui.get("/forms")
    bad = ui.post("/forms", {"name": "Monthly", "segments": "news", "double_opt_in": "1"})
    assert bad.status_code == 400 and "Sender:" in bad.text
    assert (
        'name="from_addr" value="" placeholder="News &lt;news@example.com&gt;" class="field-error" aria-invalid="true"'
        in bad.text
    )
    r = ui.post(
        "/forms",
        {
            "name": "Monthly",
            "segments": ["news", "offers"],
            "fields": "first_name",
            "from_addr": "Acme <news@acme.example>",
            "double_opt_in": "1",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    fid = int(r.headers["location"].rsplit("/", 1)[1])
    page = ui.get(f"/forms/{fid}")
    assert page.status_code == 200 and "/f/monthly" in page.text and "&lt;form method=&#34;post&#34;" in page.text
    form = store.get(web_engine, fid)
    values = {
        "name": "Monthly news",
        "slug": "monthly",
        "from_addr": form.from_addr,
        "fields": "first_name,last_name",
        "segments": ["news"],
        "double_opt_in": "1",
        "consent_text": "Yes please.",
        "confirm_subject": "Confirm, {{ first_name }}",
        "confirm_body": "Click {{ confirm_url }}",
    }
    saved = ui.post(f"/forms/{fid}", values, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/forms/{fid}?notice=saved"
    assert 'id="saved"' in ui.get(saved.headers["location"]).text and 'id="saved"' not in ui.get(f"/forms/{fid}").text
    form = store.get(web_engine, fid)
    assert form.name == "Monthly news" and form.segments == ["news"] and form.fields == ["first_name", "last_name"]
    assert form.consent_text == "Yes please."
    bad = ui.post(f"/forms/{fid}", {**values, "confirm_body": "no link here"})
    assert bad.status_code == 400 and "Confirmation body:" in bad.text and 'value="Monthly news"' in bad.text
    assert "Monthly news" in ui.get("/forms").text
    assert ui.post(f"/forms/{fid}/delete", follow_redirects=False).status_code == 303
    assert store.list_forms(web_engine) == []


def test_segment_public_toggle(ui, web_engine) -> None:
    sid = segments.create(web_engine, "news")
    page = ui.get(f"/segments/{sid}")
    assert "Not on the preference page." in page.text
    r = ui.post(f"/segments/{sid}/public", {"public": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/segments/{sid}"
    page = ui.get(f"/segments/{sid}")
    assert "On the preference page" in page.text
    assert segments.list_segments(web_engine)[0].public is True
    ui.post(f"/segments/{sid}/public", {"public": "0"})
    assert segments.list_segments(web_engine)[0].public is False


def test_forms_pages_need_a_login(app) -> None:
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        r = client.get("/forms", follow_redirects=False)
        assert r.status_code in (302, 303) and "/login" in r.headers["location"]
