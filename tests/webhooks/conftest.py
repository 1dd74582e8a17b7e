"""Webhook test helpers: fixture payloads, a self-made SNS signing certificate, a campaign to match against."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sendwell.config import Settings
from sendwell.db.schema import recipients

from factories import sent_campaign, two_sent_campaigns

FIXTURES = Path(__file__).parent / "fixtures"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"


MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
POSTMARK_AUTH = "hook:s3cret-for-tests"


def configured(**webhook: object) -> Settings:
    """Settings with these [webhook] keys filled in (a provider is off until its key is)."""
    s = Settings()
    return replace(s, webhook=replace(s.webhook, **webhook))


def mailgun_signature(key: str = MAILGUN_KEY, timestamp: int | None = None, token: str | None = None) -> dict:
    """A fresh signature as Mailgun makes them: now, with a token never used before."""
    ts, tok = str(int(time.time()) if timestamp is None else timestamp), token or uuid.uuid4().hex * 2
    return {
        "timestamp": ts,
        "token": tok,
        "signature": hmac.new(key.encode(), (ts + tok).encode(), hashlib.sha256).hexdigest(),
    }


def postmark_headers(credentials: str = POSTMARK_AUTH) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def fixture_text(name: str, **fill: str) -> str:
    text = (FIXTURES / name).read_text()
    for key, value in fill.items():
        text = text.replace("{{" + key + "}}", value)
    return text


class SnsSigner:
    """Plays Amazon SNS: a private key and its certificate, served by an offline fetcher."""

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = cert.public_bytes(serialization.Encoding.PEM)
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        if url == CERT_URL:
            return self.pem
        return b"<ConfirmSubscriptionResponse/>"

    def sign(self, message: dict, version: str = "1") -> dict:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        from sendwell.bounces.webhooks.ses import string_to_sign

        message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        message["Signature"] = base64.b64encode(
            self.key.sign(string_to_sign(message), padding.PKCS1v15(), digest)
        ).decode()
        return message


@pytest.fixture(scope="session")
def sns() -> SnsSigner:
    return SnsSigner()


@pytest.fixture(autouse=True)
def fresh_certificate_cache() -> None:
    from sendwell.bounces.webhooks.ses import CERTIFICATES

    CERTIFICATES.clear()


def notification(ses_message: str, **extra: str) -> dict:
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Message": ses_message,
        "Timestamp": "2026-11-28T23:51:10.123Z",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + TOPIC,
        **extra,
    }


def body(doc: object) -> bytes:
    return json.dumps(doc).encode()


def setup_campaign(engine, addrs: list[str]):
    """A started campaign from the webhooks' sending domain, all sent five minutes ago; {email: recipient id}."""
    return sent_campaign(engine, addrs, from_addr="news@news.example.org")


def two_campaigns(engine, address: str) -> list[tuple[int, int, str]]:
    """Two campaigns from the webhooks' sending domain sent to `address`, oldest first (factories.two_sent_campaigns):
    a provider's report quoting the first's Message-ID is the first's, though the address alone names the second."""
    return two_sent_campaigns(engine, address, from_addr="news@news.example.org")


def status_of(engine, rid: int) -> str:
    with engine.connect() as conn:
        return conn.execute(select(recipients.c.status).where(recipients.c.id == rid)).scalar_one()


def listed_as(engine, email: str) -> str | None:
    """The black-list reason for an address, or None when it is not listed."""
    from sendwell.blacklist import show
    from sendwell.errors import NotFound

    try:
        entry = show(engine, email).entry
    except NotFound:
        return None
    return entry.reason if entry else None
