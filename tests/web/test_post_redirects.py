"""Post/Redirect/GET everywhere: every POST route of the web UI answers a success with a redirect, so reloading
the page after it never sends the form again. One table names, for each route, the test that proves it; a new
route without one fails here. And the public pages' redirects carry no personal data in the URL."""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import routing
from fastapi.testclient import TestClient
from forms.helpers import confirm_link, settings_with
from sqlalchemy import select

from sendwell import campaigns, contacts, segments, templates
from sendwell.db.schema import recipients
from sendwell.db.schema import segments as segments_t
from sendwell.forms import store
from sendwell.keys import app_secret
from sendwell.sending import verp
from sendwell.web import create_app

from .helpers import settings_for
from sending.smtpd import ScriptedServer

HERE = Path(__file__).parent
# POST route → the test that posts to it and sees the 303 (file in tests/web, function).
REDIRECT_TESTS = {
    "/login": ("test_sessions.py", "test_login_replaces_a_planted_token"),
    "/logout": ("test_ui_security.py", "test_logout_ends_the_session"),
    "/limit/resume": ("test_post_redirects.py", "test_resuming_sending_redirects_to_the_dashboard"),
    "/contacts/import": (
        "test_contacts_manage.py",
        "test_ui_import_preview_maps_columns_then_reports_on_the_redirected_page",
    ),
    "/contacts/import/{token}": (
        "test_contacts_manage.py",
        "test_ui_import_preview_maps_columns_then_reports_on_the_redirected_page",
    ),
    "/contacts/bulk": ("test_contacts_manage.py", "test_ui_filter_bulk_confirmation_and_action"),
    "/contacts/verify": ("test_contacts_manage.py", "test_ui_verify_job_progress_and_result_filter"),
    "/contacts/edit": ("test_post_redirects.py", "test_saving_a_contact_redirects_to_its_page"),
    "/contacts/delete": ("test_ui_pages.py", "test_contact_page_and_delete"),
    "/blacklist/add": ("test_first_session.py", "test_pasting_to_the_black_list_redirects_and_keeps_refused_lines"),
    "/blacklist/remove": ("test_ui_pages.py", "test_blacklist_paste_upload_show_and_remove"),
    "/segments": ("test_ui_pages.py", "test_segment_from_pasted_list_then_add_remove_export_delete"),
    "/segments/{sid}/add": ("test_ui_pages.py", "test_segment_from_pasted_list_then_add_remove_export_delete"),
    "/segments/{sid}/remove": ("test_ui_pages.py", "test_segment_from_pasted_list_then_add_remove_export_delete"),
    "/segments/{sid}/public": ("test_post_redirects.py", "test_segment_public_toggle_redirects"),
    "/segments/{sid}/delete": ("test_ui_pages.py", "test_segment_from_pasted_list_then_add_remove_export_delete"),
    "/forms": ("test_forms_ui.py", "test_forms_pages"),
    "/forms/{fid}": ("test_post_redirects.py", "test_editing_a_subscription_form_redirects_and_errors_stay"),
    "/forms/{fid}/delete": ("test_forms_ui.py", "test_forms_pages"),
    "/f/{slug}": ("test_post_redirects.py", "test_subscribing_redirects_to_a_page_with_no_address_in_its_url"),
    "/f/confirm/{token}": ("test_post_redirects.py", "test_subscribing_redirects_to_a_page_with_no_address_in_its_url"),
    "/unsubscribe/{token}": ("test_post_redirects.py", "test_the_preference_page_and_unsubscribe_redirect"),
    "/unsubscribe/{token}/lists": ("test_post_redirects.py", "test_the_preference_page_and_unsubscribe_redirect"),
    "/campaigns/new": ("test_ui_pages.py", "test_campaign_with_segments_to_send_to_and_to_exclude"),
    "/campaigns/{cid}/test": ("test_preview_web.py", "test_draft_page_test_send_form"),
    "/campaigns/{cid}/send": ("test_sending_web.py", "test_ui_pause_resume_cancel_and_resend"),
    "/campaigns/{cid}/schedule": ("test_schedule_web.py", "test_schedule_form_on_the_draft_page"),
    "/campaigns/{cid}/unschedule": ("test_schedule_web.py", "test_schedule_form_on_the_draft_page"),
    "/campaigns/{cid}/pause": ("test_sending_web.py", "test_ui_pause_resume_cancel_and_resend"),
    "/campaigns/{cid}/resume": ("test_sending_web.py", "test_ui_pause_resume_cancel_and_resend"),
    "/campaigns/{cid}/resend": ("test_sending_web.py", "test_ui_pause_resume_cancel_and_resend"),
    "/campaigns/{cid}/cancel": ("test_sending_web.py", "test_ui_pause_resume_cancel_and_resend"),
    "/campaigns/{cid}/recipients/blacklist": (
        "test_first_session.py",
        "test_blacklisting_errors_says_how_many_were_already_there",
    ),
    "/campaigns/{cid}/recipients/segment": ("test_first_session.py", "test_sent_recipients_need_their_count_typed"),
    "/campaigns/{cid}/edit": ("test_ui_pages.py", "test_edit_a_draft_then_delete_it"),
    "/campaigns/{cid}/delete": ("test_ui_pages.py", "test_edit_a_draft_then_delete_it"),
    "/templates/new": ("test_templates_web.py", "test_create_edit_and_preview_a_template"),
    "/templates/edit": ("test_post_redirects.py", "test_saving_a_template_redirects"),
    "/templates/delete": (
        "test_templates_web.py",
        "test_a_campaign_picks_a_template_and_the_template_is_kept_while_used",
    ),
    "/settings/language": ("test_i18n_web.py", "test_browser_language_then_the_users_choice"),
}
# POSTs that no person's form submits, so there is no page to reload: why each answers without a redirect.
NOT_A_FORM = {
    "/templates/preview.html": "renders the template as typed into the editor's frame; changes nothing",
    "/webhooks/{provider}": "a mail provider's server posts its events; it reads the status code",
}


