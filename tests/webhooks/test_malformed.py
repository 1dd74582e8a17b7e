"""Whatever arrives at a webhook URL, the answer is a list of reports or one clear WebhookError: never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendwell.bounces import webhooks

from .conftest import MAILGUN_KEY, POSTMARK_AUTH, TOPIC, configured, postmark_headers

ALL_ON = configured(
    mailgun_key=MAILGUN_KEY,
    postmark_key=POSTMARK_AUTH,
    ses_topics=(TOPIC,),
    sendgrid_key="MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + "A" * 88,
)

BODIES = [
    b"",
    b"{",
    b"\xff\xfe",
    b"null",
    b"42",
    b'"text"',
    b"[]",
    b"{}",
    b"[1, null, {}]",
    b'{"Type": "Notification"}',
    b'{"RecordType": 7}',
    b'{"signature": "x", "event-data": []}',
    b"[" * 200_000,
    b'{"a":' * 100_000,
    b"1" * 5000,
    b'{"Type": ["Notification"]}',
    b'{"signature": {"timestamp": true, "token": [], "signature": {}}}',
    b'"\\ud800"',
    '{"RecordType": "Bounce", "Type": "HardBounce", "Email": "a@b.c"}'.encode("utf-16"),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "event",
                    "email",
                    "status",
                    "reason",
                    "type",
                    "RecordType",
                    "Type",
                    "Email",
                    "Details",
                    "SuppressSending",
                    "SuppressionReason",
                    "Recipient",
                    "smtp-id",
                    "x",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@pytest.mark.parametrize("provider", sorted(webhooks.PROVIDERS))
@pytest.mark.parametrize("raw", BODIES)
def test_malformed_bodies_give_one_clear_error(provider, raw):
    try:
        result = webhooks.parse(provider, raw, postmark_headers(), ALL_ON, fetch=_no_fetch)
    except webhooks.WebhookError as err:
        assert str(err).startswith(f"{provider} webhook:") and "\n" not in str(err)
    else:
        assert result == []


# Events of a known kind with odd fields beside them: random shapes alone never make a report to check.
near_events = st.fixed_dictionaries(
    {
        "event": st.sampled_from(["bounce", "dropped", "spamreport", "unsubscribe"]),
        "email": st.sampled_from(["kim@example.org", "Kim <ann@example.net>", "KIM@Example.ORG ", ""])
        | st.text(max_size=20),
    },
    optional={"status": json_values, "reason": json_values, "type": json_values, "smtp-id": json_values},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(json_values | near_events, max_size=5), provider=st.sampled_from(["sendgrid", "postmark"]))
def test_any_json_shape_is_parsed_or_refused_cleanly(events, provider):
    doc = events if provider == "sendgrid" else (events[0] if events else {})
    if provider == "postmark" and isinstance(doc, dict):
        doc = {"RecordType": "Bounce", **doc}
    try:
        if provider == "sendgrid":  # past its signature check: the content is trusted to be SendGrid's, not sane
            reports = webhooks.sendgrid.reports(doc)
        else:
            reports = webhooks.parse(provider, json.dumps(doc).encode(), postmark_headers(), ALL_ON, fetch=_no_fetch)
    except webhooks.MalformedPayload:
        return
    sent = json.dumps(doc, ensure_ascii=False).lower()
    for r in reports:  # nobody is blamed who is not named in the payload
        assert "@" in r.email and r.email.lower() in sent


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=json_values, wrap=st.sampled_from(["bounce", "complaint", "mail", None]))
def test_any_signed_ses_or_mailgun_content_is_parsed_or_refused_cleanly(doc, wrap):
    """Past the signature check the content is trusted to be the provider's, not to be well-formed."""
    from sendwell.bounces.webhooks import mailgun, ses

    ses_doc = {"notificationType": (wrap or "bounce").title(), **({wrap: doc} if wrap else {})}
    for call in (
        lambda: ses.reports(json.dumps(ses_doc)),
        lambda: ses.reports(json.dumps(doc)),
        lambda: mailgun._one(doc if isinstance(doc, dict) else {"event": "failed", "recipient": doc}),
    ):
        try:
            reports = call()
        except webhooks.MalformedPayload:
            continue
        reports = reports if isinstance(reports, list) else [reports] if reports else []
        assert all("@" in r.email for r in reports)


def test_unknown_provider():
    with pytest.raises(webhooks.UnknownProvider, match="known: mailgun, postmark, sendgrid, ses"):
        webhooks.parse("mandrill", b"[]", {}, ALL_ON)


def _no_fetch(url: str) -> bytes:
    raise AssertionError(f"nothing should be fetched for a malformed body ({url})")
