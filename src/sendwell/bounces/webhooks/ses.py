"""Amazon SES notifications through SNS: signature check (SignatureVersion 1 and 2), subscription, bounces, complaints.

The SNS signature proves a message came from SNS; the signing certificate is fetched only from an
https URL on sns.<region>.amazonaws.com (an S3 bucket is on amazonaws.com too, and anyone can fill
one). A subscription is confirmed automatically only for a topic listed in SENDWELL_WEBHOOK_SES_TOPICS;
otherwise the confirmation URL is logged for a person to open, so no stranger's topic can subscribe us.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sendwell.bounces.report import Reason
from sendwell.bounces.webhooks import keys
from sendwell.bounces.webhooks.report import (
    EventKind,
    Fetcher,
    MalformedPayload,
    Report,
    WebhookRejected,
    angle,
    bounce,
    load_json,
    suppression,
)

log = logging.getLogger(__name__)
PROVIDER = "ses"
_SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
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


def sns_url_ok(url: str) -> bool:
    """https on an SNS endpoint host, nothing else (no port, no credentials)."""
    parts = urlsplit(url)
    return (parts.scheme == "https" and bool(parts.hostname) and _SNS_HOST.match(parts.hostname or "") is not None
            and parts.port is None and not parts.username)


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    fields = SIGNED_FIELDS[str(message["Type"])]
    return "".join(f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None).encode()


def verify(message: Mapping[str, Any], fetch: Fetcher, now: datetime | None = None) -> None:
    """Raise WebhookRejected unless SNS signed this message."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    version = str(message.get("SignatureVersion") or "")
    if version not in HASHES:
        raise WebhookRejected(f"ses webhook: unsigned or unknown SignatureVersion {version!r}; refused")
    cert_url = str(message.get("SigningCertURL") or message.get("SigningCertUrl") or "")
    if not sns_url_ok(cert_url):
        raise WebhookRejected(f"ses webhook: SigningCertURL {cert_url!r} is not https on an SNS amazonaws.com host; "
                              "refused")
    try:
        signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
    except ValueError:
        signature = b""
    if not signature:
        raise WebhookRejected("ses webhook: the Signature is missing or not base64; refused")
    try:
        cert = _certificate(fetch, cert_url)
    except Exception as err:  # noqa: BLE001 - network or a bad certificate: either way, not proven
        raise WebhookRejected(f"ses webhook: cannot get the signing certificate {cert_url} ({err})") from None
    moment = now or datetime.now(UTC)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise WebhookRejected(f"ses webhook: the signing certificate {cert_url} has expired or is not yet valid")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookRejected("ses webhook: the signing certificate does not hold an RSA key; refused")
    digest = hashes.SHA1() if HASHES[version] == "sha1" else hashes.SHA256()  # noqa: S303 - SNS's v1 is SHA1
    try:
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), digest)
    except InvalidSignature:
        raise WebhookRejected("ses webhook: the SNS signature does not match the message; refused") from None


@functools.lru_cache(maxsize=32)
def _certificate(fetch: Fetcher, url: str) -> Any:
    """SNS signs with few certificates: fetch each once per process (validity is checked at every use)."""
    from cryptography import x509

    return x509.load_pem_x509_certificate(fetch(url))


def parse(body: bytes, headers: Mapping[str, str], *, key: str | None, fetch: Fetcher,
          env: Mapping[str, str] | None = None) -> list[Report]:
    message = load_json(body, PROVIDER)
    if not isinstance(message, dict) or message.get("Type") not in SIGNED_FIELDS:
        raise MalformedPayload("ses webhook: not an SNS message (no Type Notification or SubscriptionConfirmation)")
    missing = [f for f in SIGNED_FIELDS[message["Type"]] if f != "Subject" and not isinstance(message.get(f), str)]
    if missing:
        raise MalformedPayload(f"ses webhook: SNS {message['Type']} without {', '.join(missing)}")
    verify(message, fetch)
    allowed = keys.ses_topics(env)
    topic = message["TopicArn"]
    if message["Type"] == "SubscriptionConfirmation":
        if topic in allowed and sns_url_ok(message["SubscribeURL"]):
            fetch(message["SubscribeURL"])
            log.info("ses webhook: confirmed the subscription to %s", topic)
        else:
            log.warning("ses webhook: subscription request from %s; to accept it, open %s (or list the topic in "
                        "SENDWELL_WEBHOOK_SES_TOPICS)", topic, message["SubscribeURL"])
        return []
    if message["Type"] == "UnsubscribeConfirmation":
        log.warning("ses webhook: unsubscribed from %s", topic)
        return []
    if allowed and topic not in allowed:
        raise WebhookRejected(f"ses webhook: topic {topic} is not in SENDWELL_WEBHOOK_SES_TOPICS; refused")
    return reports(message["Message"])


def reports(text: str) -> list[Report]:
    """The SES notification (or event-publishing record) inside an SNS Notification's Message."""
    doc = load_json(text.encode("utf-8"), PROVIDER)
    if not isinstance(doc, dict):
        raise MalformedPayload("ses webhook: the SNS Message is not an SES notification object")
    kind = str(doc.get("notificationType") or doc.get("eventType") or "").lower()
    mail = doc.get("mail") if isinstance(doc.get("mail"), dict) else {}
    message_id, return_path = _original(mail)
    raw = text.encode("utf-8")
    found: list[Report | None] = []
    if kind == "bounce":
        b = doc.get("bounce") if isinstance(doc.get("bounce"), dict) else {}
        btype, subtype = str(b.get("bounceType", "")).lower(), str(b.get("bounceSubType", "")).lower()
        for r in _dicts(b.get("bouncedRecipients")):
            found.append(bounce(PROVIDER, r.get("emailAddress"), raw, status=r.get("status"),
                                diagnostic=r.get("diagnosticCode"), permanent=btype == "permanent",
                                fallback=SUBTYPES.get((btype, subtype)), message_id=message_id,
                                return_path=return_path))
    elif kind == "complaint":
        c = doc.get("complaint") if isinstance(doc.get("complaint"), dict) else {}
        feedback = str(c.get("complaintFeedbackType") or "abuse")
        # SES reports "not-spam" feedback through the same channel: that is the opposite of a complaint.
        if feedback.lower() != "not-spam":
            for r in _dicts(c.get("complainedRecipients")):
                found.append(suppression(PROVIDER, EventKind.COMPLAINT, r.get("emailAddress"), raw,
                                         detail=f"feedback-type {feedback}", message_id=message_id,
                                         return_path=return_path))
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
    common = mail.get("commonHeaders") if isinstance(mail.get("commonHeaders"), dict) else {}
    return message_id or angle(common.get("messageId")), return_path


def _dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