def _post_routes(app) -> set[str]:
    # FastAPI ≥ 0.120 keeps included routers as they are and resolves them on use: walk them for the full paths.
    walk = getattr(routing, "_iter_routes_with_context", None)
    pairs = walk(app.routes) if walk else ((r, None) for r in app.routes)
    found = set()
    for route, context in pairs:
        path = context.path if context is not None else getattr(route, "path", "")
        if "POST" in (getattr(route, "methods", None) or ()) and not path.startswith("/api/"):
            found.add(path)
    return found


def _test_source(file: str, name: str) -> str | None:
    source = (HERE / file).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(source, node)
    return None


def test_every_post_route_has_a_test_proving_it_redirects(app) -> None:
    routes = _post_routes(app)
    assert "/segments/{sid}/public" in routes and "/f/{slug}" in routes  # the walk found the included routers
    missing = routes - REDIRECT_TESTS.keys() - NOT_A_FORM.keys()
    assert not missing, f"POST routes with no test proving they redirect (add one to REDIRECT_TESTS): {missing}"
    assert not (REDIRECT_TESTS.keys() | NOT_A_FORM.keys()) - routes, "entries for routes that are gone"
    for route, (file, name) in REDIRECT_TESTS.items():
        source = _test_source(file, name)
        assert source is not None, f"{route}: {file}::{name} does not exist"
        last = [part for part in route.split("/") if part and not part.startswith("{")][-1]
        assert "303" in source and last in source, f"{route}: {file}::{name} does not post there and see a 303"


