"""Postmark: Bounce types map to the same reasons as mailed bounces; complaints and unsubscribes suppress."""

from __future__ import annotations

import json

import pytest

from sendwell.bounces import webhooks
from sendwell.config import Settings

from .conftest import POSTMARK_AUTH, configured, fixture_text, listed_as, postmark_headers, setup_campaign, status_of

ON = configured(postmark_key=POSTMARK_AUTH)


def record(name: str, **changes) -> bytes:
    return json.dumps({**json.loads(fixture_text(name)), **changes}).encode()


def test_hard_bounce_marks_error_and_blacklists(engine):
    _, ids = setup_campaign(engine, ["dead@example.com"])
    applied = webhooks.handle(engine, ON, "postmark", record("postmark_bounce.json"), postmark_headers()).applied
    assert applied[0].status == "error" and applied[0].blacklisted == "hard_bounce"
    assert status_of(engine, ids["dead@example.com"]) == "error"


@pytest.mark.parametrize(
    "changes, status, listed",
    [
        ({"Type": "SoftBounce", "TypeCode": 4096, "Details": "smtp;452 4.2.2 Mailbox full"}, "failed", None),
        (
            {"Type": "HardBounce", "Details": "smtp;550 5.7.1 Message rejected as spam by Content Filtering."},
            "failed",
            None,
        ),  # a HardBounce for spam content is the message's fault, not the address's
        ({"Type": "Blocked", "TypeCode": 100006, "Details": "ISP block"}, "failed", None),
        ({"Type": "AutoResponder", "TypeCode": 64, "Details": "I am on vacation"}, "sent", None),
        ({"Type": "Unsubscribe", "TypeCode": 16, "Details": ""}, "sent", "unsubscribe"),
    ],
)
def test_bounce_types(engine, changes, status, listed):
    _, ids = setup_campaign(engine, ["dead@example.com"])
    webhooks.handle(engine, ON, "postmark", record("postmark_bounce.json", **changes), postmark_headers())
    assert status_of(engine, ids["dead@example.com"]) == status
    assert listed_as(engine, "dead@example.com") == listed


def test_spam_complaint_and_subscription_change(engine):
    setup_campaign(engine, ["angry@example.com", "bye@example.com"])
    webhooks.handle(engine, ON, "postmark", record("postmark_spam_complaint.json"), postmark_headers())
    webhooks.handle(engine, ON, "postmark", record("postmark_subscription_change.json"), postmark_headers())
    assert listed_as(engine, "angry@example.com") == "complaint"
    assert listed_as(engine, "bye@example.com") == "unsubscribe"


def test_reactivation_changes_nothing(engine):
    setup_campaign(engine, ["bye@example.com"])
    raw = record("postmark_subscription_change.json", SuppressSending=False, SuppressionReason=None)
    assert webhooks.handle(engine, ON, "postmark", raw, postmark_headers()).applied == []
    assert listed_as(engine, "bye@example.com") is None


@pytest.mark.parametrize(
    "settings, headers, words",
    [
        (Settings(), postmark_headers(), r"not enabled; set \[webhook\] postmark_key"),
        (ON, {}, "missing or wrong basic-auth"),
        (ON, postmark_headers("hook:guess"), "missing or wrong basic-auth"),
        (ON, {"Authorization": "Basic ###"}, "missing or wrong basic-auth"),
    ],
)
def test_without_the_basic_auth_nothing_changes(engine, settings, headers, words):
    _, ids = setup_campaign(engine, ["dead@example.com"])
    with pytest.raises(webhooks.WebhookRejected, match=words):
        webhooks.handle(engine, settings, "postmark", record("postmark_bounce.json"), headers)
    assert status_of(engine, ids["dead@example.com"]) == "sent" and listed_as(engine, "dead@example.com") is None
