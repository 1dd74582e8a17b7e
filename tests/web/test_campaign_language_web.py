"""A campaign's language over the API and the campaign form (TestClient, SQLite and PostgreSQL): it defaults to
the installation's `[web] language`, can be chosen and changed, and the form's preview frame shows the footer in it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from sendwell import campaigns
from sendwell.auth import create_token, create_user
from sendwell.web import create_app

from .helpers import PASSWORD, UI, settings_for
from factories import add_contacts

CAMPAIGN = {"subject": "s", "from_addr": "a@example.com", "html": "<p>Hi</p>", "template": "simple"}


@pytest.fixture
def vi_app(db_url, web_engine):  # an installation whose [web] language is Vietnamese
    settings = settings_for(db_url)
    return create_app(replace(settings, web=replace(settings.web, language="vi")), web_engine)


@pytest.fixture
def vi_api(vi_app, web_engine) -> Iterator[TestClient]:
    with TestClient(vi_app, headers={"Authorization": f"Bearer {create_token(web_engine, 't')[1]}"}) as client:
        yield client


@pytest.fixture
def vi_ui(vi_app, web_engine) -> Iterator[UI]:
    create_user(web_engine, "admin", PASSWORD)
    with TestClient(vi_app) as client:
        page = UI(client)
        page.login()
        yield page


def test_the_api_defaults_to_the_installation_language_and_edits_it(vi_api, web_engine) -> None:
    assert vi_api.post("/api/v1/campaigns", json={"name": "a", **CAMPAIGN}).status_code == 201
    assert vi_api.get("/api/v1/campaigns/a").json()["language"] == "vi"
    r = vi_api.post("/api/v1/campaigns", json={"name": "b", **CAMPAIGN, "language": "en"})
    assert r.status_code == 201 and campaigns.get_campaign(web_engine, "b").language == "en"
    r = vi_api.patch("/api/v1/campaigns/a", json={"language": "en"})
    assert r.status_code == 200 and r.json()["language"] == "en"
    assert vi_api.patch("/api/v1/campaigns/a", json={"language": "fr"}).status_code == 422


def test_the_form_offers_the_installation_language_first_and_keeps_the_choice(vi_ui, web_engine) -> None:
    form = vi_ui.get("/campaigns/new")
    assert '<option value="vi" lang="vi" selected>Tiếng Việt</option>' in form.text
    assert "Ngôn ngữ của phần chữ có sẵn trong mẫu" in form.text  # the label, in the page's language
    r = vi_ui.post("/campaigns/new", {"name": "c", **CAMPAIGN, "language": "vi"}, follow_redirects=False)
    assert r.status_code == 303
    camp = campaigns.get_campaign(web_engine, "c")
    assert camp.language == "vi"
    add_contacts(web_engine, ["ann@example.org"])
    frame = vi_ui.get(f"/campaigns/{camp.id}/preview.html")
    assert frame.status_code == 200 and "Hủy đăng ký" in frame.text and "Unsubscribe" not in frame.text
    data = CAMPAIGN | {"language": "en"}
    assert vi_ui.post(f"/campaigns/{camp.id}/edit", data, follow_redirects=False).status_code == 303
    assert campaigns.get_campaign(web_engine, "c").language == "en"
    assert '<option value="en" lang="en" selected>' in vi_ui.get(f"/campaigns/{camp.id}/edit").text
