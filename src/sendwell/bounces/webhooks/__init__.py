"""Bounce, complaint and unsubscribe webhooks from sending providers (one module per provider), recorded as events.

`handle` is the one service function the web layer calls (it mounts it at /webhooks/<provider>). In order:
the provider must be on (its [webhook] setting filled in: `admit`, which needs no body); the signature or
credential is checked before the content is looked at (`authenticate`); a one-time id seen before is a
replay; the content becomes Reports (pure); and only reports about an address sendwell has mailed (a
contact or a campaign recipient) are recorded, with events.record_bounce / record_suppression, which are
idempotent. Reports about any other address are logged and counted, never suppressed: a provider cannot
be made to fill the black list with addresses we never sent to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType

from sqlalchemy import Engine

from sendwell import events
from sendwell.bounces.webhooks import keys, mailgun, postmark, sendgrid, ses, store
from sendwell.bounces.webhooks.report import (
    EventKind,
    Fetcher,
    MalformedPayload,
    Report,
    Verified,
    WebhookError,
    WebhookRejected,
    lower_keys,
)
from sendwell.config import Settings, WebhookSettings

__all__ = [
    "PROVIDERS",
    "MalformedPayload",
    "Outcome",
    "Report",
    "UnknownProvider",
    "WebhookError",
    "WebhookRejected",
    "admit",
    "default_fetch",
    "handle",
    "max_body",
    "parse",
    "status",
]

log = logging.getLogger(__name__)
PROVIDERS: dict[str, ModuleType] = {"ses": ses, "sendgrid": sendgrid, "postmark": postmark, "mailgun": mailgun}
# What a provider's one-time id means when it comes again: Mailgun never sends a token twice (a replay:
# refused); SNS may deliver a message twice (acknowledged, not acted on again). How long ids are kept.
REPLAYS: dict[str, tuple[str, timedelta | None]] = {
    "mailgun": ("refuse", None),  # None: twice the timestamp window, past which the signature is refused anyway
    "ses": ("acknowledge", timedelta(days=14)),
}
FETCH_TIMEOUT = 10.0
FETCH_MAX_BYTES = 256 * 1024  # a certificate or a confirmation page; anything bigger is not what we asked for
# Content that passed its signature but breaks a parser is the provider's odd JSON, not our crash: a 400.
_CONTENT_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)


class UnknownProvider(WebhookError):
    """No webhook parser for that provider name (HTTP 404)."""


@dataclass
class Outcome:
    """What one request did."""

    applied: list[events.Applied] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # addresses sendwell never mailed: logged and counted only
    replay: bool = False  # an SNS message delivered again: acknowledged, nothing done


def default_fetch(url: str) -> bytes:
    """GET an https URL (SNS certificates and subscription confirmations)."""
    import urllib.request

    if not url.startswith("https://"):
        raise ValueError(f"{url}: only https URLs are fetched")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # https checked above
        return response.read(FETCH_MAX_BYTES)


def _module(provider: str) -> ModuleType:
    module = PROVIDERS.get(provider.lower())
    if module is None:
        raise UnknownProvider(f"webhook: unknown provider {provider[:40]!r} (known: {', '.join(sorted(PROVIDERS))})")
    return module


def max_body(provider: str) -> int:
    """The largest body this provider's webhook reads (bytes)."""
    return int(_module(provider).MAX_BODY)


def admit(provider: str, headers: Mapping[str, str], config: WebhookSettings) -> None:
    """The checks that need no body: a known provider that is on, and Postmark's basic auth."""
    module = _module(provider)
    if not keys.is_on(config, module.PROVIDER):
        raise WebhookRejected(keys.off_reason(module.PROVIDER))
    if module is postmark:
        postmark.admit(lower_keys(headers), config)


def _authenticate(
    provider: str, body: bytes, headers: Mapping[str, str], config: WebhookSettings, fetch: Fetcher | None, now: float
) -> Verified:
    admit(provider, headers, config)
    module = _module(provider)
    try:
        return module.authenticate(body, lower_keys(headers), config, fetch or default_fetch, now)
    except _CONTENT_ERRORS as err:
        log.warning("%s webhook: unreadable request (%s: %s)", module.PROVIDER, type(err).__name__, err)
        raise MalformedPayload(f"{module.PROVIDER} webhook: the body is not what the provider sends") from None


def _reports(provider: str, verified: Verified) -> list[Report]:
    module = _module(provider)
    try:
        return module.reports(verified.payload)
    except _CONTENT_ERRORS as err:
        log.warning("%s webhook: signed content that cannot be read (%s: %s)", module.PROVIDER, type(err).__name__, err)
        raise MalformedPayload(f"{module.PROVIDER} webhook: the events are not what the provider sends") from None


