"""Mailgun: HMAC-signed event-data; permanent failures blacklist, temporary ones only score; a signature is good
once and only while fresh (issue 14, finding 3)."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from sendwell.bounces import webhooks
from sendwell.config import Settings
from sendwell.db.schema import events

from .conftest import (
    MAILGUN_KEY,
    configured,
    fixture_text,
    listed_as,
    mailgun_signature,
    setup_campaign,
    status_of,
    two_campaigns,
)

ON = configured(mailgun_key=MAILGUN_KEY)


def signed(name: str, key: str = MAILGUN_KEY, **fill: str) -> bytes:
    sig = mailgun_signature(key)
    return fixture_text(
        name, TIMESTAMP=sig["timestamp"], TOKEN=sig["token"], SIGNATURE=sig["signature"], **fill
    ).encode()


def event_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar_one()


def test_permanent_failure_matched_by_message_id_blacklists(engine):
    (_, older, ours), (_, newer, _) = two_campaigns(engine, "dead@example.com")
    # Mailgun hands back the Message-ID it was given, without its brackets
    applied = webhooks.handle(
        engine, ON, "mailgun", signed("mailgun_failed_permanent.json", MESSAGE_ID=ours.strip("<>")), {}
    ).applied
    assert applied[0].recipient_id == older and applied[0].blacklisted == "hard_bounce"
    assert (status_of(engine, older), status_of(engine, newer)) == ("error", "sent")


def test_temporary_failure_complaint_and_unsubscribe(engine):
    _, ids = setup_campaign(engine, ["full@example.com", "angry@example.com", "bye@example.com"])
    for name in ("mailgun_failed_temporary.json", "mailgun_complained.json", "mailgun_unsubscribed.json"):
        webhooks.handle(engine, ON, "mailgun", signed(name), {})
    assert status_of(engine, ids["full@example.com"]) == "failed"
    assert listed_as(engine, "full@example.com") is None
    assert listed_as(engine, "angry@example.com") == "complaint"
    assert listed_as(engine, "bye@example.com") == "unsubscribe"


def test_wrong_key_forgery_and_missing_key_are_refused(engine):
    setup_campaign(engine, ["angry@example.com"])
    with pytest.raises(webhooks.WebhookRejected, match="does not match"):
        webhooks.handle(engine, ON, "mailgun", signed("mailgun_complained.json", key="key-other"), {})
    good = json.loads(signed("mailgun_complained.json"))
    good["signature"]["timestamp"] = str(int(good["signature"]["timestamp"]) - 1)
    with pytest.raises(webhooks.WebhookRejected, match="does not match"):
        webhooks.handle(engine, ON, "mailgun", json.dumps(good).encode(), {})
    with pytest.raises(webhooks.WebhookRejected, match=r"not enabled; set \[webhook\] mailgun_key"):
        webhooks.handle(engine, Settings(), "mailgun", signed("mailgun_complained.json"), {})
    assert listed_as(engine, "angry@example.com") is None and event_count(engine) == 0


def test_a_used_signature_with_new_event_data_is_refused(engine):
    """Finding 3: one captured signature, sent again with other event-data, blacklisted new addresses."""
    _, ids = setup_campaign(engine, ["angry@example.com", "victim@example.com"])
    first = signed("mailgun_complained.json")
    assert len(webhooks.handle(engine, ON, "mailgun", first, {}).applied) == 1
    replay = json.loads(first)
    replay["event-data"]["recipient"] = "victim@example.com"
    replay["event-data"]["message"]["headers"]["to"] = "victim@example.com"
    for body in (first, json.dumps(replay).encode()):
        with pytest.raises(webhooks.WebhookRejected, match="used before"):
            webhooks.handle(engine, ON, "mailgun", body, {})
    assert listed_as(engine, "victim@example.com") is None and event_count(engine) == 1
    assert status_of(engine, ids["victim@example.com"]) == "sent"


@pytest.mark.parametrize("age", [-3600, 901, 86400 * 365])
def test_a_signature_outside_the_time_window_is_refused(engine, age):
    setup_campaign(engine, ["angry@example.com"])
    sig = mailgun_signature(timestamp=int(time.time()) - age)
    body = fixture_text(
        "mailgun_complained.json", TIMESTAMP=sig["timestamp"], TOKEN=sig["token"], SIGNATURE=sig["signature"]
    ).encode()
    with pytest.raises(webhooks.WebhookRejected, match="outside the 900 s window"):
        webhooks.handle(engine, ON, "mailgun", body, {})
    assert listed_as(engine, "angry@example.com") is None and event_count(engine) == 0


def test_the_replay_store_is_shared_by_every_process(engine, db_url):
    """Two processes share the database: a token one of them used is a replay for the other."""
    from sendwell.db.engine import make_engine

    setup_campaign(engine, ["angry@example.com"])
    body = signed("mailgun_complained.json")
    other = make_engine(db_url)  # another pool: as another `sendwell serve` would hold
    try:
        webhooks.handle(other, ON, "mailgun", body, {})
        with pytest.raises(webhooks.WebhookRejected, match="used before"):
            webhooks.handle(engine, ON, "mailgun", body, {})
    finally:
        other.dispose()
    from sendwell.bounces.webhooks import store

    assert store.counts(engine)["mailgun"].replays == 1
