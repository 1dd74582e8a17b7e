"""The set-up check through the web: the API's GET /api/v1/setup, and the warnings on the dashboard and on a draft
page before "Send" (and not on a finished campaign); on SQLite and PostgreSQL."""

from __future__ import annotations

from sendwell import campaigns
from sendwell.setupcheck import forget_cached


def test_api_setup_lists_the_findings(api) -> None:
    data = api.get("/api/v1/setup").json()
    assert data["worst"] == "error" and data["ok"] is False
    topics = {f["topic"]: f for f in data["findings"]}
    assert topics["public_url"]["level"] == "warn"
    assert topics["worker"]["hint"] == "run the sending worker"


def test_dashboard_and_draft_page_show_the_problems_before_send(ui, web_engine) -> None:
    forget_cached()
    page = ui.get("/").text
    assert 'id="setup-warnings"' in page
    assert "public_url is not set" in page and "no sending worker is running" in page
    cid = campaigns.create_campaign(web_engine, name="d", subject="s", from_addr="a@nokey.example", text="t")
    page = ui.get(f"/campaigns/{cid}").text
    assert page.index('id="setup-warnings"') < page.index('id="send-now"')
    assert "no DKIM key for nokey.example" in page
    form = ui.get("/campaigns/new").text
    assert 'id="tracking-off"' in form and 'value="reads" disabled' in form.replace("  ", " ")
    campaigns.start_campaign(web_engine, cid)
    assert 'id="setup-warnings"' not in ui.get(f"/campaigns/{cid}").text  # sent already: nothing to warn before
    forget_cached()
