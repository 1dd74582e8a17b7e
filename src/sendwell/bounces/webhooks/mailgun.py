"""Mailgun webhooks: {"signature": {timestamp, token, signature}, "event-data": {...}} with an HMAC-SHA256 signature.

The signature is hex HMAC-SHA256 of timestamp + token under the webhook signing key ([webhook] mailgun_key);
without a key nothing is accepted. Mailgun's signature does NOT cover `event-data`: it proves only that
Mailgun made this (timestamp, token) pair. So a signature is accepted once (the token is remembered in
the database, shared by every process) and only while its timestamp is within [webhook] max_age_seconds
of now; whoever could read a fresh, unused signature in transit (TLS broken) could still attach other
event-data to it, and even then only addresses sendwell mailed can be suppressed (see docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
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
    obj,
    suppression,
)
from sendwell.config import WebhookSettings

PROVIDER = "mailgun"
MAX_BODY = 1024 * 1024  # one event per request
# Mailgun's `reason` on a failed event when it did not even try: the address is on its own lists.
SUPPRESSED_REASONS = {"suppress-bounce": Reason.SUPPRESSED}
SUPPRESSIONS = {"complained": EventKind.COMPLAINT, "unsubscribed": EventKind.UNSUBSCRIBE}


def verify(signature: Any, key: str, now: float, max_age: float) -> str:
    """The signature's token, once the key is shown to have signed it recently; else WebhookRejected."""
    if not key:
        raise WebhookRejected("mailgun webhook: no signing key configured ([webhook] mailgun_key); refused")
    if not isinstance(signature, dict) or not all(
        isinstance(signature.get(k), str | int) and not isinstance(signature.get(k), bool)
        for k in ("timestamp", "token", "signature")
    ):
        raise WebhookRejected("mailgun webhook: no signature {timestamp, token, signature}; refused")
    timestamp, token = str(signature["timestamp"]), str(signature["token"])
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise WebhookRejected("mailgun webhook: the signature's timestamp is not a Unix time; refused")
    if abs(now - int(timestamp)) > max_age:
        raise WebhookRejected(
            f"mailgun webhook: the signature is {int(now) - int(timestamp)} s old, outside the "
            f"{max_age:g} s window ([webhook] max_age_seconds); refused"
        )
    expected = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), str(signature["signature"]).lower().encode()):
        raise WebhookRejected("mailgun webhook: the signature does not match; refused")
    return token


def authenticate(
    body: bytes, headers: Mapping[str, str], config: WebhookSettings, fetch: Fetcher, now: float
) -> Verified:
    payload = load_json(body, PROVIDER)
    if not isinstance(payload, dict):
        raise MalformedPayload("mailgun webhook: expected a JSON object with signature and event-data")
    token = verify(payload.get("signature"), config.mailgun_key.strip(), now, config.max_age_seconds)
    data = payload.get("event-data")
    if not isinstance(data, dict):
        raise MalformedPayload("mailgun webhook: no event-data object")
    return Verified(data, nonce=token)


def reports(data: dict) -> list[Report]:
    found = _one(data)
    return [found] if found else []


def _one(data: dict) -> Report | None:
    name = str(data.get("event") or "").lower()
    raw = evidence(data)
    message = obj(data.get("message"))
    message_headers = obj(message.get("headers"))
    message_id = angle(message_headers.get("message-id"))
    email = data.get("recipient")
    if name == "failed":
        status = obj(data.get("delivery-status"))
        permanent = str(data.get("severity") or "permanent").lower() == "permanent"
        words = " ".join(str(status.get(k) or "") for k in ("code", "message", "description")).strip()
        fallback = SUPPRESSED_REASONS.get(str(data.get("reason") or "").lower())
        return bounce(
            PROVIDER,
            email,
            raw,
            status=status.get("enhanced-code") or "",
            diagnostic=words,
            permanent=permanent,
            fallback=fallback,
            message_id=message_id,
        )
    if name in SUPPRESSIONS:
        return suppression(PROVIDER, SUPPRESSIONS[name], email, raw, detail=name, message_id=message_id)
    return None  # accepted, delivered, opened, clicked, stored: not ours to act on here
