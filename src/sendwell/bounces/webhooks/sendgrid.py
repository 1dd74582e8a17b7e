"""SendGrid's Signed Event Webhook: a JSON array of events, signed with ECDSA (P-256, SHA-256).

Refused until [webhook] sendgrid_key holds the verification key (the base64 public key from SendGrid's
settings, or a PEM); then every request must carry a valid X-Twilio-Email-Event-Webhook-Signature over
the timestamp header followed by the raw body, checked before the body is parsed. The whole body is
signed, so a replayed batch can only repeat events already recorded once (events are idempotent).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

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
    evidence,
    load_json,
    suppression,
)
from sendwell.config import WebhookSettings

PROVIDER = "sendgrid"
MAX_BODY = 4 * 1024 * 1024  # SendGrid batches events into posts of at most a few hundred KB
SIGNATURE = "x-twilio-email-event-webhook-signature"
TIMESTAMP = "x-twilio-email-event-webhook-timestamp"
# A `dropped` event: SendGrid did not send because of its own suppression lists.
DROPPED: dict[str, EventKind | Reason] = {
    "bounced address": Reason.SUPPRESSED,
    "spam reporting address": EventKind.COMPLAINT,
    "unsubscribed address": EventKind.UNSUBSCRIBE,
}
SUPPRESSIONS = {
    "spamreport": EventKind.COMPLAINT,
    "unsubscribe": EventKind.UNSUBSCRIBE,
    "group_unsubscribe": EventKind.UNSUBSCRIBE,
}


def _public_key(key: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

    try:
        loaded = (
            load_pem_public_key(key.encode())
            if "BEGIN PUBLIC KEY" in key
            else load_der_public_key(base64.b64decode(key))
        )
    except ValueError:
        raise WebhookRejected(
            "sendgrid webhook: [webhook] sendgrid_key is not a public key "
            "(paste the base64 verification key from SendGrid's settings)"
        ) from None
    if not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise WebhookRejected("sendgrid webhook: [webhook] sendgrid_key is not an ECDSA public key")
    return loaded


def verify(body: bytes, headers: Mapping[str, str], key: str) -> None:
    """Raise WebhookRejected unless the key signed this timestamp and body."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    signature, timestamp = headers.get(SIGNATURE, ""), headers.get(TIMESTAMP, "")
    if not signature or not timestamp:
        raise WebhookRejected(
            "sendgrid webhook: unsigned request (no X-Twilio-Email-Event-Webhook-Signature/Timestamp); refused"
        )
    public = _public_key(key)
    try:
        public.verify(base64.b64decode(signature, validate=True), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise WebhookRejected("sendgrid webhook: the signature does not match the body; refused") from None


def authenticate(
    body: bytes, headers: Mapping[str, str], config: WebhookSettings, fetch: Fetcher, now: float
) -> Verified:
    if not config.sendgrid_key.strip():
        raise WebhookRejected("sendgrid webhook: no verification key configured ([webhook] sendgrid_key); refused")
    verify(body, headers, config.sendgrid_key.strip())
    batch = load_json(body, PROVIDER)
    if not isinstance(batch, list):
        raise MalformedPayload("sendgrid webhook: expected a JSON array of events")
    return Verified(batch)


def reports(batch: list) -> list[Report]:
    found: list[Report | None] = []
    for event in batch:
        if isinstance(event, dict):
            found.append(_one(event))
    return [r for r in found if r is not None]


def _one(event: dict) -> Report | None:
    name = str(event.get("event") or "").lower()
    raw = evidence(event)
    message_id = angle(event.get("smtp-id"))
    email = event.get("email")
    if name == "bounce":
        # type "blocked" is a refusal of our message (policy, reputation); "bounce" a failed address.
        status = str(event.get("status") or "")
        return bounce(
            PROVIDER,
            email,
            raw,
            status=status,
            diagnostic=event.get("reason"),
            permanent=not status.startswith("4"),
            fallback=Reason.BLOCKED if event.get("type") == "blocked" else None,
            message_id=message_id,
        )
    if name == "dropped":
        what = DROPPED.get(str(event.get("reason") or "").strip().lower())
        if isinstance(what, EventKind):
            return suppression(
                PROVIDER, what, email, raw, detail=f"dropped: {event.get('reason')}", message_id=message_id
            )
        if isinstance(what, Reason):
            return bounce(
                PROVIDER, email, raw, status="", diagnostic="", permanent=True, fallback=what, message_id=message_id
            )
        return None  # invalid SMTPAPI header and the like: our request, not the address
    if name in SUPPRESSIONS:
        detail = name if name != "group_unsubscribe" else f"group_unsubscribe {event.get('asm_group_id', '')}".strip()
        return suppression(PROVIDER, SUPPRESSIONS[name], email, raw, detail=detail, message_id=message_id)
    return None  # processed, delivered, deferred, open, click: not ours to act on here
