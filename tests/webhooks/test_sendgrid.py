"""SendGrid's Signed Event Webhook: each event kind lands where it should; nothing is accepted without a key and a
valid signature (issue 14, finding 1)."""

from __future__ import annotations

import base64

import pytest

from sendwell.bounces import webhooks
from sendwell.config import Settings

from .conftest import configured, fixture_text, listed_as, setup_campaign, status_of, two_campaigns

ADDRS = [
    "ok@example.com",
    "dead@example.com",
    "policy@example.com",
    "was-bounced@example.com",
    "left@example.com",
    "angry@example.com",
    "bye@example.com",
    "group@example.com",
    "slow@example.com",
]


def payload(dead: str = "<dead.1@news.example.org>") -> bytes:
    return fixture_text("sendgrid_events.json", MSGID_OK="ok.1@news.example.org", MSGID_DEAD=dead).encode()


def keypair() -> tuple[object, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, base64.b64encode(public).decode()  # the form SendGrid's settings page shows


def signed_headers(key, raw: bytes, timestamp: str = "1795910200") -> dict[str, str]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    signature = key.sign(timestamp.encode() + raw, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def test_a_bounce_is_the_campaign_whose_message_id_sendgrid_quotes(engine):
    (_, older, ours), (_, newer, _) = two_campaigns(engine, "dead@example.com")
    key, public = keypair()
    raw = payload(dead=ours)  # SendGrid's smtp-id: the Message-ID it was given
    applied = webhooks.handle(
        engine, configured(sendgrid_key=public), "sendgrid", raw, signed_headers(key, raw)
    ).applied
    assert [(a.recipient_id, a.blacklisted) for a in applied if a.email == "dead@example.com"] == [
        (older, "hard_bounce")
    ]
    assert (status_of(engine, older), status_of(engine, newer)) == ("error", "sent")


def test_each_event_kind_is_recorded_as_what_it_means(engine):
    _, ids = setup_campaign(engine, ADDRS)
    key, public = keypair()
    raw = payload()
    outcome = webhooks.handle(engine, configured(sendgrid_key=public), "sendgrid", raw, signed_headers(key, raw))
    applied = outcome.applied
    assert sorted(a.email for a in applied) == sorted(
        [
            "dead@example.com",
            "policy@example.com",
            "was-bounced@example.com",
            "left@example.com",
            "angry@example.com",
            "bye@example.com",
            "group@example.com",
        ]
    )
    assert status_of(engine, ids["dead@example.com"]) == "error"
    assert listed_as(engine, "dead@example.com") == "hard_bounce"
    assert status_of(engine, ids["policy@example.com"]) == "failed"  # refused for our reputation: not the address
    assert listed_as(engine, "policy@example.com") is None
    assert listed_as(engine, "left@example.com") == "unsubscribe"
    assert listed_as(engine, "bye@example.com") == "unsubscribe"
    assert listed_as(engine, "group@example.com") == "unsubscribe"
    assert listed_as(engine, "angry@example.com") == "complaint"
    assert status_of(engine, ids["ok@example.com"]) == "sent" and status_of(engine, ids["slow@example.com"]) == "sent"


def test_forged_or_unsigned_batches_are_refused(engine):
    key, public = keypair()
    settings = configured(sendgrid_key=public)
    raw = payload()
    headers = signed_headers(key, raw)
    forged = raw.replace(b"angry@example.com", b"ceo@example.com")
    with pytest.raises(webhooks.WebhookRejected, match="does not match"):
        webhooks.handle(engine, settings, "sendgrid", forged, headers)
    with pytest.raises(webhooks.WebhookRejected, match="unsigned"):
        webhooks.handle(engine, settings, "sendgrid", raw, {})
    other, _ = keypair()
    with pytest.raises(webhooks.WebhookRejected, match="does not match"):
        webhooks.handle(engine, settings, "sendgrid", raw, signed_headers(other, raw))
    with pytest.raises(webhooks.WebhookRejected, match="does not match"):  # replayed with a new timestamp
        webhooks.handle(
            engine, settings, "sendgrid", raw, {**headers, "X-Twilio-Email-Event-Webhook-Timestamp": "1795999999"}
        )
    with pytest.raises(webhooks.WebhookRejected, match="not a public key"):
        webhooks.handle(engine, configured(sendgrid_key="abc"), "sendgrid", raw, headers)


def test_without_a_key_nothing_is_accepted_not_even_a_valid_signature(engine):
    """Finding 1: unsigned SendGrid events were accepted by default and blacklisted anyone."""
    _, ids = setup_campaign(engine, ["angry@example.com", "dead@example.com"])
    key, _ = keypair()
    raw = payload()
    for headers in ({}, signed_headers(key, raw)):
        with pytest.raises(webhooks.WebhookRejected, match=r"not enabled; set \[webhook\] sendgrid_key"):
            webhooks.handle(engine, Settings(), "sendgrid", raw, headers)
    assert listed_as(engine, "angry@example.com") is None and listed_as(engine, "dead@example.com") is None
    assert status_of(engine, ids["dead@example.com"]) == "sent"
