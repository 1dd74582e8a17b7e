"""Sending through the API and the UI: send, pause, resume, cancel, statistics, recipients by status, CSV export,
the daily limit — with a simulated receiving server that refuses some addresses (550 5.1.1)."""

from __future__ import annotations

import csv
import io

import pytest

from sendwell import blacklist, campaigns, segments
from sendwell.demo.server import Behaviour, SimulatedServer
from sendwell.sending.engine import send

from .helpers import sending_settings
from factories import campaign

GOOD = [f"good{i}@example.com" for i in range(6)]
BAD = ["nobody@example.com", "ghost@example.com"]
PEOPLE = {a: {"first_name": a.split("@")[0]} for a in GOOD + BAD}


@pytest.fixture
def relay():
    with SimulatedServer(Behaviour(unknown=set(BAD))) as server:
        yield server


def test_send_then_stats_recipients_and_csv_through_the_api(api, web_engine, db_url, relay) -> None:
    cid = campaign(web_engine, PEOPLE, name="spring")
    r = api.post(f"/api/v1/campaigns/{cid}/send")
    assert r.status_code == 202 and r.json()["queued"] == 8 and r.json()["state"] == "sending"
    send(web_engine, sending_settings(db_url, relay.url), [cid], linger=0)
    stats = api.get(f"/api/v1/campaigns/{cid}/stats").json()
    assert stats["by_status"]["sent"] == 6 and stats["by_status"]["error"] == 2 and stats["state"] == "finished"
    page = api.get(f"/api/v1/campaigns/{cid}/recipients", params={"status": "error", "limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["smtp_code"] == 550 and "5.1.1" in page["items"][0]["smtp_answer"]
    both = api.get(f"/api/v1/campaigns/{cid}/recipients", params=[("status", "error"), ("status", "sent")]).json()
    assert both["total"] == 8
    r = api.get(f"/api/v1/campaigns/{cid}/recipients.csv", params={"status": "error"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(row["email"] for row in rows) == sorted(BAD) and rows[0]["first_name"] in ("nobody", "ghost")
    r = api.get(f"/api/v1/campaigns/{cid}/recipients", params={"status": "lost"})
    assert r.status_code == 400 and r.json()["field"] == "status"
    assert r.json()["detail"].startswith("status: 'lost' is not a status; choose from queued, sent, deferred, error")
    r = api.post(f"/api/v1/campaigns/{cid}/send")
    assert r.json()["queued"] is None  # already started: nothing queued again
    r = api.post(f"/api/v1/campaigns/{cid}/resend", json={"statuses": ["error"]})
    assert r.status_code == 400 and "only deferred, failed" in r.json()["detail"]
    r = api.post(f"/api/v1/campaigns/{cid}/resend", json={})
    assert r.status_code == 200 and r.json()["requeued"] == 0 and r.json()["state"] == "finished"


def test_pause_resume_cancel_follow_the_state_machine(api, web_engine) -> None:
    cid = campaign(web_engine, PEOPLE, name="spring")
    r = api.post(f"/api/v1/campaigns/{cid}/pause")
    assert r.status_code == 400 and "is draft: cannot pause it" in r.json()["detail"]
    api.post(f"/api/v1/campaigns/{cid}/send")
    assert api.post(f"/api/v1/campaigns/{cid}/pause").json()["state"] == "paused"
    r = api.post(f"/api/v1/campaigns/{cid}/send")
    assert r.status_code == 400 and "paused" in r.json()["detail"]
    assert api.post(f"/api/v1/campaigns/{cid}/resume").json()["state"] == "sending"
    r = api.post(f"/api/v1/campaigns/{cid}/cancel").json()
    assert r["state"] == "cancelled" and r["skipped"] == 8
    assert api.post("/api/v1/campaigns/nope/cancel").status_code == 404


def test_ui_pause_resume_cancel_and_resend(ui, web_engine) -> None:
    from sendwell.db.schema import recipients

    cid = campaign(web_engine, PEOPLE, name="spring")
    ui.post(f"/campaigns/{cid}/send")
    assert ui.post(f"/campaigns/{cid}/pause", follow_redirects=False).status_code == 303
    assert campaigns.get_campaign(web_engine, cid).state == "paused"
    assert "Resume" in ui.get(f"/campaigns/{cid}").text
    ui.post(f"/campaigns/{cid}/resume")
    assert campaigns.get_campaign(web_engine, cid).state == "sending"
    with web_engine.begin() as conn:  # as if the relay had failed them for good
        conn.execute(recipients.update().where(recipients.c.campaign_id == cid).values(status="failed"))
    assert 'id="resend"' in ui.get(f"/campaigns/{cid}").text
    ui.post(f"/campaigns/{cid}/resend")
    with web_engine.connect() as conn:
        assert {r.status for r in conn.execute(recipients.select())} == {"queued"}
    ui.post(f"/campaigns/{cid}/cancel")
    assert campaigns.get_campaign(web_engine, cid).state == "cancelled"
    r = ui.post(f"/campaigns/{cid}/pause")
    assert r.status_code == 400 and "cannot pause" in r.text


def test_limit_report_and_resume(api) -> None:
    data = api.get("/api/v1/limit").json()
    assert data["today"]["limit"] == 1000 and data["breaker"] is None
    assert api.post("/api/v1/limit/resume").json() == {"resumed": False}


def test_the_seed_story_in_the_ui(ui, web_engine, db_url, relay) -> None:
    """Statistics → click the errors → their server answers → CSV → black list → next campaign skips them."""
    cid = campaign(web_engine, PEOPLE, name="spring")
    r = ui.post(f"/campaigns/{cid}/send", follow_redirects=False)
    assert r.status_code == 303
    page = ui.get(f"/campaigns/{cid}").text
    assert 'hx-trigger="every 2s"' in page  # live progress while sending
    send(web_engine, sending_settings(db_url, relay.url), [cid], linger=0)
    page = ui.get(f"/campaigns/{cid}").text
    assert 'hx-trigger="every 2s"' not in page  # done: polling stops
    assert f'id="count-error" href="/campaigns/{cid}/recipients?status=error">2<' in page
    assert "<svg" in page and "Recipients by status" in page
    errors = ui.get(f"/campaigns/{cid}/recipients?status=error").text
    assert "nobody@example.com" in errors and "550" in errors and "5.1.1" in errors
    assert "good0@example.com" not in errors
    exported = ui.get(f"/campaigns/{cid}/recipients.csv?status=error").text
    assert sorted(r["email"] for r in csv.DictReader(io.StringIO(exported))) == sorted(BAD)
    # The engine already blacklists addresses refused at RCPT; an operator importing the export is a no-op then.
    r = ui.post("/blacklist/add", files={"file": ("errors.csv", exported.encode())})
    assert r.status_code == 200 and blacklist.count(web_engine) >= 2
    r = ui.post(
        f"/campaigns/{cid}/recipients/segment", {"name": "spring errors", "status": "error"}, follow_redirects=False
    )
    assert r.status_code == 303 and segments.show(web_engine, "spring errors").members == 2
    ui.post(f"/campaigns/{cid}/recipients/blacklist", {"status": "error", "note": "bounced in spring"})
    r = ui.post(
        "/campaigns/new",
        {"name": "summer", "subject": "S", "from_addr": "shop@example.com", "text": "t", "exclude": "spring errors"},
        follow_redirects=False,
    )
    summer = int(r.headers["location"].rsplit("/", 1)[1])
    ui.post(f"/campaigns/{summer}/send")
    send(web_engine, sending_settings(db_url, relay.url), [summer], linger=0)
    page = ui.get(f"/campaigns/{summer}").text
    assert 'id="count-error">0<' in page and 'id="count-sent" href' in page
    assert relay.handler.rejected.total() == 2  # the bad addresses were refused once, never again


def test_dashboard_draws_the_30_day_chart(ui, web_engine, db_url, relay) -> None:
    cid = campaign(web_engine, PEOPLE, name="spring")
    ui.post(f"/campaigns/{cid}/send")
    send(web_engine, sending_settings(db_url, relay.url), [cid], linger=0)
    page = ui.get("/").text
    assert 'id="limit-today">1,000<' in page
    assert "sent 6, address errors 2" in page  # today's bar, in its tooltip
    assert page.count("<rect") >= 60  # 30 days × (sent, errors)
