"""POST /webhooks/<provider> through the app: each attack of issue 14 replayed as a request, then proof that
nothing was suppressed and no recipient or daily count changed. The provider's signature (Postmark: basic
auth) is the only credential; off, forged, replayed, oversized and malformed requests get 403, 413 and 400."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from sendwell import blacklist, campaigns, segments
from sendwell.db.engine import utcnow
from sendwell.db.schema import daily_usage, recipients
from sendwell.web import create_app

from .helpers import settings_for

KEY = "key-for-tests-only"
POSTMARK = "hook:s3cret"
JSON = {"Content-Type": "application/json"}
FORGED_SENDGRID = (
    b'[{"event":"spamreport","email":"carol@example.com"},'
    b'{"event":"bounce","email":"bob@example.com","status":"5.1.1"}]'
)


def _settings(db_url: str, **webhook: object):
    s = settings_for(db_url)
    return replace(s, webhook=replace(s.webhook, **webhook))


def _mailgun(key: str, email: str = "angry@example.com", signature: dict | None = None) -> bytes:
    if signature is None:
        timestamp, token = str(int(time.time())), uuid.uuid4().hex
        signature = {
            "timestamp": timestamp,
            "token": token,
            "signature": hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest(),
        }
    return json.dumps(
        {"signature": signature, "event-data": {"event": "complained", "recipient": email, "message": {"headers": {}}}}
    ).encode()


def _sendgrid_keypair() -> tuple[object, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, base64.b64encode(public).decode()


def _sent_campaign(engine, addrs: list[str]) -> dict[str, int]:
    """A campaign whose recipients were all sent: {email: recipient id}; today's counts say so."""
    segments.create(engine, "s")
    segments.add(engine, "s", addrs)
    cid = campaigns.create_campaign(
        engine, name="c", subject="s", from_addr="news@news.example.org", text="t", include=["s"]
    )
    campaigns.start_campaign(engine, cid)
    with engine.begin() as conn:
        conn.execute(update(recipients).values(status="sent", sent_at=utcnow()))
        conn.execute(
            daily_usage.insert().values(
                day=utcnow().strftime("%Y-%m-%d"), limit=1000, sent=len(addrs), address_errors=0, complaints=0
            )
        )
        return {r.email: r.id for r in conn.execute(select(recipients.c.id, recipients.c.email))}


def _state(engine) -> tuple:
    """Everything an accepted forgery would change: the black list, the recipients, the day's counts."""
    with engine.connect() as conn:
        rows = conn.execute(select(recipients.c.email, recipients.c.status).order_by(recipients.c.email)).all()
        usage = conn.execute(select(daily_usage)).all()
    return blacklist.count(engine), [tuple(r) for r in rows], [tuple(u) for u in usage]


def test_unsigned_sendgrid_events_are_refused_by_default(db_url, web_engine) -> None:
    """Finding 1: the curl of the report answered 200, blacklisted carol and bob and moved bob to error."""
    _sent_campaign(web_engine, ["bob@example.com", "carol@example.com"])
    before = _state(web_engine)
    with TestClient(create_app(settings_for(db_url), web_engine)) as client:
        r = client.post("/webhooks/sendgrid", content=FORGED_SENDGRID, headers=JSON)
        assert r.status_code == 403, r.text
        assert r.json()["detail"].startswith("sendgrid webhook: not enabled; set [webhook] sendgrid_key")
        assert "\n" not in r.json()["detail"]
    _, public = _sendgrid_keypair()
    with TestClient(create_app(_settings(db_url, sendgrid_key=public), web_engine)) as client:
        assert client.post("/webhooks/sendgrid", content=FORGED_SENDGRID, headers=JSON).status_code == 403
        attacker, _ = _sendgrid_keypair()  # signed, but by a key that is not the configured one
        ts = str(int(time.time()))
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        sig = base64.b64encode(attacker.sign(ts.encode() + FORGED_SENDGRID, ec.ECDSA(hashes.SHA256()))).decode()
        r = client.post(
            "/webhooks/sendgrid",
            content=FORGED_SENDGRID,
            headers={
                **JSON,
                "X-Twilio-Email-Event-Webhook-Signature": sig,
                "X-Twilio-Email-Event-Webhook-Timestamp": ts,
            },
        )
        assert r.status_code == 403 and "does not match" in r.json()["detail"]
    assert _state(web_engine) == before


def test_every_provider_is_off_until_configured_and_says_so(db_url, web_engine) -> None:
    _sent_campaign(web_engine, ["angry@example.com"])
    before = _state(web_engine)
    with TestClient(create_app(settings_for(db_url), web_engine)) as client:
        for provider, setting in [
            ("sendgrid", "sendgrid_key"),
            ("mailgun", "mailgun_key"),
            ("postmark", "postmark_key"),
            ("ses", "ses_topics"),
        ]:
            r = client.post(f"/webhooks/{provider}", content=_mailgun(KEY), headers=JSON)
            assert r.status_code == 403 and f"set [webhook] {setting}" in r.json()["detail"], r.text
        assert client.post("/webhooks/nosuchprovider", content=b"{}").status_code == 404
    assert _state(web_engine) == before


