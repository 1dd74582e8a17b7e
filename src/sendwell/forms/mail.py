"""The confirmation message of a subscription: rendered from the form's subject and body, sent as campaigns are
(the configured relay, a VERP envelope sender, DKIM-signed when a key covers the From domain).

It is no campaign message: it carries campaign and recipient id 0 in its VERP address (as a test send does), so a
bounce of it can never be taken for a campaign recipient's, and no List-Unsubscribe (nobody is subscribed yet).
It is written in the subscriber's language while the form's subject and body are the defaults (forms/defaults.py).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

import jinja2

from sendwell import dkim
from sendwell.config import Settings
from sendwell.forms import defaults
from sendwell.forms.store import Form
from sendwell.model import RecipientStatus
from sendwell.sending import outcome, verp
from sendwell.sending.message import one_line
from sendwell.sending.relay import Connection, parse_relays

_ENV = jinja2.Environment(autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True, slots=True)
class Sent:
    delivered: bool
    answer: str  # the relay's answer, one line, for the log


def build(
    form: Form,
    from_addr: str,
    to: str,
    fields: dict[str, Any],
    confirm_url: str,
    days: float,
    secret: str,
    bounce_domain: str,
    language: str = "en",
) -> tuple[str, bytes]:
    """(envelope sender, the message's CRLF bytes, unsigned); `language` is the one the form's page was shown in."""
    sender = parseaddr(from_addr)[0] or parseaddr(from_addr)[1]
    ctx = {
        **{k: v for k, v in fields.items() if isinstance(v, str)},
        "email": to,
        "sender": sender,
        "form": form.name,
        "confirm_url": confirm_url,
        "days": f"{days:g}",
    }
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = from_addr
    name = one_line(" ".join(str(fields[k]) for k in ("first_name", "last_name") if fields.get(k)))
    msg["To"] = formataddr((name, to)) if name else to
    msg["Subject"] = one_line(_ENV.from_string(defaults.subject_in(form.confirm_subject, language)).render(ctx))
    msg["Date"] = formatdate(usegmt=True)
    domain = parseaddr(from_addr)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<confirm.{secrets.token_hex(8)}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: an out-of-office reply should not answer it
    msg.set_content(_ENV.from_string(defaults.body_in(form.confirm_body, language)).render(ctx), charset="utf-8")
    return verp.bounce_address(secret, 0, 0, bounce_domain), msg.as_bytes(policy=policy.SMTP)


async def _deliver(settings: Settings, envelope_from: str, to: str, data: bytes) -> Sent:
    relay = parse_relays(settings.smtp.urls)[0]
    conn = Connection(relay, timeout=settings.smtp.timeout, helo_name=settings.smtp.helo_name)
    failed = await conn.open()
    if failed is not None:
        return Sent(False, f"{relay.label}: {failed.problem or failed.code} {failed.text}".strip())
    try:
        reply = await conn.send(envelope_from, to, data, crlf=True)
    finally:
        await conn.close()
    ok = outcome.classify(reply).status is RecipientStatus.SENT
    return Sent(ok, f"{relay.label}: {reply.code or ''} {reply.text}".strip())


def send(settings: Settings, from_addr: str, to: str, envelope_from: str, data: bytes) -> Sent:
    """Sign (when a key covers the From domain) and hand the message to the first relay."""
    signer = dkim.Signer.for_from_domain(from_addr, settings.dkim.dir)
    if signer is not None:
        data = signer.sign(data)
    return asyncio.run(_deliver(settings, envelope_from, to, data))
