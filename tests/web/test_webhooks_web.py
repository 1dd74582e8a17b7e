"""POST /webhooks/<provider> through the app: the provider's signature (or Postmark's basic auth) is the only
credential; forged, malformed and unknown requests get 403, 400 and 404."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace

from fastapi.testclient import TestClient

from sendwell import blacklist
from sendwell.web import create_app

from .helpers import settings_for

KEY = "key-for-tests-only"


def _mailgun(key: str, email: str = "angry@example.com") -> bytes:
    timestamp, token = "1795911070", "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps({"signature": {"timestamp": timestamp, "token": token, "signature": signature},
                       "event-data": {"event": "complained", "recipient": email, "message": {"headers": {}}}}).encode()


def test_signed_mailgun_complaint_blacklists_and_forgeries_are_refused(db_url, web_engine) -> None:  # noqa: ANN001
    settings = settings_for(db_url)
    settings = replace(settings, webhook=replace(settings.webhook, mailgun_key=KEY))  # [webhook] mailgun_key
    with TestClient(create_app(settings, web_engine)) as client:
        r = client.post("/webhooks/mailgun", content=_mailgun(KEY), headers={"Content-Type": "application/json"})
        assert r.status_code == 200 and r.json() == {"handled": 1} and "set-cookie" not in r.headers, r.text
        assert client.post("/webhooks/mailgun", content=_mailgun(KEY)).json() == {"handled": 1}  # a retry
        r = client.post("/webhooks/mailgun", content=_mailgun("key-of-an-attacker", "victim@example.com"))
        assert r.status_code == 403 and "does not match" in r.json()["detail"]
        assert client.post("/webhooks/mailgun", content=b"not json").status_code == 400
        assert client.post("/webhooks/nosuchprovider", content=b"{}").status_code == 404
    assert blacklist.show(web_engine, "angry@example.com")["entry"]["reason"] == "complaint"
    assert len(blacklist.show(web_engine, "angry@example.com")["events"]) == 1  # the retry was recorded once
    assert blacklist.count(web_engine) == 1


def test_postmark_needs_its_basic_auth(app, web_engine, monkeypatch) -> None:  # noqa: ANN001
    body = json.dumps({"RecordType": "SpamComplaint", "Email": "spam@example.com", "Type": "SpamComplaint"}).encode()
    with TestClient(app) as client:
        r = client.post("/webhooks/postmark", content=body)
        assert r.status_code == 403 and "SENDWELL_WEBHOOK_POSTMARK_KEY" in r.json()["detail"]
        monkeypatch.setenv("SENDWELL_WEBHOOK_POSTMARK_KEY", "hook:s3cret")
        wrong = base64.b64encode(b"hook:guess").decode()
        r = client.post("/webhooks/postmark", content=body, headers={"Authorization": f"Basic {wrong}"})
        assert r.status_code == 403
        right = base64.b64encode(b"hook:s3cret").decode()
        r = client.post("/webhooks/postmark", content=body, headers={"Authorization": f"Basic {right}"})
        assert r.status_code == 200 and r.json() == {"handled": 1}
    assert blacklist.show(web_engine, "spam@example.com")["entry"]["reason"] == "complaint"