def test_signed_mailgun_complaint_blacklists_and_forgeries_are_refused(db_url, web_engine) -> None:
    _sent_campaign(web_engine, ["angry@example.com", "victim@example.com"])
    with TestClient(create_app(_settings(db_url, mailgun_key=KEY), web_engine)) as client:
        r = client.post("/webhooks/mailgun", content=_mailgun(KEY), headers=JSON)
        assert r.status_code == 200 and r.json() == {"handled": 1, "ignored": 0} and "set-cookie" not in r.headers
        r = client.post("/webhooks/mailgun", content=_mailgun("key-of-an-attacker", "victim@example.com"))
        assert r.status_code == 403 and "does not match" in r.json()["detail"]
        assert client.post("/webhooks/mailgun", content=b"not json").status_code == 400
    assert blacklist.show(web_engine, "angry@example.com").entry.reason == "complaint"
    assert blacklist.count(web_engine) == 1  # angry only, not the victim


def test_a_replayed_mailgun_signature_with_new_event_data_is_refused(db_url, web_engine) -> None:
    """Finding 3: one old signature with new event-data blacklisted new addresses."""
    ids = _sent_campaign(web_engine, ["angry@example.com", "victim@example.com"])
    with TestClient(create_app(_settings(db_url, mailgun_key=KEY), web_engine)) as client:
        first = _mailgun(KEY)
        assert client.post("/webhooks/mailgun", content=first).json() == {"handled": 1, "ignored": 0}
        captured = json.loads(first)["signature"]
        before = _state(web_engine)
        r = client.post("/webhooks/mailgun", content=_mailgun(KEY, "victim@example.com", captured))
        assert r.status_code == 403 and "used before" in r.json()["detail"]
        old = {"timestamp": "1795911070", "token": "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"}
        old["signature"] = hmac.new(KEY.encode(), (old["timestamp"] + old["token"]).encode(), "sha256").hexdigest()
        r = client.post("/webhooks/mailgun", content=_mailgun(KEY, "victim@example.com", old))
        assert r.status_code == 403 and "window" in r.json()["detail"]
    assert _state(web_engine) == before and blacklist.count(web_engine) == 1  # angry only
    assert ids  # the victim is a real recipient: only the replay defence stood in the way


def test_events_about_addresses_never_mailed_are_ignored(db_url, web_engine) -> None:
    _sent_campaign(web_engine, ["angry@example.com"])
    before = _state(web_engine)
    with TestClient(create_app(_settings(db_url, mailgun_key=KEY), web_engine)) as client:
        r = client.post("/webhooks/mailgun", content=_mailgun(KEY, "stranger@example.com"))
        assert r.status_code == 200 and r.json() == {"handled": 0, "ignored": 1}
    assert _state(web_engine) == before


@pytest.mark.parametrize("provider", ["mailgun", "ses", "sendgrid", "postmark"])
def test_big_bodies_are_refused_before_they_are_read(db_url, web_engine, provider) -> None:
    """Finding 2: a 50 MB JSON array took the server to 1.7 GB. Now: 413 from Content-Length, or as soon as a
    streamed body passes the provider's cap; the test process grows by well under the body's size."""
    from sendwell.bounces.webhooks import max_body

    settings = _settings(
        db_url,
        mailgun_key=KEY,
        ses_topics=("arn:aws:sns:eu-west-1:1:t",),
        postmark_key=POSTMARK,
        sendgrid_key=_sendgrid_keypair()[1],
    )
    auth = {"Authorization": "Basic " + base64.b64encode(POSTMARK.encode()).decode()}
    chunk = b"[" + b"1," * (512 * 1024)  # 1 MB of a JSON array, 50 times: never all in memory at once
    sent = 0

    def stream():
        nonlocal sent
        for _ in range(50):
            sent += len(chunk)
            yield chunk

    with TestClient(create_app(settings, web_engine, max_upload=100 * 1024 * 1024)) as client:
        r = client.post(f"/webhooks/{provider}", content=b"[" * (max_body(provider) + 1), headers=auth)
        assert r.status_code == 413 and "over" in r.json()["detail"]
        r = client.post(f"/webhooks/{provider}", content=stream(), headers=auth)  # chunked, no Content-Length
        assert r.status_code == 413, r.text
    assert blacklist.count(web_engine) == 0