def parse(
    provider: str,
    body: bytes,
    headers: Mapping[str, str],
    settings: Settings,
    *,
    fetch: Fetcher | None = None,
    now: float | None = None,
) -> list[Report]:
    """Verify and parse one webhook request, touching no database (no replay check): the reports it carries."""
    verified = _authenticate(provider, body, headers, settings.webhook, fetch, time.time() if now is None else now)
    return _reports(provider, verified)


def handle(
    engine: Engine,
    settings: Settings,
    provider: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    fetch: Fetcher | None = None,
    now: float | None = None,
) -> Outcome:
    """Verify, parse and record one webhook request; raises WebhookRejected, MalformedPayload or UnknownProvider."""
    provider = _module(provider).PROVIDER
    clock = time.time() if now is None else now
    moment = datetime.fromtimestamp(clock, UTC)
    verified = _authenticate(provider, body, headers, settings.webhook, fetch, clock)
    replay, keep = REPLAYS.get(provider, ("", None))
    nonce = verified.nonce if replay else None
    if nonce is not None:
        keep = keep or timedelta(seconds=2 * settings.webhook.max_age_seconds + 60)
        if not store.claim(engine, provider, nonce, keep, moment):
            store.count(engine, provider, moment, replays=1)
            log.warning(
                "%s webhook: a signed request seen before (a replay)%s",
                provider,
                "; refused" if replay == "refuse" else ", acknowledged without acting",
            )
            if replay == "refuse":
                raise WebhookRejected(f"{provider} webhook: this signature was used before (a replay); refused")
            return Outcome(replay=True)
    try:
        return _record(engine, settings, provider, _reports(provider, verified), moment)
    except BaseException:
        if nonce is not None:  # the provider will send it again: that retry must not look like a replay
            store.release(engine, provider, nonce)
        raise


def _record(engine: Engine, settings: Settings, provider: str, reports: list[Report], moment: datetime) -> Outcome:
    outcome = Outcome()
    secret = None
    for r in reports:
        key = events.address_key(r.email)
        if key is None or not store.mailed(engine, key):
            log.warning(
                "%s webhook: %s about %r, an address sendwell never mailed: ignored",
                provider,
                r.kind.value,
                r.email[:320],
            )
            outcome.ignored.append(r.email)
            continue
        ids = None
        if r.return_path:
            from sendwell.keys import app_secret
            from sendwell.sending import verp

            secret = secret or app_secret(engine, settings)
            ids = verp.decode_address(secret, r.return_path)
        campaign_id, recipient_id = ids if ids else (None, None)
        if r.kind is EventKind.BOUNCE:
            a = events.record_bounce(
                engine,
                settings,
                email=r.email,
                reason=r.reason,
                status_code=r.status,
                hard=r.hard,
                detail=r.detail,
                raw=r.raw,
                source=r.source,
                campaign_id=campaign_id,
                recipient_id=recipient_id,
                message_id=r.message_id,
            )
        else:
            a = events.record_suppression(
                engine,
                kind=r.kind.value,
                email=r.email,
                raw=r.raw,
                source=r.source,
                detail=r.detail,
                campaign_id=campaign_id,
                recipient_id=recipient_id,
                message_id=r.message_id,
                settings=settings,
            )
        log.info(
            "%s webhook: %s %s%s%s",
            provider,
            r.kind.value,
            a.email,
            f" → {a.status}" if a.status else "",
            f", blacklisted {a.blacklisted}" if a.blacklisted else "",
        )
        outcome.applied.append(a)
    store.count(
        engine, provider, moment, events=sum(not a.duplicate for a in outcome.applied), ignored=len(outcome.ignored)
    )
    return outcome


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """A provider's webhook: on or off, the setting that turns it on, its URL path, what its requests did so far."""

    provider: str
    on: bool
    path: str
    setting: str
    how: str
    max_body_kb: int
    events: int  # recorded
    ignored: int  # about an address sendwell never mailed
    replays: int  # refused
    last_at: datetime | None


def status(engine: Engine, settings: Settings) -> list[ProviderStatus]:
    """Each provider's ProviderStatus."""
    seen = store.counts(engine)
    rows = []
    for p in keys.status(settings.webhook):
        c = seen.get(p.provider, store.Counts())
        rows.append(
            ProviderStatus(
                p.provider,
                p.on,
                f"/webhooks/{p.provider}",
                p.setting,
                p.how,
                max_body(p.provider) // 1024,
                c.events,
                c.ignored,
                c.replays,
                c.last_at,
            )
        )
    return rows
