"""Raw message bytes → BounceReport: the one entry point of the bounce classifier; pure, never raises."""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import ModuleType

from sendwell.bounces import answer, arf, autoreply, dsn, mime, reasons, scan
from sendwell.bounces import text as T
from sendwell.bounces.formats import FORMATS
from sendwell.bounces.found import Hit, Mail, Partial
from sendwell.bounces.report import BounceReport, FailedRecipient, MessageKind, OriginalMessage, Reason, is_hard

# A bounce quotes the original message; beyond this size the rest is attachments we never need.
MAX_BYTES = 2 * 1024 * 1024

# A message in no known format is read as a bounce only when its sender, subject or (from a machine) body says so.
BOUNCE_SENDER = re.compile(
    r"mailer-daemon|postmaster|mail delivery|mail-daemon|mailerdaemon|"
    r"delivery (sub)?system|bounce|daemon@|returned mail|notification",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status|failure|failed|notification|problem|report)|"
    r"returned mail|return(ed)? to sender|failure notice|non-?delivery|could not be delivered|"
    r"mail delivery|bounce|delivery error|not delivered|failed delivery|mail error|"
    r"message rejected|warning: could not send|delayed mail|delivery delayed|"
    r"mail system error|error sending|nondeliverable|\u4e0d\u9054|\u30a8\u30e9\u30fc",
    re.IGNORECASE,
)
BOUNCE_BODY = re.compile(
    r"could not be delivered|undeliverable|delivery (has )?failed|permanent (fatal )?errors?|"
    r"error message below|not be delivered|delivery to the following|following address|"
    r"unable to deliver|failed to deliver|returned to sender|delivery status notification|"
    r"message delivery failed|wasn't delivered|was not delivered|delivery problem|"
    r"non-delivery|rejected your message|mailbox is full|invalid (user|recipient|address)",
    re.IGNORECASE,
)
# Words in the body count only from a sender that is a machine, never from a person's reply.
AUTOMATED_SENDER = re.compile(
    r"no-?reply|do-?not-?reply|post_?master|mailer|daemon|sysadmin|admin@|root@|"
    r"system|notification|bounce|delivery",
    re.IGNORECASE,
)
_QUOTE = re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE)
_TO = re.compile(r"^to:[ \t]*(.+)$", re.IGNORECASE | re.MULTILINE)
# The explanation of a bounce is at its top; the rest of a long text only slows the patterns down.
CONTEXT_CHARS = 3000
_DELAY_ACTIONS = {"delayed"}
# A warning that delivery is still being tried: whatever failed so far is transient.
DELAY_NOTICE = re.compile(
    r"will be retried|warning message only|this is a warning|delivery attempts will continue|"
    r"will (continue to )?(try|retry|attempt)|still (trying|being retried)|has been delayed|"
    r"is delayed|not yet been delivered|delivery (is )?delayed|temporary failure report"
)
_HEADER = re.compile(
    r"^(message-id|return-path|to|x-sendwell-[\w-]+):[ \t]*(.*(?:\n[ \t]+.*)*)", re.IGNORECASE | re.MULTILINE
)


def classify(raw: bytes, formats: Sequence[ModuleType] | None = None) -> BounceReport:
    """What this message is and, for a bounce, each failed recipient with its status, reason and evidence.

    `formats` replaces the family-specific layouts (default: all of FORMATS); `()` leaves the generic path
    alone, which is how docs/bounces.md measures what the generic rules are worth on their own.
    """
    try:
        return _classify(raw, FORMATS if formats is None else formats)
    except Exception:  # a classifier that crashes loses the message; an unreadable one is "other"
        return BounceReport(kind=MessageKind.OTHER, format="unreadable")


def parse(raw: bytes) -> Mail:
    if len(raw) > MAX_BYTES:
        raw = raw[:MAX_BYTES]
    return Mail(mime.load(raw))


def find(mail: Mail, depth: int = 0, formats: Sequence[ModuleType] = FORMATS) -> Partial | None:
    """The first parser that recognizes the message (complaint, DSN, known format, generic bounce, auto-reply)."""
    found = arf.detect(mail)
    if found is not None:
        return found
    report = dsn.detect(mail)
    if report is not None and report.kind is MessageKind.DELIVERED:
        return report
    for fmt in formats:
        partial = fmt.detect(mail)
        if partial is not None and partial.hits:
            return _merge(report, partial) if report is not None else partial
    if report is not None:
        return report
    if looks_like_bounce(mail):
        return generic(mail, depth, formats)
    return autoreply.detect(mail)


def generic(mail: Mail, depth: int = 0, formats: Sequence[ModuleType] = FORMATS) -> Partial | None:
    """A bounce in no known format: X-Failed-Recipients, else addresses in its text (a forwarded one too)."""
    exclude = set(mail.own_addresses)
    hits = scan.scan(mail.body, set(exclude))
    failed = [T.clean_address(a) for a in mail.header("X-Failed-Recipients").split(",")]
    failed = [a for a in failed if a]
    if failed:
        known = {h.address for h in hits}
        hits.extend(Hit(address=a) for a in failed if a not in known)
    if not hits and depth < 3:  # a bounce attached to another message
        for part in mail.parts_of("message/rfc822"):
            found = find(Mail(mime.load_text(T.part_text(part))), depth + 1, formats)
            if found is not None and found.kind is MessageKind.BOUNCE and found.hits:
                return found
    quoted_text = mail.body + "\n" + mail.original
    if not hits and len(_QUOTE.findall(quoted_text)) >= 3:  # a bounce forwarded by a person, quoted
        quoted = _QUOTE.sub("", quoted_text).lstrip("\n")
        lines = quoted.split("\n")
        start = next((i for i, line in enumerate(lines) if T.HEADER_LINE.match(line)), 0)
        while start < len(lines) and (T.HEADER_LINE.match(lines[start]) or lines[start][:1] in " \t"):
            start += 1  # the forwarded bounce's own headers
        body, _ = T.split_original("\n".join(lines[start:]))
        hits = scan.scan(body, exclude)
    if not hits:  # nothing names the recipient but the returned message itself
        m = _TO.search(mail.original)
        address = T.clean_address(m.group(1)) if m else ""
        if address and address not in exclude:
            hits = [Hit(address=address)]
    if not hits:
        return None
    return Partial(format="text", hits=hits, context=mail.body, original=mail.original)


