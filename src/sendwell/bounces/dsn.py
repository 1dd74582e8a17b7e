"""RFC 3464 delivery status notifications: the per-recipient fields of message/delivery-status parts."""

from __future__ import annotations

import re

from sendwell.bounces import text as T
from sendwell.bounces.found import Hit, Mail, Partial
from sendwell.bounces.report import MessageKind

DSN_TYPES = ("message/delivery-status", "message/global-delivery-status", "text/delivery-status")
_SUCCESS = {"delivered", "relayed", "expanded", "deliverable"}
_INLINE = re.compile(r"^(final|original)-recipient:", re.IGNORECASE | re.MULTILINE)
_TYPE_PREFIX = re.compile(r"^\s*[\w-]+\s*;\s*")


def _diagnostic(value: str) -> str:
    """Diagnostic-Code without its type (`smtp;`, `X-Postfix;`)."""
    return _TYPE_PREFIX.sub("", value).strip()


def hits_from_fields(blocks: list[dict[str, str]]) -> list[Hit]:
    hits: list[Hit] = []
    seen: set[str] = set()
    for block in blocks:
        address = ""
        for name in ("final-recipient", "original-recipient", "x-actual-recipient"):
            if block.get(name):
                address = T.clean_address(block[name])
                if address:
                    break
        if not address or address in seen:  # a broken MTA may repeat one recipient's block many times
            continue
        seen.add(address)
        diag = _diagnostic(block.get("diagnostic-code", ""))
        if block.get("diagnostic-code", "").lower().startswith("x-unix"):
            diag = "X-Unix; " + diag  # a local program's exit code: the type is the evidence
        status = T.enhanced_status(diag) or T.enhanced_status(block.get("status", ""))
        if not diag and "(" in block.get("status", ""):  # "5.1.10 (host/domain does not accept mail)"
            diag = block["status"].split("(", 1)[1].rstrip(")")
        original = T.clean_address(block.get("original-recipient", ""))
        hits.append(
            Hit(
                address=address,
                diagnostic=diag,
                status=status,
                original_recipient=original if original != address else "",
                action=block.get("action", "").strip().lower().split(" ")[0],
                remote_mta=_diagnostic(block.get("remote-mta", "")),
                command=T.smtp_command(diag),
            )
        )
    return hits


def detect(mail: Mail) -> Partial | None:
    """Recipients from every delivery-status part; None when the message has none."""
    hits: list[Hit] = []
    for part in mail.parts_of(*DSN_TYPES):
        hits.extend(hits_from_fields(T.parse_fields(T.message_text(part))))
    inline = None if hits else _INLINE.search(mail.body)
    if inline:  # DSN fields pasted into a plain-text bounce
        hits = hits_from_fields(T.parse_fields(mail.body[inline.start() :]))
    if not hits:
        return None
    if any(not h.diagnostic for h in hits):  # the human-readable part may say what the fields do not
        from sendwell.bounces import scan

        told = {h.address: h for h in scan.scan(mail.body, set())}
        for hit in hits:
            other = told.get(hit.address)
            if not hit.diagnostic and other is not None:
                hit.diagnostic = other.diagnostic
                hit.command = hit.command or other.command
    kind = MessageKind.BOUNCE
    if all(h.action in _SUCCESS for h in hits):
        kind = MessageKind.DELIVERED
    else:
        hits = [h for h in hits if h.action not in _SUCCESS]
    return Partial(format="rfc3464", hits=hits, kind=kind, context=mail.body, original=mail.original)
