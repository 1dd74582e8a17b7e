"""The installation's set-up check: what keeps campaigns from working as a person expects, found before sending
(public_url, the bounce domain's MX, DKIM keys for the From domains in use, a reachable relay, a running worker).

One entry point, `check_setup`, for every front end: the doctor command, the dashboard, the draft page. Each
finding says what is wrong and what to do in plain words, with a Hint where a next step has one. The network
checks (DNS, the relay) take seconds at worst, so pages read `cached_setup`, which keeps a result for a minute.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, select

from sendwell import dkim
from sendwell.bounces.imap import noted_reader
from sendwell.config import Settings
from sendwell.db.engine import utcnow
from sendwell.db.schema import campaigns
from sendwell.domaincheck.checks import PLACEHOLDER_BOUNCE_DOMAINS, check_bounce_mx
from sendwell.domaincheck.findings import Level, Report
from sendwell.domaincheck.lookup import Dns, make_resolver
from sendwell.errors import Hint
from sendwell.model import CampaignState

OK, WARN, ERROR = Level.OK, Level.WARN, Level.ERROR
# The campaigns whose From domain matters now: the ones that will still send.
IN_USE = (CampaignState.DRAFT, CampaignState.SCHEDULED, CampaignState.SENDING, CampaignState.PAUSED)


class Topic(StrEnum):
    """What a finding is about, in the order they are shown."""

    PUBLIC_URL = "public_url"
    BOUNCE_MX = "bounce_mx"
    DKIM = "dkim"
    RELAY = "relay"
    WORKER = "worker"


@dataclass(frozen=True, slots=True)
class Finding:
    topic: Topic
    level: Level
    message: str  # what was found, one sentence
    fix: str = ""  # what to do, in plain words
    hint: Hint | None = None  # the next step, when a front end can say it as a command or a link
    target: str | None = None  # what the hint acts on (a domain)

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic.value,
            "level": self.level.value,
            "message": self.message,
            "fix": self.fix,
            "hint": self.hint.value if self.hint else None,
            "target": self.target,
        }


@dataclass(slots=True)
class SetupReport:
    findings: list[Finding] = field(default_factory=list)
    checked_at: datetime | None = None

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level is not OK]

    @property
    def worst(self) -> Level:
        levels = {f.level for f in self.findings}
        return ERROR if ERROR in levels else WARN if WARN in levels else OK

    def about(self, *topics: Topic) -> list[Finding]:
        return [f for f in self.problems if f.topic in topics]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.worst is OK,
            "worst": self.worst.value,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "findings": [f.as_dict() for f in self.findings],
        }


def tracking_refusal(settings: Settings) -> str | None:
    """Why reads and clicks cannot be tracked here (no public_url), or None when they can."""
    if settings.sending.public_url:
        return None
    return (
        "tracking needs [sending] public_url (the address people's mail programs reach this installation at): "
        "without it no image or link can point back here"
    )


def check_public_url(settings: Settings) -> Finding:
    url = settings.sending.public_url
    if url:
        return Finding(Topic.PUBLIC_URL, OK, f"public_url is {url}: one-click unsubscribe and tracking work")
    return Finding(
        Topic.PUBLIC_URL,
        WARN,
        "public_url is not set: no one-click unsubscribe (Gmail and Yahoo ask bulk senders for it) and no read "
        "or click tracking; unsubscribe links are mailto: addresses instead",
        'set [sending] public_url = "https://mail.example.com", the address this installation\'s web server is '
        "reached at from the internet",
    )


def check_bounce_domain(
    settings: Settings, dns: Dns, from_domain: str = "example.com", imap_host: str | None = None
) -> Finding:
    """The bounce domain (VERP Return-Path, mailto: unsubscribes) must have an MX, to the mailbox bounces are
    read from ([bounces] mx_host, else the IMAP host the watcher noted); the domain check's finding, said once
    for the installation (`from_domain` for its example)."""
    bounce = settings.sending.bounce_domain.strip().lower().rstrip(".")
    report = Report(bounce)
    check_bounce_mx(report, dns, bounce, from_domain, settings.bounces.mx_host, imap_host=imap_host)
    f = report.findings[-1]
    level = ERROR if bounce in PLACEHOLDER_BOUNCE_DOMAINS or not bounce else f.level
    reading = level is not OK and bool(f.steps)  # a real domain: then read its mailbox
    return Finding(Topic.BOUNCE_MX, level, f.message, f.fix, Hint.INGEST_BOUNCES if reading else None, bounce or None)


def from_domains(engine: Engine) -> list[str]:
    """The From domains of the campaigns that will still send, sorted."""
    with engine.connect() as conn:
        addrs = conn.execute(
            select(campaigns.c.from_addr).where(campaigns.c.state.in_([s.value for s in IN_USE])).distinct()
        ).scalars()
        return sorted({d for a in addrs if (d := dkim.domain_of(a))})


def check_dkim(settings: Settings, domains: Iterable[str]) -> list[Finding]:
    folder = dkim.keys_dir(settings.dkim.dir)
    entries = dkim.load_index(folder)
    out = []
    for domain in domains:
        keys = dkim.keys_for_domain(domain, entries)
        if keys:
            out.append(Finding(Topic.DKIM, OK, f"{domain} is signed with {', '.join(k.selector for k in keys)}"))
        else:
            out.append(
                Finding(
                    Topic.DKIM,
                    ERROR,
                    f"no DKIM key for {domain}, a From domain in use: its mail goes out unsigned, and Gmail, Yahoo "
                    "and Microsoft reject or junk unsigned bulk mail",
                    f"generate a key for {domain}, publish its DNS record, then check the domain",
                    Hint.GENERATE_DKIM_KEY,
                    domain,
                )
            )
    return out


async def _reach(relays: Sequence[Any], timeout: float, helo: str) -> list[tuple[Any, str | None]]:
    from sendwell.sending.relay import Connection

    async def one(relay: Any) -> tuple[Any, str | None]:
        conn = Connection(relay, timeout=timeout, helo_name=helo)
        try:
            reply = await conn.open()
        finally:
            await conn.close()
        if reply is None:
            return relay, None
        what = reply.problem.value if reply.problem else f"{reply.code} {reply.text}".strip()
        return relay, f"at {reply.stage.value}: {what}"

    return list(await asyncio.gather(*(one(r) for r in relays)))


def check_relays(settings: Settings, timeout: float = 5.0) -> list[Finding]:
    """Each relay opened as for sending (connect, EHLO, STARTTLS, AUTH), then closed without a message."""
    from sendwell.errors import UserError
    from sendwell.sending.relay import parse_relays

    if not settings.smtp.urls:
        return [
            Finding(
                Topic.RELAY,
                ERROR,
                "no relay is configured: nothing can be sent",
                'set [smtp] urls = ["smtp+starttls://user:password@smtp.example.com:587"]',
            )
        ]
    try:
        relays = parse_relays(settings.smtp.urls)
    except UserError as err:
        return [Finding(Topic.RELAY, ERROR, f"[smtp] urls: {err}", "fix the relay URL in the configuration")]
    found = asyncio.run(_reach(relays, timeout, settings.smtp.helo_name))
    out = []
    for relay, problem in found:
        if problem is None:
            out.append(Finding(Topic.RELAY, OK, f"the relay {relay.label} answers"))
        else:
            out.append(
                Finding(
                    Topic.RELAY,
                    ERROR,
                    f"the relay {relay.label} cannot be reached ({problem}): campaigns wait, deferred, until it can",
                    "check the relay's address, port, TLS mode and password in [smtp] urls, and that this machine "
                    "may connect to it",
                )
            )
    if any(f.level is OK for f in out):  # one working relay sends everything; the others only warn
        out = [f if f.level is OK else Finding(f.topic, WARN, f.message, f.fix) for f in out]
    return out


def check_worker(engine: Engine, now: datetime | None = None) -> Finding:
    from sendwell.sending import workers

    now = now or utcnow()
    with engine.connect() as conn:
        seen = workers.last_seen(conn)
    if seen is not None and workers.alive(seen[1], now):
        return Finding(Topic.WORKER, OK, f"a sending worker is running ({seen[0].get('owner', '?')})")
    when = f"; the last one was seen at {seen[1]:%Y-%m-%d %H:%M:%S %Z}" if seen else ""
    return Finding(
        Topic.WORKER,
        WARN,
        f"no sending worker is running{when}: started and scheduled campaigns wait, and retries are not made",
        "run the sending worker (or the web server with its worker) and keep it running",
        Hint.RUN_WORKER,
    )


def check_setup(
    engine: Engine,
    settings: Settings,
    *,
    dns: Dns | None = None,
    domains: Sequence[str] | None = None,
    relay_timeout: float = 5.0,
    now: datetime | None = None,
) -> SetupReport:
    """Every check; `domains`: the From domains to look for DKIM keys (default: those of campaigns in use)."""
    dns = dns or Dns(make_resolver(timeout=3.0))
    report = SetupReport(checked_at=now or utcnow())
    domains = from_domains(engine) if domains is None else list(domains)
    report.findings.append(check_public_url(settings))
    imap_host = noted_reader(engine)
    report.findings.append(check_bounce_domain(settings, dns, domains[0] if domains else "example.com", imap_host))
    report.findings += check_dkim(settings, domains)
    report.findings += check_relays(settings, relay_timeout)
    report.findings.append(check_worker(engine, now))
    return report


_CACHE: dict[tuple[str, int], tuple[float, SetupReport]] = {}
_LOCK = threading.Lock()
CACHE_SECONDS = 60.0


def cached_setup(engine: Engine, settings: Settings, max_age: float = CACHE_SECONDS) -> SetupReport:
    """check_setup at most once a minute per database and settings (pages show it on every view). The
    worker's finding is always fresh: it is one row to read, and a worker that just started should show."""
    key = (engine.url.render_as_string(), id(settings))
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is None or time.monotonic() - hit[0] > max_age:
        report = check_setup(engine, settings)
        with _LOCK:
            _CACHE[key] = (time.monotonic(), report)
    else:
        report = hit[1]
    fresh = [check_worker(engine) if f.topic is Topic.WORKER else f for f in report.findings]
    return SetupReport(fresh, report.checked_at)


def forget_cached() -> None:
    """Drop the cached reports (after a set-up change, and between tests)."""
    with _LOCK:
        _CACHE.clear()


def for_campaign(engine: Engine, settings: Settings, from_addr: str) -> list[Finding]:
    """The problems to show before sending one campaign: the installation's (cached), with DKIM only for its
    own From domain (looked up now: a key made a minute ago counts)."""
    report = cached_setup(engine, settings)
    domain = dkim.domain_of(from_addr)
    own = check_dkim(settings, [domain]) if domain else []
    return [f for f in report.problems if f.topic is not Topic.DKIM] + [f for f in own if f.level is not OK]
