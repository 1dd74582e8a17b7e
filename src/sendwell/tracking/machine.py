"""Telling machine opens and clicks from people's: the heuristics as tables, pure.

Machines that fetch mail content on nobody's behalf:
- Apple Mail Privacy Protection (iOS 15+, macOS 12+) downloads every remote image of every message
  through Apple's proxies when the message arrives, whether or not it is ever read. Those fetches
  come from Apple's own networks (17.0.0.0/8 and Apple's IPv6 allocations) with the bare user agent
  `Mozilla/5.0`; a person opening the message in Apple Mail without it sends a full WebKit agent.
- Security gateways and link scanners (Microsoft Defender Safe Links, Mimecast, Proofpoint,
  Barracuda, …) fetch links and images on delivery, often with a tool's user agent, often within
  seconds of delivery, and often every link of the message at once.
Image proxies that fetch when the person opens the message (Gmail's GoogleImageProxy, Yahoo's) are
people, so they are not listed here.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache


class Hit(StrEnum):
    """events.type of a tracking event."""

    OPEN = "open"
    CLICK = "click"


class Source(StrEnum):
    """events.source of a tracking event."""

    HUMAN = "human"
    MACHINE = "machine"


class Why(StrEnum):
    """events.reason of a machine event: which rule flagged it."""

    APPLE_PROXY = "apple_proxy"  # Apple Mail Privacy Protection prefetch
    SCANNER_AGENT = "scanner_agent"  # a security product's or an HTTP tool's user agent
    NO_AGENT = "no_agent"  # no user agent at all: no mail client does that
    TOO_SOON = "too_soon"  # within seconds of delivery
    BURST = "burst"  # many links of one message within seconds


# Apple's registered networks: ARIN 17.0.0.0/8 and 2620:149::/32, RIPE 2a01:b740::/32, APNIC 2403:300::/32.
APPLE_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("17.0.0.0/8", "2620:149::/32", "2a01:b740::/32", "2403:300::/32")
)
APPLE_PROXY_AGENTS = frozenset({"mozilla/5.0"})  # MPP's agent, exactly; real clients say much more

# Lower-case substrings of user agents that belong to no person's mail client.
SCANNER_AGENTS = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "urldefense",
    "safelinks",
    "symantec",
    "messagelabs",
    "trend micro",
    "trendmicro",
    "forcepoint",
    "sophos",
    "fortiguard",
    "fortinet",
    "ironport",
    "cisco",
    "zscaler",
    "checkpoint",
    "check point",
    "paloalto",
    "bitdefender",
    "kaspersky",
    "spamtitan",
    "hornetsecurity",
    "vade",
    "bot/",
    "bot)",
    "bot;",
    "crawler",
    "spider",
    "scanner",
    "headlesschrome",
    "phantomjs",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww-perl",
    "apache-httpclient",
    "node-fetch",
    "axios/",
)

# Fetches this soon after our relay accepted the message are the receiving side's scanners: a person
# would have to get, open and read the message first. Opens get a shorter window than clicks.
TOO_SOON = {Hit.OPEN: timedelta(seconds=10), Hit.CLICK: timedelta(seconds=30)}

# Link scanners follow every link at once. Either rule marks all the clicks of the burst as machine.
BURST_WINDOW = timedelta(seconds=10)
BURST_LINKS = 3  # distinct links of one message within BURST_WINDOW
ALL_LINKS_WINDOW = timedelta(seconds=3)  # or every link of a message with two or more, this fast


@lru_cache(maxsize=4096)
def _apple_ip(ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return any(addr in net for net in APPLE_NETWORKS if net.version == addr.version)


def judge(kind: Hit, user_agent: str | None, ip: str | None, at: datetime, sent_at: datetime | None) -> Why | None:
    """Why this one fetch is a machine's, or None when it looks like a person's."""
    agent = (user_agent or "").strip().lower()
    if not agent:
        return Why.NO_AGENT
    if agent in APPLE_PROXY_AGENTS or (ip and _apple_ip(ip)):
        return Why.APPLE_PROXY
    if any(s in agent for s in SCANNER_AGENTS):
        return Why.SCANNER_AGENT
    if sent_at is not None and at - sent_at < TOO_SOON[kind]:
        return Why.TOO_SOON
    return None


def is_burst(clicks: list[tuple[datetime, int]], links_in_message: int) -> bool:
    """Do these clicks of one recipient (time, link index), the newest last, end in a scanner's burst?"""
    if not clicks:
        return False
    newest = clicks[-1][0]
    recent = {link for at, link in clicks if newest - at <= BURST_WINDOW}
    if len(recent) >= BURST_LINKS:
        return True
    fast = {link for at, link in clicks if newest - at <= ALL_LINKS_WINDOW}
    return links_in_message >= 2 and len(fast) >= links_in_message
