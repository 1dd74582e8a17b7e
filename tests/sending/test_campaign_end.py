"""An honest end, against a real SMTP server: `finished` once every recipient is final, `waiting_retry` while only
deferred ones wait (said so by the statistics, the CLI and the API), a server problem that is shown only while
it is current (its history kept), and the audience figures kept after sending."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from sendwell import blacklist, campaigns, segments, stats
from sendwell.db.schema import campaigns as campaigns_table
from sendwell.db.schema import contacts
from sendwell.sending import control
from sendwell.sending.engine import send

from .conftest import sender_settings
from .smtpd import Script, ScriptedServer
from factories import add_contacts, started_campaign


def _cli(engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SENDWELL_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "COLUMNS": "200",
        "SENDWELL_SENDING_RETRY_HORIZON_HOURS": "72",
    }
    return subprocess.run(
        [sys.executable, "-m", "sendwell.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_deferred_only_is_finished_sending_waiting_for_retry_then_finished(engine, server):
    server.script = Script(rcpt={"grey1@x.org": "451 4.7.1 greylisted", "grey2@x.org": "451 4.7.1 greylisted"})
    cid = started_campaign(engine, ["a@x.org", "b@x.org", "c@x.org", "grey1@x.org", "grey2@x.org"])
    send(engine, sender_settings(server.url, retry_schedule=(3600,)), [cid], linger=0.5)

    data = stats.campaign_stats(engine, cid, retry_horizon_hours=72)
    assert data.state == "sending"  # the worker still retries it
    assert data.phase == "waiting_retry"
    waiting = data.waiting_retry
    assert waiting.count == 2
    assert waiting.until == data.started_at.replace(tzinfo=waiting.until.tzinfo) + timedelta(hours=72)
    assert waiting.next_at > data.started_at.replace(tzinfo=waiting.next_at.tzinfo) + timedelta(minutes=50)
    line = stats.phase_line(data, lambda t: t.strftime("%Y-%m-%d %H:%M"))
    assert line == f"finished sending, 2 waiting for retry until {waiting.until:%Y-%m-%d %H:%M}"

    out = _cli(engine, "campaigns", "stats", str(cid))
    assert out.returncode == 0, out.stderr
    assert "finished sending, 2 waiting for retry until" in out.stdout
    assert [(c.state, c.phase) for c in campaigns.list_campaigns(engine)] == [("sending", "waiting_retry")]

    # The greylisting is over: the retry goes through and the campaign is finished, not waiting any more.
    server.script = Script()
    assert control.resend(engine, cid, "deferred") == 2
    send(engine, sender_settings(server.url), [cid], linger=0.5)
    data = stats.campaign_stats(engine, cid)
    assert (data.state, data.phase, data.waiting_retry) == ("finished", "finished", None)
    assert [c.phase for c in campaigns.list_campaigns(engine)] == ["finished"]
    assert "finished" in _cli(engine, "campaigns", "stats", str(cid)).stdout.splitlines()[0]


def test_a_server_problem_is_shown_while_current_and_kept_in_the_history(engine):
    srv = ScriptedServer().start()
    try:
        cid = started_campaign(engine, [f"r{i}@x.org" for i in range(40)])
        srv.outage(1.5)
        report = send(engine, sender_settings(srv.url, retry_schedule=(0.3, 0.5, 1.0)), [cid], linger=5)
        assert report.stopped == "done", report
    finally:
        srv.stop()
    with engine.connect() as conn:
        problem = conn.execute(select(campaigns_table.c.server_problem).where(campaigns_table.c.id == cid)).scalar()
    assert problem is None  # later messages were accepted: no banner about an outage that is over
    sp = stats.campaign_stats(engine, cid).server_problems
    assert sp.current is False
    actions = [h.action for h in sp.history]
    assert actions[0] == "server_problem" and actions[-1] == "server_problem_over"
    assert "refused" in sp.history[0].summary


def test_a_server_problem_still_current_stays_shown(engine):
    from .smtpd import free_port

    cid = started_campaign(engine, [f"r{i}@x.org" for i in range(5)])
    send(engine, sender_settings(f"smtp://127.0.0.1:{free_port()}", retry_schedule=(0.2, 5.0)), [cid], linger=0.5)
    sp = stats.campaign_stats(engine, cid).server_problems
    assert sp.current is True and "refused" in sp.last
    assert [h.action for h in sp.history] == ["server_problem"]  # once, not once per deferred message


def test_audience_figures_are_kept_when_the_campaign_starts(engine):
    people = [f"p{i}@x.org" for i in range(10)]
    add_contacts(engine, people)
    segments.create(engine, "vip")
    segments.add(engine, "vip", people[:8])
    segments.create(engine, "gone")
    segments.add(engine, "gone", people[:2])
    blacklist.add(engine, [people[2]], reason="manual")
    with engine.begin() as conn:
        conn.execute(update(contacts).where(contacts.c.email.in_(people[3:5])).values(verdict="invalid"))
    cid = campaigns.create_campaign(
        engine, name="k", subject="s", from_addr="a@shop.example", text="t", include=["vip"], exclude=["gone"]
    )
    assert stats.campaign_stats(engine, cid).audience is None  # a draft: the page shows the live preview
    campaigns.start_campaign(engine, cid)
    with engine.begin() as conn:  # the black list and the segments change afterwards: the figures do not
        conn.execute(update(contacts).values(verdict=None))
    blacklist.add(engine, [people[7]], reason="manual")
    kept = stats.campaign_stats(engine, cid).audience
    assert kept == {"candidates": 8, "excluded": 2, "blacklisted": 1, "skipped_by_verification": 2, "queued": 3}


@pytest.mark.parametrize(
    ("include", "exclude"),
    [
        (["a"], ["x"]),  # one segment each way: counted without DISTINCT
        (["a", "b"], ["x", "y"]),  # overlapping segments: each address counted once
        (["a"], ["x", "y"]),
        (["a", "b"], ["x"]),
        ([], ["x", "y"]),  # every contact
    ],
)
def test_kept_figures_count_each_address_once_whatever_the_segments(engine, include, exclude):
    people = [f"p{i}@x.org" for i in range(12)]
    add_contacts(engine, people)
    members = {"a": people[:8], "b": people[4:10], "x": people[:3], "y": people[2:5]}
    for name, addresses in members.items():
        segments.create(engine, name)
        segments.add(engine, name, addresses)
    blacklist.add(engine, [people[5], people[11]], reason="manual")
    cid = campaigns.create_campaign(
        engine, name="f", subject="s", from_addr="a@shop.example", text="t", include=include, exclude=exclude
    )
    preview = campaigns.audience_preview(engine, cid)  # counted the general way, with DISTINCT
    queued = campaigns.start_campaign(engine, cid)
    kept = stats.campaign_stats(engine, cid).audience
    assert kept is not None
    assert (kept["candidates"], kept["excluded"], kept["blacklisted"]) == (
        preview.candidates,
        preview.excluded,
        preview.blacklisted,
    )
    assert kept["queued"] == queued == preview.to_send
    everyone = set().union(*(members[s] for s in include)) if include else set(people)
    out = set().union(*(members[s] for s in exclude))
    assert kept["candidates"] == len(everyone) and kept["excluded"] == len(everyone & out)
