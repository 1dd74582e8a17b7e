"""Amazon SES notifications through SNS: signature check (SignatureVersion 1 and 2), subscription, bounces, complaints.

Refused until [webhook] ses_topics lists the SNS topic ARN(s) that publish the SES notifications. The
checks that cost nothing run first (the message's shape, its topic in that list, the signature's
form, the certificate URL on sns.<region>.amazonaws.com[.cn] with an SNS certificate's path: an S3
bucket is on amazonaws.com too, and anyone can fill one); only then is the signing certificate
fetched, once per process, a failure remembered for a minute and never echoed to the caller. A
subscription to a listed topic is confirmed automatically. SNS delivers a message more than once at
times: its MessageId is remembered, and a repeat is acknowledged without acting again.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sendwell.bounces.report import Reason
from sendwell.bounces.webhooks.report import (
    EventKind,
    Fetcher,
    MalformedPayload,
    Report,
    Verified,
    WebhookRejected,
    angle,
    bounce,
    load_json,
    obj,
    suppression,
)
from sendwell.config import WebhookSettings

log = logging.getLogger(__name__)
PROVIDER = "ses"
MAX_BODY = 1024 * 1024  # an SNS message is at most 256 KB, escaped once more inside the envelope
# sns.<region>.amazonaws.com: a region is letters-letters-digit (us-east-1, us-gov-west-1, cn-north-1), so
# no bucket host (sns.s3.amazonaws.com, sns.s3-external-1.amazonaws.com) matches
_SNS_HOST = re.compile(r"sns\.[a-z]{2}(-[a-z]+)+-\d{1,2}\.amazonaws\.com(\.cn)?")
_CERT_PATH = re.compile(r"/SimpleNotificationService-[A-Za-z0-9]{1,64}\.pem")
CERT_FAILURE_SECONDS = 60.0  # a certificate that could not be fetched is not asked for again this soon
# The fields SNS signs, in this order, per message type (absent optional fields are skipped).
SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
HASHES = {"1": "sha1", "2": "sha256"}  # SignatureVersion → digest
# (bounceType, bounceSubType) → the reason when the remote server's status and words say nothing.
SUBTYPES: dict[tuple[str, str], Reason] = {
    ("permanent", "general"): Reason.USERUNKNOWN,  # SES: "remove the recipient's address from your list"
    ("permanent", "noemail"): Reason.USERUNKNOWN,
    ("permanent", "suppressed"): Reason.SUPPRESSED,
    ("permanent", "onaccountsuppressionlist"): Reason.SUPPRESSED,
    ("transient", "mailboxfull"): Reason.MAILBOXFULL,
    ("transient", "messagetoolarge"): Reason.MESGTOOBIG,
    ("transient", "contentrejected"): Reason.CONTENTERROR,
    ("transient", "attachmentrejected"): Reason.CONTENTERROR,
    ("undetermined", "undetermined"): Reason.UNDEFINED,
}


def sns_url_ok(url: str, *, certificate: bool = False) -> bool:
    """https on an SNS endpoint host, nothing else (no port, no credentials); a certificate's path too."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and _SNS_HOST.fullmatch(parts.hostname or "") is not None
        and port is None
        and not parts.username
        and not parts.password
        and (not certificate or (_CERT_PATH.fullmatch(parts.path) is not None and not parts.query))
    )


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    fields = SIGNED_FIELDS[str(message["Type"])]
    return "".join(f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None).encode()


def verify(message: Mapping[str, Any], fetch: Fetcher, now: datetime | None = None) -> None:
    """Raise WebhookRejected unless SNS signed this message; the certificate is fetched last."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    version = message.get("SignatureVersion")
    if not isinstance(version, str) or version not in HASHES:
        raise WebhookRejected("ses webhook: unsigned or unknown SignatureVersion; refused")
    cert_url = message.get("SigningCertURL") or message.get("SigningCertUrl")
    if not isinstance(cert_url, str) or not sns_url_ok(cert_url, certificate=True):
        raise WebhookRejected(
            "ses webhook: the SigningCertURL is not an SNS certificate on an https "
            "sns.<region>.amazonaws.com host; refused"
        )
    try:
        signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
    except ValueError:
        signature = b""
    if not 128 <= len(signature) <= 1024:  # an RSA signature of 1024 to 8192 bits
        raise WebhookRejected("ses webhook: the Signature is missing or not base64; refused")
    cert = CERTIFICATES.get(fetch, cert_url)
    moment = now or datetime.now(UTC)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise WebhookRejected("ses webhook: the SNS signing certificate has expired or is not yet valid; refused")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookRejected("ses webhook: the signing certificate does not hold an RSA key; refused")
    digest = hashes.SHA1() if HASHES[version] == "sha1" else hashes.SHA256()  # SNS's v1 is SHA1
    try:
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), digest)
    except InvalidSignature:
        raise WebhookRejected("ses webhook: the SNS signature does not match the message; refused") from None


class CertificateCache:
    """SNS signs with few certificates: each is fetched once per process and kept (its validity is checked
    at every use); a failure is kept CERT_FAILURE_SECONDS, so a flood of forged messages cannot make us
    fetch again and again. The fetch error goes to the log, not to the caller."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._lock = threading.Lock()  # one fetch at a time: concurrent first requests wait for it
        self._good: dict[tuple[Fetcher, str], Any] = {}
        self._failed: dict[tuple[Fetcher, str], float] = {}

    def get(self, fetch: Fetcher, url: str) -> Any:
        from cryptography import x509

        key = (fetch, url)
        with self._lock:
            if key in self._good:
                return self._good[key]
            if self._failed.get(key, 0.0) > time.monotonic():
                raise WebhookRejected(
                    "ses webhook: the SNS signing certificate is unavailable (failed recently); refused"
                )
            try:
                cert = x509.load_pem_x509_certificate(fetch(url))
            except Exception as err:  # network or a bad certificate: either way, not proven
                log.warning("ses webhook: cannot get the signing certificate %s: %s", url, err)
                if len(self._failed) >= self.size:
                    self._failed.clear()
                self._failed[key] = time.monotonic() + CERT_FAILURE_SECONDS
                raise WebhookRejected("ses webhook: the SNS signing certificate is unavailable; refused") from None
            if len(self._good) >= self.size:
                self._good.pop(next(iter(self._good)))
            self._good[key] = cert
            return cert

    def clear(self) -> None:
        with self._lock:
            self._good.clear()
            self._failed.clear()


