"""Amazon SES through SNS: only SNS-signed messages count; bounces and complaints reach the black list."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sendwell.bounces import webhooks
from sendwell.config import Settings
from sendwell.db.schema import events
from sendwell.keys import app_secret
from sendwell.sending import verp

from .conftest import (
    CERT_URL,
    TOPIC,
    body,
    configured,
    fixture_text,
    listed_as,
    notification,
    setup_campaign,
    status_of,
    two_campaigns,
)

ON = configured(ses_topics=(TOPIC,))


def event_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar_one()


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_permanent_bounce_marks_error_and_blacklists(engine, sns, version):
    settings = ON
    cid, ids = setup_campaign(engine, ["dead@example.com", "ok@example.com"])
    source = verp.bounce_address(app_secret(engine, settings), cid, ids["dead@example.com"], "bounces.example.org")
    message = fixture_text("ses_bounce_permanent.json", SOURCE=source, MESSAGE_ID="<x@example.org>")
    request = sns.sign(notification(message, Subject="Amazon SES Bounce"), version)
    applied = webhooks.handle(
        engine, settings, "ses", body(request), {"x-amz-sns-message-type": "Notification"}, fetch=sns.fetch
    ).applied
    assert [(a.email, a.recipient_id, a.status, a.blacklisted) for a in applied] == [
        ("dead@example.com", ids["dead@example.com"], "error", "hard_bounce")
    ]
    assert status_of(engine, ids["ok@example.com"]) == "sent"
    assert CERT_URL in sns.fetched
    again = webhooks.handle(engine, settings, "ses", body(request), {}, fetch=sns.fetch)
    assert again.replay and again.applied == []  # SNS delivers again: the MessageId is remembered
    assert event_count(engine) == 1


def test_a_bounce_is_the_campaign_whose_message_id_ses_quotes(engine, sns):
    (_, older, ours), (_, newer, _) = two_campaigns(engine, "dead@example.com")
    message = fixture_text("ses_bounce_permanent.json", SOURCE="news@news.example.org", MESSAGE_ID=ours)
    request = sns.sign(notification(message, Subject="Amazon SES Bounce"), "2")
    applied = webhooks.handle(engine, ON, "ses", body(request), {}, fetch=sns.fetch).applied
    assert [(a.recipient_id, a.blacklisted) for a in applied] == [(older, "hard_bounce")]
    assert (status_of(engine, older), status_of(engine, newer)) == ("error", "sent")


@pytest.mark.parametrize("field", ["notificationType", "eventType"])  # identity notifications, event publishing
def test_transient_bounce_is_not_blacklisted_and_complaint_is(engine, sns, field):
    settings = ON
    _, ids = setup_campaign(engine, ["full@example.com", "angry@example.com"])
    for name in ("ses_bounce_transient.json", "ses_complaint.json"):
        request = sns.sign(notification(fixture_text(name).replace('"notificationType"', f'"{field}"')), "2")
        webhooks.handle(engine, settings, "ses", body(request), {}, fetch=sns.fetch)
    assert status_of(engine, ids["full@example.com"]) == "failed"
    assert listed_as(engine, "full@example.com") is None
    assert listed_as(engine, "angry@example.com") == "complaint"


def _forge(request: dict) -> dict:
    return {**request, "Message": request["Message"].replace("dead@example.com", "ceo@example.com")}


@pytest.mark.parametrize(
    "tamper, words",
    [
        (_forge, "does not match"),
        (lambda r: {k: v for k, v in r.items() if k != "Signature"}, "Signature"),
        (lambda r: {**r, "SignatureVersion": "3"}, "SignatureVersion"),
        (lambda r: {**r, "SigningCertURL": CERT_URL.replace("https:", "http:")}, "SigningCertURL"),
        (lambda r: {**r, "SigningCertURL": "https://evil-bucket.s3.amazonaws.com/cert.pem"}, "SigningCertURL"),
        (
            lambda r: {**r, "SigningCertURL": "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem"},
            "SigningCertURL",
        ),
        # finding 10: bucket-style hosts matched the old pattern; the path must be an SNS certificate's too
        (lambda r: {**r, "SigningCertURL": CERT_URL.replace("sns.eu-west-1.", "sns.s3.")}, "SigningCertURL"),
        (lambda r: {**r, "SigningCertURL": CERT_URL.replace("sns.eu-west-1.", "sns.s3-external-1.")}, "SigningCertURL"),
        (lambda r: {**r, "SigningCertURL": CERT_URL.replace(".pem", ".pem?x=1")}, "SigningCertURL"),
        (lambda r: {**r, "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/my-bucket/cert.pem"}, "SigningCertURL"),
        (lambda r: {**r, "SigningCertURL": CERT_URL.replace(".com/", ".com:8443/")}, "SigningCertURL"),
        (lambda r: {**r, "TopicArn": "arn:aws:sns:eu-west-1:999999999999:other"}, "not in"),
    ],
)
def test_unsigned_or_forged_messages_are_refused(engine, sns, tamper, words):
    settings = ON
    setup_campaign(engine, ["dead@example.com", "ceo@example.com"])
    message = fixture_text("ses_bounce_permanent.json", SOURCE="news@news.example.org", MESSAGE_ID="<m@x>")
    request = tamper(sns.sign(notification(message), "1"))
    sns.fetched.clear()
    with pytest.raises(webhooks.WebhookRejected, match=words):
        webhooks.handle(engine, settings, "ses", body(request), {}, fetch=sns.fetch)
    assert event_count(engine) == 0
    assert all(url == CERT_URL for url in sns.fetched)  # nothing fetched from a URL we do not trust


def test_a_certificate_from_someone_else_is_refused(engine, sns):
    from .conftest import SnsSigner

    impostor = SnsSigner()
    request = impostor.sign(notification(fixture_text("ses_complaint.json")), "2")
    with pytest.raises(webhooks.WebhookRejected, match="does not match"):
        webhooks.handle(engine, ON, "ses", body(request), {}, fetch=sns.fetch)


def test_subscription_is_confirmed_only_for_a_listed_topic(engine, sns):
    confirm = sns.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37fb687f5d51e6e2425f004aed5c8d0f5ee9b1c2",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic " + TOPIC,
            "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=23",
            "Timestamp": "2026-11-28T23:00:00.000Z",
        },
        "1",
    )
    sns.fetched.clear()
    other = configured(ses_topics=("arn:aws:sns:eu-west-1:123456789012:another",))
    with pytest.raises(webhooks.WebhookRejected, match=r"not in \[webhook\] ses_topics"):
        webhooks.handle(engine, other, "ses", body(confirm), {}, fetch=sns.fetch)
    assert sns.fetched == []  # a stranger's topic costs no fetch at all
    assert webhooks.handle(engine, ON, "ses", body(confirm), {}, fetch=sns.fetch).applied == []
    assert sns.fetched == [CERT_URL, confirm["SubscribeURL"]]


def test_ses_is_off_until_a_topic_is_listed(engine, sns):
    setup_campaign(engine, ["angry@example.com"])
    request = sns.sign(notification(fixture_text("ses_complaint.json")), "1")
    sns.fetched.clear()
    with pytest.raises(webhooks.WebhookRejected, match=r"not enabled; set \[webhook\] ses_topics"):
        webhooks.handle(engine, Settings(), "ses", body(request), {}, fetch=sns.fetch)
    assert sns.fetched == [] and listed_as(engine, "angry@example.com") is None


def test_the_certificate_is_fetched_once_per_process(engine, sns):
    sns.fetched.clear()
    for name in ("ses_complaint.json", "ses_bounce_transient.json"):
        request = sns.sign(notification(fixture_text(name)), "1")
        webhooks.handle(engine, ON, "ses", body(request), {}, fetch=sns.fetch)
    assert sns.fetched.count(CERT_URL) == 1


def test_a_failed_certificate_fetch_is_remembered_and_not_echoed(engine, sns):
    """Finding 10: the fetch error went back to the caller, and every forged message fetched again."""
    calls = []

    def failing(url: str) -> bytes:
        calls.append(url)
        raise OSError("connect to 10.0.0.7:443: secret internal detail")

    setup_campaign(engine, ["angry@example.com"])
    for _ in range(5):
        request = sns.sign(notification(fixture_text("ses_complaint.json")), "1")
        with pytest.raises(webhooks.WebhookRejected) as caught:
            webhooks.handle(engine, ON, "ses", body(request), {}, fetch=failing)
        assert "secret internal detail" not in str(caught.value) and "10.0.0.7" not in str(caught.value)
    assert calls == [CERT_URL]  # fetched once; the failure is remembered for a minute
    assert listed_as(engine, "angry@example.com") is None and event_count(engine) == 0