def test_segment_public_toggle_redirects(ui, web_engine) -> None:
    sid = segments.create(web_engine, "news")
    for given, shown in (("1", "On the preference page"), ("0", "Not on the preference page")):
        r = ui.post(f"/segments/{sid}/public", {"public": given}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/segments/{sid}"
        assert shown in ui.get(r.headers["location"]).text
    assert segments.list_segments(web_engine)[0].public is False


def test_editing_a_subscription_form_redirects_and_errors_stay(ui, web_engine) -> None:
    segments.create(web_engine, "news")
    fid = store.create(web_engine, "Monthly", ["news"], from_addr="Acme <news@acme.example>")
    values = {"name": "Monthly news", "slug": "monthly", "from_addr": "Acme <news@acme.example>", "segments": "news"}
    values |= {"fields": "", "consent_text": "Yes.", "confirm_subject": "Confirm", "confirm_body": "{{ confirm_url }}"}
    ui.get(f"/forms/{fid}")
    r = ui.post(f"/forms/{fid}", values, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/forms/{fid}?notice=saved"
    assert 'id="saved"' in ui.get(r.headers["location"]).text
    assert 'id="saved"' not in ui.get(f"/forms/{fid}?notice=<script>x").text  # a flag, not text
    assert store.get(web_engine, fid).name == "Monthly news"
    r = ui.post(f"/forms/{fid}", {**values, "name": "Renamed", "confirm_body": "no link"}, follow_redirects=False)
    assert r.status_code == 400 and "Confirmation body:" in r.text  # on the same form, as typed
    assert 'value="Renamed"' in r.text and "no link</textarea>" in r.text
    assert store.get(web_engine, fid).name == "Monthly news"


@pytest.fixture
def smtp() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def test_subscribing_redirects_to_a_page_with_no_address_in_its_url(db_url, web_engine, smtp) -> None:
    segments.create(web_engine, "news", public=True)
    store.create(web_engine, "Monthly news", ["news"], fields=["first_name"], from_addr="Acme <news@acme.example>")
    app = create_app(settings_with(db_url, smtp.url, min_seconds=0.0), web_engine)
    with TestClient(app) as client:
        token = re.search(r'name="token" value="([^"]+)"', client.get("/f/monthly-news").text).group(1)
        typo = client.post("/f/monthly-news", data={"token": token, "email": "ann@gmal.com", "first_name": "Ann"})
        assert typo.status_code == 422 and 'value="ann@gmal.com"' in typo.text and 'value="Ann"' in typo.text
        form = {"token": token, "email": "ann@example.org", "first_name": "Ann", "website": ""}
        r = client.post("/f/monthly-news", data=form, follow_redirects=False)
        assert r.status_code == 303, r.text
        url = r.headers["location"]
        assert url.startswith("/f/monthly-news?done=") and "ann" not in url.lower() and "example" not in url
        for _ in range(2):  # reloading the page after it shows it again and sends nothing
            done = client.get(url)
            assert done.status_code == 200 and 'id="form-done"' in done.text and "we sent you an email" in done.text
        assert len(smtp.accepted) == 1
        forged = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
        assert 'id="form-done"' not in client.get(forged).text  # a changed receipt shows the form
        assert 'id="form-done"' not in client.get(url.replace("/f/monthly-news", "/f/other")).text

        path = urlsplit(confirm_link(smtp.accepted[0].message.get_content())).path
        r = client.post(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith(path + "?done=")
        assert "ann" not in r.headers["location"].lower()
        for _ in range(2):
            ok = client.get(r.headers["location"])
            assert ok.status_code == 200 and 'id="confirmed"' in ok.text and "Monthly news" in ok.text
        assert client.post(path, follow_redirects=False).status_code == 410  # used: said on the spot
    assert [m.email for m in segments.show(web_engine, "news").shown] == ["ann@example.org"]


def test_the_preference_page_and_unsubscribe_redirect(app, web_engine, db_url) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(b"email\nreader@example.com\n"))
    for name in ("news", "offers"):
        segments.create(web_engine, name, public=True)
        segments.add(web_engine, name, ["reader@example.com"])
    cid = campaigns.create_campaign(web_engine, name="c", subject="Hi", from_addr="a@example.com", text="t")
    campaigns.start_campaign(web_engine, cid)
    with web_engine.connect() as conn:
        rid = conn.execute(select(recipients.c.id)).scalar_one()
        news = conn.execute(select(segments_t.c.id).where(segments_t.c.name == "news")).scalar_one()
    token = verp.unsubscribe_token(app_secret(web_engine, settings_for(db_url)), cid, rid)
    with TestClient(app) as client:
        r = client.post(f"/unsubscribe/{token}/lists", data={"keep": str(news)}, follow_redirects=False)
        assert r.status_code == 303
        url = r.headers["location"]
        assert urlsplit(url).path == f"/unsubscribe/{token}" and "reader" not in url
        assert list(parse_qs(urlsplit(url).query)) == ["did"]
        for _ in range(2):
            page = client.get(url).text
            assert 'id="lists-left"' in page and "You left: offers." in page
        assert 'id="lists-left"' not in client.get(f"/unsubscribe/{token}").text  # only after the post
        r = client.post(f"/unsubscribe/{token}", content=b"List-Unsubscribe=One-Click", follow_redirects=False)
        assert r.status_code == 303 and urlsplit(r.headers["location"]).path == f"/unsubscribe/{token}"
        assert 'id="unsubscribed"' in client.get(r.headers["location"]).text
        assert 'id="unsubscribed"' not in client.get(f"/unsubscribe/{token}").text
        other = r.headers["location"].replace(token, token.rsplit(".", 1)[0] + ".0000000000000000")
        assert client.get(other).status_code == 404


def test_saving_a_template_redirects(ui, web_engine) -> None:
    templates.create_template(web_engine, "brand", "<p>{{ content }}</p>")
    ui.get("/templates/edit?name=brand")
    data = {"original": "brand", "name": "brand2", "html": "<div>{{ content }}</div>", "text": ""}
    r = ui.post("/templates/edit", data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/templates/edit?name=brand2&notice=saved"
    assert 'id="template-notice"' in ui.get(r.headers["location"]).text


def test_saving_a_contact_redirects_to_its_page(ui, web_engine) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(b"email\nann@example.com\n"))
    ui.get("/contacts/show?email=ann@example.com")
    form = {"email": "ann@example.com", "name_0": "first_name", "value_0": "Ann"}
    r = ui.post("/contacts/edit", form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/contacts/show?")
    assert contacts.get_contact(web_engine, "ann@example.com").fields == {"first_name": "Ann"}


def test_resuming_sending_redirects_to_the_dashboard(ui) -> None:
    r = ui.post("/limit/resume", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


# Pages that once showed whatever their query string said; the text must not appear on them now.
PROBED = ["/templates", "/templates/edit?name=simple", "/templates/new"]
PROBE = "<script>x</script>Pay now"


def test_no_query_string_puts_text_on_the_templates_or_draft_pages(ui, web_engine) -> None:
    cid = campaigns.create_campaign(web_engine, name="xmas", subject="Hi", from_addr="shop@example.com", text="Hi")
    for page in [*PROBED, f"/campaigns/{cid}"]:
        sep = "&" if "?" in page else "?"
        for key in ("notice", "error", "schedule_error"):
            r = ui.get(f"{page}{sep}{key}={PROBE}")
            assert r.status_code == 200, (page, key)
            assert "Pay now" not in r.text and "&lt;script&gt;x" not in r.text, (page, key)
