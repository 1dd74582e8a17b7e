"""Bounce, complaint and unsubscribe webhooks from sending providers (one module per provider), recorded as events.

`handle` is the one service function the web layer calls (it mounts it at /webhooks/<provider>):
it verifies the request, parses the provider's payload into Reports (pure) and records each with
events.record_bounce or events.record_suppression, which are idempotent, so a provider's retry of the
same event changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import ModuleType

from sqlalchemy import Engine

from sendwell import events
from sendwell.bounces.webhooks import keys, mailgun, postmark, sendgrid, ses
from sendwell.bounces.webhooks.report import (
    EventKind,
    Fetcher,
    MalformedPayload,
    Report,
    WebhookError,
    WebhookRejected,
    lower_keys,
)
from sendwell.config import Settings

__all__ = ["PROVIDERS", "MalformedPayload", "Report", "UnknownProvider", "WebhookError", "WebhookRejected",
           "default_fetch", "handle", "parse"]

log = logging.getLogger(__name__)
PROVIDERS: dict[str, ModuleType] = {"ses": ses, "sendgrid": sendgrid, "postmark": postmark, "mailgun": mailgun}
FETCH_TIMEOUT = 10.0
FETCH_MAX_BYTES = 256 * 1024  # a certificate or a confirmation page; anything bigger is not what we asked for


class UnknownProvider(WebhookError):
    """No webhook parser for that provider name (HTTP 404)."""


def default_fetch(url: str) -> bytes:
    """GET an https URL (SNS certificates and subscription confirmations)."""
    import urllib.request

    if not url.startswith("https://"):
        raise ValueError(f"{url}: only https URLs are fetched")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 - https checked above
        return response.read(FETCH_MAX_BYTES)


def parse(provider: str, body: bytes, headers: Mapping[str, str], *, fetch: Fetcher | None = None,
          env: Mapping[str, str] | None = None) -> list[Report]:
    """Verify and parse one webhook request, touching no database: the reports it carries."""
    module = PROVIDERS.get(provider.lower())
    if module is None:
        raise UnknownProvider(f"webhook: unknown provider {provider!r} (known: {', '.join(sorted(PROVIDERS))})")
    return module.parse(body, lower_keys(headers), key=keys.signing_key(provider, env), fetch=fetch or default_fetch,
                        env=env)


def handle(engine: Engine, settings: Settings, provider: str, body: bytes, headers: Mapping[str, str], *,
           fetch: Fetcher | None = None, env: Mapping[str, str] | None = None) -> list[events.Applied]:
    """Verify, parse and record one webhook request; raises WebhookRejected, MalformedPayload or UnknownProvider."""
    if env is None:  # the keys from the [webhook] settings (sendwell.toml or SENDWELL_WEBHOOK_* variables)
        env = {"SENDWELL_WEBHOOK_SENDGRID_KEY": settings.webhook.sendgrid_key,
               "SENDWELL_WEBHOOK_MAILGUN_KEY": settings.webhook.mailgun_key,
               "SENDWELL_WEBHOOK_SES_TOPICS": ",".join(settings.webhook.ses_topics)}
    reports = parse(provider, body, headers, fetch=fetch, env=env)
    secret = None
    applied = []
    for r in reports:
        ids = None
        if r.return_path:
            from sendwell.keys import app_secret
            from sendwell.sending import verp

            secret = secret or app_secret(engine, settings)
            ids = verp.decode_address(secret, r.return_path)
        campaign_id, recipient_id = ids if ids else (None, None)
        if r.kind is EventKind.BOUNCE:
            a = events.record_bounce(engine, settings, email=r.email, reason=r.reason, status_code=r.status,
                                     hard=r.hard, detail=r.detail, raw=r.raw, source=r.source,
                                     campaign_id=campaign_id, recipient_id=recipient_id, message_id=r.message_id)
        else:
            a = events.record_suppression(engine, kind=r.kind.value, email=r.email, raw=r.raw, source=r.source,
                                          detail=r.detail, campaign_id=campaign_id, recipient_id=recipient_id,
                                          message_id=r.message_id)
        log.info("%s webhook: %s %s%s%s", provider, r.kind.value, a.email, f" → {a.status}" if a.status else "",
                 f", blacklisted {a.blacklisted}" if a.blacklisted else "")
        applied.append(a)
    return applied
