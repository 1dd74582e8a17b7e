"""Mailgun webhooks: {"signature": {timestamp, token, signature}, "event-data": {...}} with an HMAC-SHA256 signature.

The signature is hex HMAC-SHA256 of timestamp + token under the webhook signing key
(SENDWELL_WEBHOOK_MAILGUN_KEY); Mailgun always signs, so without a key nothing is accepted.
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
    WebhookRejected,
    angle,
    bounce,
    evidence,
    load_json,
    suppression,
)

PROVIDER = "mailgun"
# Mailgun's `reason` on a failed event when it did not even try: the address is on its own lists.
SUPPRESSED_REASONS = {"suppress-bounce": Reason.SUPPRESSED}
SUPPRESSIONS = {"complained": EventKind.COMPLAINT, "unsubscribed": EventKind.UNSUBSCRIBE}


def verify(signature: Any, key: str | None) -> None:
    if not key:
        raise WebhookRejected("mailgun webhook: no signing key configured (set SENDWELL_WEBHOOK_MAILGUN_KEY to the "
                              "HTTP webhook signing key); refused")
    if not isinstance(signature, dict) or not all(isinstance(signature.get(k), str | int)
                                                  for k in ("timestamp", "token", "signature")):
        raise WebhookRejected("mailgun webhook: no signature {timestamp, token, signature}; refused")
    expected = hmac.new(key.encode(), f"{signature['timestamp']}{signature['token']}".encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(signature["signature"]).lower()):
        raise WebhookRejected("mailgun webhook: the signature does not match; refused")


def parse(body: bytes, headers: Mapping[str, str], *, key: str | None, fetch: Fetcher,
          env: Mapping[str, str] | None = None) -> list[Report]:
    payload = load_json(body, PROVIDER)
    if not isinstance(payload, dict):
        raise MalformedPayload("mailgun webhook: expected a JSON object with signature and event-data")
    verify(payload.get("signature"), key)
    data = payload.get("event-data")
    if not isinstance(data, dict):
        raise MalformedPayload("mailgun webhook: no event-data object")
    found = _one(data)
    return [found] if found else []


def _one(data: dict) -> Report | None:
    name = str(data.get("event") or "").lower()
    raw = evidence(data)
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    message_headers = message.get("headers") if isinstance(message.get("headers"), dict) else {}
    message_id = angle(message_headers.get("message-id"))
    email = data.get("recipient")
    if name == "failed":
        status = data.get("delivery-status") if isinstance(data.get("delivery-status"), dict) else {}
        permanent = str(data.get("severity") or "permanent").lower() == "permanent"
        words = " ".join(str(status.get(k) or "") for k in ("code", "message", "description")).strip()
        fallback = SUPPRESSED_REASONS.get(str(data.get("reason") or "").lower())
        return bounce(PROVIDER, email, raw, status=status.get("enhanced-code") or "", diagnostic=words,
                      permanent=permanent, fallback=fallback, message_id=message_id)
    if name in SUPPRESSIONS:
        return suppression(PROVIDER, SUPPRESSIONS[name], email, raw, detail=name, message_id=message_id)
    return None  # accepted, delivered, opened, clicked, stored: not ours to act on here