def looks_like_bounce(mail: Mail) -> bool:
    if BOUNCE_SENDER.search(mail.sender) or BOUNCE_SUBJECT.search(mail.subject):
        return True
    if mail.typed[0][0] == "multipart/report":
        return True
    automated = AUTOMATED_SENDER.search(mail.sender) or mail.header("Auto-Submitted").lower().startswith("auto-gen")
    return bool(automated and BOUNCE_BODY.search(mail.body[:4000]))


def _merge(report: Partial, partial: Partial) -> Partial:
    """A DSN's recipients, with the format's diagnostic where the DSN gave none and its forced reasons."""
    by_addr = {h.address: h for h in partial.hits}
    for hit in report.hits:
        other = by_addr.get(hit.address)
        if other is None and len(partial.hits) == 1 and len(report.hits) == 1:
            other = partial.hits[0]
        if other is None:
            continue
        if not hit.diagnostic or (other.diagnostic and other.reason is not None):
            hit.diagnostic = other.diagnostic or hit.diagnostic
        hit.reason = other.reason or hit.reason
        hit.status = hit.status or other.status
        hit.command = hit.command or other.command
    report.format = partial.format
    return report


def finish(hit: Hit, context: str, delay_notice: bool = False) -> FailedRecipient:
    """Decide the status, reason and hard flag of one recipient from what its parser found."""
    delayed = hit.action in _DELAY_ACTIONS or (delay_notice and hit.action not in ("failed", "delivered"))
    diag = hit.diagnostic.strip()
    if not diag and context and hit.reason is None:  # named only in a header: the bounce's words explain it
        diag = scan.explain(context[:CONTEXT_CHARS].split("\n"), lead=True)
    status = hit.status or T.enhanced_status(diag)
    reason = hit.reason
    if reason is None:
        command = hit.command or T.smtp_command(diag) or T.smtp_command(context[:CONTEXT_CHARS])
        reason, by_text = answer.judge(status, diag, command)
        if delayed and by_text is None:
            reason = Reason.EXPIRED
        # Only a diagnostic without the remote's own answer is explained by the rest of the bounce.
        if reason in (Reason.ONHOLD, Reason.UNDEFINED) and context and not T.SMTP_REPLY.search(diag):
            ctx = answer.mask(context[:CONTEXT_CHARS])
            by_context = reasons.from_text(reasons.normalize(ctx), status)
            if by_context is not None:
                reason = by_context
            elif not status:
                status = T.enhanced_status(ctx)
                reason = reasons.decide(status, "", hit.command or T.smtp_command(ctx))
        if delayed and reason in (Reason.ONHOLD, Reason.UNDEFINED):
            reason = Reason.EXPIRED
    if not status and reason not in (Reason.FEEDBACK, Reason.VACATION):
        code = T.smtp_code(diag)
        status = reasons.pseudo_status(reason, permanent=not (code.startswith("4") or delayed))
    return FailedRecipient(
        address=hit.address,
        status=status,
        reason=reason,
        hard=is_hard(reason, status),
        diagnostic=" ".join(diag.split())[:1000],
        action=hit.action,
        remote_mta=hit.remote_mta,
        original_recipient=hit.original_recipient,
    )


def original_headers(text: str) -> OriginalMessage:
    """Message-ID, Return-Path, To and X-Sendwell-* of the returned message."""
    if not text:
        return OriginalMessage()
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    for m in _HEADER.finditer(text[:200_000]):
        name = m.group(1).lower()
        value = " ".join(m.group(2).split())
        if name.startswith("x-sendwell-"):
            extra.setdefault(name, value)
        else:
            values.setdefault(name, value)
    return OriginalMessage(
        message_id=values.get("message-id", "").strip(),
        return_path=T.clean_address(values.get("return-path", "")),
        to=T.clean_address(values.get("to", "")),
        headers=extra,
    )


def _classify(raw: bytes, formats: Sequence[ModuleType]) -> BounceReport:
    if isinstance(raw, str):  # a caller holding text already: accept it rather than call it unreadable
        raw = raw.encode("utf-8", "surrogateescape")
    if not raw or not raw.strip():
        return BounceReport(kind=MessageKind.OTHER, format="empty")
    mail = parse(raw)
    partial = find(mail, 0, formats)
    if partial is None:
        return BounceReport(kind=MessageKind.OTHER, original=original_headers(mail.original))
    context = partial.context or mail.body
    notice = bool(DELAY_NOTICE.search(context[:CONTEXT_CHARS].lower()))
    recipients = tuple(finish(h, context, notice) for h in partial.hits)
    kind = partial.kind
    if kind is MessageKind.DELIVERED:
        recipients = tuple(
            FailedRecipient(
                r.address, r.status, Reason.DELIVERED, False, r.diagnostic, r.action, r.remote_mta, r.original_recipient
            )
            for r in recipients
        )
    return BounceReport(
        kind=kind,
        recipients=recipients,
        original=original_headers(partial.original or mail.original),
        feedback_type=partial.feedback_type,
        format=partial.format,
    )
