"""Mailgun: HMAC-signed event-data; permanent failures blacklist, temporary ones only score."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sendwell.bounces import webhooks
from sendwell.config import Settings

from .conftest import fixture_text, listed_as, setup_campaign, status_of

KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
ENV = {"SENDWELL_WEBHOOK_MAILGUN_KEY": KEY}


def signed(name: str, key: str = KEY, **fill: str) -> bytes:
    timestamp, token = "1795911070", "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return fixture_text(name, TIMESTAMP=timestamp, TOKEN=token, SIGNATURE=signature, **fill).encode()


def test_permanent_failure_matched_by_message_id_blacklists(engine):
    _, ids = setup_campaign(engine, ["dead@example.com"], {"dead@example.com": "<20261128.9.X@mg.example.org>"})
    applied = webhooks.handle(engine, Settings(), "mailgun",
                              signed("mailgun_failed_permanent.json", MESSAGE_ID="20261128.9.X@mg.example.org"), {},
                              env=ENV)
    assert applied[0].recipient_id == ids["dead@example.com"] and applied[0].blacklisted == "hard_bounce"
    assert status_of(engine, ids["dead@example.com"]) == "error"


def test_temporary_failure_complaint_and_unsubscribe(engine):
    _, ids = setup_campaign(engine, ["full@example.com", "angry@example.com", "bye@example.com"])
    for name in ("mailgun_failed_temporary.json", "mailgun_complained.json", "mailgun_unsubscribed.json"):
        webhooks.handle(engine, Settings(), "mailgun", signed(name), {}, env=ENV)
    assert status_of(engine, ids["full@example.com"]) == "failed"
    assert listed_as(engine, "full@example.com") is None
    assert listed_as(engine, "angry@example.com") == "complaint"
    assert listed_as(engine, "bye@example.com") == "unsubscribe"


def test_wrong_key_forgery_and_missing_key_are_refused(engine):
    setup_campaign(engine, ["angry@example.com"])
    with pytest.raises(webhooks.WebhookRejected, match="does not match"):
        webhooks.handle(engine, Settings(), "mailgun", signed("mailgun_complained.json", key="key-other"), {}, env=ENV)
    forged = signed("mailgun_complained.json").replace(b'"1795911070"', b'"1795911071"')
    with pytest.raises(webhooks.WebhookRejected, match="does not match"):
        webhooks.handle(engine, Settings(), "mailgun", forged, {}, env=ENV)
    with pytest.raises(webhooks.WebhookRejected, match="SENDWELL_WEBHOOK_MAILGUN_KEY"):
        webhooks.handle(engine, Settings(), "mailgun", signed("mailgun_complained.json"), {}, env={})
    assert listed_as(engine, "angry@example.com") is None
