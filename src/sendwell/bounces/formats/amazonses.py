"""Amazon SES notifications mailed through SNS: a JSON document (bounce, complaint or delivery) in the body."""

from __future__ import annotations

import json
import re

from sendwell.bounces import text as T
from sendwell.bounces.found import Hit, Mail, Partial
from sendwell.bounces.report import MessageKind, Reason

# SES bounceSubType → reason; the status code, when present, still decides among codes.
SUBTYPES: dict[str, Reason] = {
    "noemail": Reason.USERUNKNOWN,
    "suppressed": Reason.SUPPRESSED,
    "onaccountsuppressionlist": Reason.SUPPRESSED,
    "mailboxfull": Reason.MAILBOXFULL,
    "messagetoolarge": Reason.MESGTOOBIG,
    "contentrejected": Reason.CONTENTERROR,
    "attachmentrejected": Reason.CONTENTERROR,
}
_WRAP = re.compile(r"!?\r?\n ")


def _document(body: str) -> dict | None:
    text = _WRAP.sub("", body).strip()
    start = text.find("{")
    if start < 0:
        return None
    decoder = json.JSONDecoder()
    try:
        doc, _ = decoder.raw_decode(text[start:])
    except ValueError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("Message"), str):  # the SNS envelope around SES's JSON
        try:
            doc = json.loads(doc["Message"])
        except ValueError:
            return None
    return doc if isinstance(doc, dict) else None


def detect(mail: Mail) -> Partial | None:
    body = mail.body
    if "notificationType" not in body and "eventType" not in body:
        return None
    doc = _document(body)
    if doc is None:
        return None
    kind = str(doc.get("notificationType") or doc.get("eventType") or "").lower()
    hits: list[Hit] = []
    if kind == "bounce":
        bounce = doc.get("bounce") or {}
        subtype = SUBTYPES.get(str(bounce.get("bounceSubType", "")).lower())
        transient = str(bounce.get("bounceType", "")).lower() == "transient"
        for r in bounce.get("bouncedRecipients") or []:
            if not isinstance(r, dict):
                continue
            diag = re.sub(r"^\s*[\w-]+;\s*", "", str(r.get("diagnosticCode") or ""))
            status = str(r.get("status") or "") or T.enhanced_status(diag)
            if not status and transient:
                status = "4.0.0"
            hits.append(
                Hit(
                    address=T.clean_address(str(r.get("emailAddress", ""))),
                    diagnostic=diag,
                    status=status,
                    reason=None if (status or diag) else subtype,
                    action=str(r.get("action") or "failed"),
                )
            )
        return Partial(format="amazonses", hits=[h for h in hits if h.address])
    if kind == "complaint":
        complaint = doc.get("complaint") or {}
        feedback = str(complaint.get("complaintFeedbackType") or "abuse")
        for r in complaint.get("complainedRecipients") or []:
            if isinstance(r, dict):
                hits.append(Hit(address=T.clean_address(str(r.get("emailAddress", ""))), reason=Reason.FEEDBACK))
        return Partial(
            format="amazonses", hits=[h for h in hits if h.address], kind=MessageKind.COMPLAINT, feedback_type=feedback
        )
    if kind == "delivery":
        delivery = doc.get("delivery") or {}
        for address in delivery.get("recipients") or []:
            smtp = str(delivery.get("smtpResponse") or "")
            hits.append(
                Hit(
                    address=T.clean_address(str(address)),
                    diagnostic=smtp,
                    status=T.enhanced_status(smtp) or "2.6.0",
                    reason=Reason.DELIVERED,
                    action="delivered",
                )
            )
        return Partial(format="amazonses", hits=[h for h in hits if h.address], kind=MessageKind.DELIVERED)
    return None