CERTIFICATES = CertificateCache()


def authenticate(
    body: bytes, headers: Mapping[str, str], config: WebhookSettings, fetch: Fetcher, now: float
) -> Verified:
    message = load_json(body, PROVIDER)
    kind = message.get("Type") if isinstance(message, dict) else None
    if not isinstance(kind, str) or kind not in SIGNED_FIELDS:
        raise MalformedPayload("ses webhook: not an SNS message (no Type Notification or SubscriptionConfirmation)")
    missing = [f for f in SIGNED_FIELDS[kind] if f != "Subject" and not isinstance(message.get(f), str)]
    if message.get("Subject") is not None and not isinstance(message.get("Subject"), str):
        missing.append("Subject")
    if missing:
        raise MalformedPayload(f"ses webhook: SNS {kind} without {', '.join(missing)}")
    topic = message["TopicArn"]
    allowed = {t.strip() for t in config.ses_topics if t.strip()}
    if topic not in allowed:  # before any fetch: strangers' topics cost nothing
        raise WebhookRejected("ses webhook: the topic is not in [webhook] ses_topics; refused")
    verify(message, fetch)
    if kind == "SubscriptionConfirmation":
        if sns_url_ok(message["SubscribeURL"]):
            try:
                fetch(message["SubscribeURL"])
            except Exception as err:  # SNS sends the confirmation again
                log.warning("ses webhook: cannot confirm the subscription to %s: %s", topic, err)
                raise WebhookRejected("ses webhook: the subscription could not be confirmed now; refused") from None
            log.info("ses webhook: confirmed the subscription to %s", topic)
        else:
            log.warning("ses webhook: subscription request from %s with an odd SubscribeURL; not confirmed", topic)
        return Verified(None)
    if kind == "UnsubscribeConfirmation":
        log.warning("ses webhook: unsubscribed from %s", topic)
        return Verified(None)
    return Verified(message["Message"], nonce=message["MessageId"])


def reports(text: str | None) -> list[Report]:
    """The SES notification (or event-publishing record) inside an SNS Notification's Message."""
    if text is None:  # a subscription message: nothing about an address
        return []
    doc = load_json(text.encode("utf-8", "surrogatepass"), PROVIDER)
    if not isinstance(doc, dict):
        raise MalformedPayload("ses webhook: the SNS Message is not an SES notification object")
    kind = str(doc.get("notificationType") or doc.get("eventType") or "").lower()
    mail = obj(doc.get("mail"))
    message_id, return_path = _original(mail)
    raw = text.encode("utf-8")
    found: list[Report | None] = []
    if kind == "bounce":
        b = obj(doc.get("bounce"))
        btype, subtype = str(b.get("bounceType", "")).lower(), str(b.get("bounceSubType", "")).lower()
        for r in _dicts(b.get("bouncedRecipients")):
            found.append(
                bounce(
                    PROVIDER,
                    r.get("emailAddress"),
                    raw,
                    status=r.get("status"),
                    diagnostic=r.get("diagnosticCode"),
                    permanent=btype == "permanent",
                    fallback=SUBTYPES.get((btype, subtype)),
                    message_id=message_id,
                    return_path=return_path,
                )
            )
    elif kind == "complaint":
        c = obj(doc.get("complaint"))
        feedback = str(c.get("complaintFeedbackType") or "abuse")
        # SES reports "not-spam" feedback through the same channel: that is the opposite of a complaint.
        if feedback.lower() != "not-spam":
            for r in _dicts(c.get("complainedRecipients")):
                found.append(
                    suppression(
                        PROVIDER,
                        EventKind.COMPLAINT,
                        r.get("emailAddress"),
                        raw,
                        detail=f"feedback-type {feedback}",
                        message_id=message_id,
                        return_path=return_path,
                    )
                )
    return [r for r in found if r is not None]


def _original(mail: dict) -> tuple[str | None, str]:
    """Our Message-ID and envelope sender as SES kept them."""
    message_id, return_path = None, str(mail.get("source") or "")
    for h in _dicts(mail.get("headers")):
        name = str(h.get("name", "")).lower()
        if name == "message-id":
            message_id = angle(h.get("value"))
        elif name == "return-path" and not return_path.lower().startswith("bounces+"):
            return_path = str(h.get("value") or "")
    common = obj(mail.get("commonHeaders"))
    return message_id or angle(common.get("messageId")), return_path


def _dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
