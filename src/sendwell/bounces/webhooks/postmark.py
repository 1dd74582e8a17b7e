"""Postmark webhooks: Bounce, SpamComplaint and SubscriptionChange records (one JSON object per request).

Postmark signs nothing; its requests are authenticated by HTTP basic auth on the webhook URL, compared with
[webhook] postmark_key ("user:password") before the body is read. Postmark's retries repeat the same
record, which events.py records once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from sendwell.bounces.report import Reason
from sendwell.bounces.webhooks.report import (
    EventKind,
    Fetcher,
    MalformedPayload,
    Report,
    Verified,
    WebhookRejected,
    bounce,
    evidence,
    load_json,
    suppression,
)
from sendwell.config import WebhookSettings

PROVIDER = "postmark"
MAX_BODY = 1024 * 1024  # one record per request
# Bounce Type → (reason when the remote's status and words say nothing, permanent?) or a suppression kind.
# Types not listed (AutoResponder, Subscribe, OpenRelayTest, ChallengeVerification, ManuallyDeactivated,
# Unconfirmed, SMTPApiError, InboundError, TemplateRenderingFailed) are not about the address: ignored.
BOUNCE_TYPES: dict[str, tuple[Reason, bool] | EventKind] = {
    "HardBounce": (Reason.USERUNKNOWN, True),
    "BadEmailAddress": (Reason.USERUNKNOWN, True),
    "AddressChange": (Reason.HASMOVED, True),
    "SoftBounce": (Reason.UNDEFINED, False),
    "Transient": (Reason.EXPIRED, False),
    "DnsError": (Reason.NETWORKERROR, False),
    "SpamNotification": (Reason.SPAMDETECTED, True),
    "VirusNotification": (Reason.VIRUSDETECTED, True),
    "Blocked": (Reason.BLOCKED, True),
    "DMARCPolicy": (Reason.AUTHFAILURE, True),
    "Unknown": (Reason.UNDEFINED, False),
    "Unsubscribe": EventKind.UNSUBSCRIBE,
    "SpamComplaint": EventKind.COMPLAINT,
}


def admit(headers: Mapping[str, str], config: WebhookSettings) -> None:
    """Raise WebhookRejected unless the request carries the configured user:password (no body needed)."""
    expected = config.postmark_key.strip()
    if not expected:
        raise WebhookRejected(
            "postmark webhook: no credentials configured ([webhook] postmark_key, user:password); refused"
        )
    scheme, _, value = headers.get("authorization", "").partition(" ")
    try:
        given = base64.b64decode(value.strip(), validate=True) if scheme.lower() == "basic" else b""
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(given, expected.encode()):
        raise WebhookRejected("postmark webhook: missing or wrong basic-auth credentials; refused")


def authenticate(
    body: bytes, headers: Mapping[str, str], config: WebhookSettings, fetch: Fetcher, now: float
) -> Verified:
    admit(headers, config)
    record = load_json(body, PROVIDER)
    if not isinstance(record, dict) or not isinstance(record.get("RecordType"), str):
        raise MalformedPayload("postmark webhook: expected a JSON object with a RecordType")
    return Verified(record)


def reports(record: dict) -> list[Report]:
    raw = evidence(record)
    kind = record["RecordType"]
    # Postmark's MessageID is its own id, not our Message-ID header: recipients are matched by address.
    if kind == "Bounce":
        what = BOUNCE_TYPES.get(str(record.get("Type") or ""))
        if isinstance(what, EventKind):
            found = suppression(PROVIDER, what, record.get("Email"), raw, detail=str(record.get("Type")))
        elif what is not None:
            fallback, permanent = what
            found = bounce(
                PROVIDER,
                record.get("Email"),
                raw,
                diagnostic=record.get("Details") or record.get("Description"),
                permanent=permanent,
                fallback=fallback,
            )
        else:
            found = None
        return [found] if found else []
    if kind == "SpamComplaint":
        found = suppression(
            PROVIDER, EventKind.COMPLAINT, record.get("Email"), raw, detail=str(record.get("Type") or "SpamComplaint")
        )
        return [found] if found else []
    if kind == "SubscriptionChange":
        # A reactivation (SuppressSending false) is the operator's call in Postmark, not a reason to mail again
        # here; a suppression for a hard bounce arrives as its own Bounce record.
        if record.get("SuppressSending") is not True:
            return []
        why = str(record.get("SuppressionReason") or "")
        target = {"ManualSuppression": EventKind.UNSUBSCRIBE, "SpamComplaint": EventKind.COMPLAINT}.get(why)
        if target is None:
            return []
        found = suppression(
            PROVIDER, target, record.get("Recipient"), raw, detail=f"{why} ({record.get('Origin', 'unknown origin')})"
        )
        return [found] if found else []
    return []  # Delivery, Open, Click: not ours to act on here
