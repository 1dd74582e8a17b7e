"""Recording opens and clicks on SQLite and PostgreSQL: statuses, machine hits apart, per-link counts."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, update

from sendwell.db.schema import events, recipients
from sendwell.tracking import tokens
from sendwell.tracking.record import click, record_click, record_open
from sendwell.tracking.report import tracking_stats

from .conftest import LINKS, SECRET, recipient, send_campaign

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
HOME_IP = "198.51.100.7"


def opened(engine, sent, email, ua=PHONE, ip=HOME_IP, after=timedelta(minutes=5)):
    token = tokens.open_token(SECRET, sent.campaign_id, sent.ids[email])
    return record_open(engine, token, ua, ip, sent.sent_at + after, secret=SECRET)


def clicked(engine, sent, email, link, ua=DESKTOP, ip=HOME_IP, after=timedelta(minutes=5)):
    token = tokens.click_token(SECRET, sent.campaign_id, sent.ids[email], link)
    return click(engine, token, ua, ip, sent.sent_at + after, secret=SECRET)


def all_events(engine):
    with engine.connect() as conn:
        return conn.execute(select(events).order_by(events.c.id)).all()


def test_a_person_opening_makes_the_recipient_read_once(engine, sent):
    first = opened(engine, sent, "ann@example.com")
    assert first.source == "human" and not first.duplicate
    row = recipient(engine, sent.ids["ann@example.com"])
    assert row.status == "read" and row.opened_at is not None and row.clicked_at is None
    again = opened(engine, sent, "ann@example.com", after=timedelta(minutes=5, seconds=1))
    assert again.duplicate  # the same minute: one event
    later = opened(engine, sent, "ann@example.com", after=timedelta(hours=2))
    assert not later.duplicate
    evs = all_events(engine)
    assert [(e.type, e.source, e.email, e.campaign_id) for e in evs] == [
        ("open", "human", "ann@example.com", sent.campaign_id)
    ] * 2
    assert recipient(engine, sent.ids["ann@example.com"]).opened_at == row.opened_at  # the first stays


def test_a_click_implies_a_read_and_returns_the_campaign_link(engine, sent):
    done = clicked(engine, sent, "bob@example.com", 0)
    assert done.url == LINKS[0] and done.source == "human"
    row = recipient(engine, sent.ids["bob@example.com"])
    assert row.status == "clicked" and row.opened_at is not None and row.clicked_at is not None
    opened(engine, sent, "bob@example.com", after=timedelta(minutes=9))
    assert recipient(engine, sent.ids["bob@example.com"]).status == "clicked"  # a later open does not demote


def test_personalised_links_resolve_per_recipient(engine, sent):
    assert clicked(engine, sent, "ann@example.com", 1).url == LINKS[1].format(uid="a1")
    assert clicked(engine, sent, "cid@example.com", 1).url == LINKS[1].format(uid="c3")
    assert clicked(engine, sent, "cid@example.com", 2).url == LINKS[2]


def test_forged_unknown_and_out_of_range_tokens_record_nothing(engine, sent):
    rid = sent.ids["ann@example.com"]
    good = tokens.click_token(SECRET, sent.campaign_id, rid, 0)
    forged = good[:-1] + ("A" if good[-1] != "A" else "B")
    assert record_click(engine, forged, DESKTOP, HOME_IP, secret=SECRET) is None
    assert record_click(engine, good, DESKTOP, HOME_IP, secret="another secret") is None
    assert (
        record_click(engine, tokens.click_token(SECRET, sent.campaign_id, rid, 3), DESKTOP, HOME_IP, secret=SECRET)
        is None
    )  # the campaign has three trackable links
    assert (
        record_click(engine, tokens.click_token(SECRET, sent.campaign_id, 10**9, 0), DESKTOP, HOME_IP, secret=SECRET)
        is None
    )  # genuine shape, no such recipient
    assert (
        record_click(engine, tokens.click_token(SECRET, sent.campaign_id + 1, rid, 0), DESKTOP, HOME_IP, secret=SECRET)
        is None
    )  # the recipient is not of that campaign
    assert record_open(engine, good, PHONE, HOME_IP, secret=SECRET) is None  # a click token is no pixel token
    assert all_events(engine) == []
    assert recipient(engine, rid).status == "sent"


def test_apple_privacy_protection_prefetch_is_a_machine_open(engine, sent):
    by_agent = opened(engine, sent, "ann@example.com", ua="Mozilla/5.0", ip="203.0.113.9")
    by_network = opened(engine, sent, "bob@example.com", ua=PHONE, ip="17.58.63.120")
    assert (by_agent.source, by_agent.why) == ("machine", "apple_proxy")
    assert (by_network.source, by_network.why) == ("machine", "apple_proxy")
    assert recipient(engine, sent.ids["ann@example.com"]).status == "sent"
    assert recipient(engine, sent.ids["ann@example.com"]).opened_at is None
    person = opened(engine, sent, "ann@example.com", after=timedelta(minutes=5, seconds=20))
    assert person.source == "human" and not person.duplicate  # same minute, but a person: kept
    assert recipient(engine, sent.ids["ann@example.com"]).status == "read"


def test_scanners_are_machines_by_agent_by_speed_and_by_burst(engine, sent):
    gateway = clicked(engine, sent, "ann@example.com", 0, ua="Mozilla/5.0 (compatible; Barracuda Sentinel)")
    assert gateway.why == "scanner_agent"
    assert clicked(engine, sent, "ann@example.com", 0, ua="", after=timedelta(minutes=7)).why == "no_agent"
    fast = clicked(engine, sent, "bob@example.com", 2, after=timedelta(seconds=4))
    assert fast.why == "too_soon" and fast.url == LINKS[2]  # the scanner still gets the page
    assert recipient(engine, sent.ids["bob@example.com"]).status == "sent"
    # A browser-looking agent following every link within two seconds: the earlier clicks are re-judged.
    base = timedelta(minutes=30)
    first = clicked(engine, sent, "cid@example.com", 0, after=base)
    assert first.source == "human" and recipient(engine, sent.ids["cid@example.com"]).status == "clicked"
    clicked(engine, sent, "cid@example.com", 1, after=base + timedelta(seconds=1))
    last = clicked(engine, sent, "cid@example.com", 2, after=base + timedelta(seconds=2))
    assert (last.source, last.why) == ("machine", "burst")
    row = recipient(engine, sent.ids["cid@example.com"])
    assert row.status == "sent" and row.clicked_at is None and row.opened_at is None
    cid_events = [e for e in all_events(engine) if e.recipient_id == sent.ids["cid@example.com"]]
    assert [(e.source, e.reason) for e in cid_events] == [("machine", "burst")] * 3


def test_a_person_clicking_two_links_a_minute_apart_stays_a_person(engine, sent):
    clicked(engine, sent, "ann@example.com", 0)
    clicked(engine, sent, "ann@example.com", 2, after=timedelta(minutes=6))
    assert {e.source for e in all_events(engine)} == {"human"}


def test_parallel_scanner_clicks_see_each_other(engine, sent):
    """A scanner fetches all links at once; the row lock makes the burst visible to the last of them."""
    at = timedelta(minutes=40)
    threads = [
        threading.Thread(target=clicked, args=(engine, sent, "ann@example.com", i), kwargs={"after": at})
        for i in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.source for e in all_events(engine)] == ["machine"] * 3
    assert recipient(engine, sent.ids["ann@example.com"]).status == "sent"


def test_error_failed_and_skipped_are_never_overwritten(engine, sent):
    with engine.begin() as conn:
        conn.execute(update(recipients).where(recipients.c.id == sent.ids["ann@example.com"]).values(status="error"))
        conn.execute(update(recipients).where(recipients.c.id == sent.ids["bob@example.com"]).values(status="failed"))
    opened(engine, sent, "ann@example.com")
    assert clicked(engine, sent, "bob@example.com", 0).url == LINKS[0]
    assert recipient(engine, sent.ids["ann@example.com"]).status == "error"
    assert recipient(engine, sent.ids["bob@example.com"]).status == "failed"


def test_a_campaign_that_tracks_only_clicks_records_no_opens(engine):
    sent = send_campaign(engine, track=("clicks",))
    assert opened(engine, sent, "ann@example.com").source is None
    assert all_events(engine) == []
    assert clicked(engine, sent, "ann@example.com", 0).source == "human"


def test_stats_count_people_and_machines_apart_with_clicks_per_link(engine, sent):
    opened(engine, sent, "ann@example.com")
    opened(engine, sent, "ann@example.com", ua="Mozilla/5.0", ip="17.1.2.3", after=timedelta(seconds=2))
    opened(engine, sent, "bob@example.com", ua="Mozilla/5.0", ip="17.1.2.3", after=timedelta(seconds=3))
    clicked(engine, sent, "ann@example.com", 0)
    clicked(engine, sent, "cid@example.com", 0, after=timedelta(minutes=8))
    clicked(engine, sent, "cid@example.com", 1, after=timedelta(minutes=9))
    clicked(engine, sent, "bob@example.com", 2, ua="Mozilla/5.0 (compatible; Mimecast)")
    s = tracking_stats(engine, sent.campaign_id)
    assert s.track == ["clicks", "reads"]
    assert (s.read, s.clicked) == (2, 2)  # ann opened and clicked, cid clicked; bob was machines only
    assert s.opens.human == 1 and s.opens.machine == 2
    assert s.opens.machine_by_reason == {"apple_proxy": 2} and s.opens.machine_recipients == 2
    assert s.clicks.human == 3 and s.clicks.machine == 1
    assert s.clicks.human_recipients == 2
    assert [(link.url, link.clicks, link.people, link.machine_clicks) for link in s.links] == [
        (LINKS[0], 2, 2, 0),
        (LINKS[1].format(uid="{{ uid }}"), 1, 1, 0),
        (LINKS[2], 0, 0, 1),
    ]