@pytest.mark.parametrize("provider", ["mailgun", "ses", "sendgrid", "postmark"])
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"\xff\xfe{}",
        b"1" * 10_000,
        b'{"signature": {"timestamp": [], "token": {}}}',
        b'"\\ud800"',
    ],
)
def test_malformed_bodies_are_400_with_one_line(db_url, web_engine, provider, body) -> None:
    """Finding 7: '[' * 200000 gave an unauthenticated 500 (RecursionError)."""
    settings = _settings(
        db_url,
        mailgun_key=KEY,
        ses_topics=("arn:aws:sns:eu-west-1:1:t",),
        postmark_key=POSTMARK,
        sendgrid_key=_sendgrid_keypair()[1],
    )
    auth = {"Authorization": "Basic " + base64.b64encode(POSTMARK.encode()).decode()}
    with TestClient(create_app(settings, web_engine, max_upload=1024 * 1024)) as client:
        r = client.post(f"/webhooks/{provider}", content=body, headers=auth)
    assert r.status_code in (400, 403), r.text  # SendGrid: unsigned, refused before the body is parsed
    assert r.json()["detail"].startswith(f"{provider} webhook:") and "\n" not in r.json()["detail"]


def test_postmark_needs_its_basic_auth(db_url, web_engine) -> None:
    _sent_campaign(web_engine, ["spam@example.com"])
    body = json.dumps({"RecordType": "SpamComplaint", "Email": "spam@example.com", "Type": "SpamComplaint"}).encode()
    with TestClient(create_app(settings_for(db_url), web_engine)) as client:
        r = client.post("/webhooks/postmark", content=body)
        assert r.status_code == 403 and "[webhook] postmark_key" in r.json()["detail"]
    with TestClient(create_app(_settings(db_url, postmark_key=POSTMARK), web_engine)) as client:
        wrong = base64.b64encode(b"hook:guess").decode()
        r = client.post("/webhooks/postmark", content=body, headers={"Authorization": f"Basic {wrong}"})
        assert r.status_code == 403 and blacklist.count(web_engine) == 0
        right = base64.b64encode(POSTMARK.encode()).decode()
        r = client.post("/webhooks/postmark", content=body, headers={"Authorization": f"Basic {right}"})
        assert r.status_code == 200 and r.json() == {"handled": 1, "ignored": 0}
    assert blacklist.show(web_engine, "spam@example.com").entry.reason == "complaint"


def test_postmark_key_from_the_environment_goes_through_settings(db_url, web_engine) -> None:
    """Issue 15 item 4: SENDWELL_WEBHOOK_POSTMARK_KEY works, read once by config.py into the Settings."""
    from sendwell.config import load_settings

    settings = load_settings(env={"SENDWELL_WEBHOOK_POSTMARK_KEY": POSTMARK}, database_url=db_url)
    body = json.dumps({"RecordType": "SpamComplaint", "Email": "spam@example.com"}).encode()
    right = base64.b64encode(POSTMARK.encode()).decode()
    with TestClient(create_app(settings, web_engine)) as client:
        r = client.post("/webhooks/postmark", content=body, headers={"Authorization": f"Basic {right}"})
    assert r.status_code == 200, r.text


def test_cli_status_and_settings_page_say_which_providers_are_on(db_url, web_engine) -> None:
    from typer.testing import CliRunner

    from sendwell.auth import create_user
    from sendwell.cli.app import app as cli_app

    from .helpers import PASSWORD, UI

    _sent_campaign(web_engine, ["angry@example.com"])
    create_user(web_engine, "admin", PASSWORD)
    with TestClient(create_app(_settings(db_url, mailgun_key=KEY), web_engine)) as client:
        assert client.post("/webhooks/mailgun", content=_mailgun(KEY)).json()["handled"] == 1
        assert client.post("/webhooks/mailgun", content=_mailgun(KEY, "stranger@example.com")).json()["ignored"] == 1
        page = UI(client)
        page.login()
        html = page.get("/settings").text
    row = {p: html.split(f'data-provider="{p}"')[1].split("</tr>")[0] for p in ("mailgun", "sendgrid", "ses")}
    assert "<strong>on</strong>" in row["mailgun"]
    assert '<td class="num">1</td><td class="num">1</td><td class="num">0</td>' in row["mailgun"]  # events, ignored
    assert "<strong>on</strong>" not in row["sendgrid"] and "[webhook] sendgrid_key" in row["sendgrid"]
    r = CliRunner().invoke(
        cli_app, ["--database", db_url, "webhooks", "status", "--json"], env={"SENDWELL_WEBHOOK_MAILGUN_KEY": KEY}
    )
    assert r.exit_code == 0, r.output
    status = {s["provider"]: s for s in json.loads(r.stdout)}
    assert status["mailgun"]["on"] and not status["sendgrid"]["on"] and not status["ses"]["on"]
    assert (status["mailgun"]["events"], status["mailgun"]["ignored"]) == (1, 1)
    r = CliRunner().invoke(cli_app, ["--database", db_url, "webhooks", "status"])
    assert r.exit_code == 0 and "every request to /webhooks/* is refused" in r.stdout
