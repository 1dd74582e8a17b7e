"""The optional SMTP probe: ask the domain's MX whether it would take a mailbox (RCPT TO, never DATA).

Off by default: probing many addresses looks like a dictionary attack and can get the sending IP
listed. When on, it is polite: one session at a time per domain, a pause between sessions to the
same domain, a few RCPTs per session, and a random mailbox first so catch-all domains (which accept
anything, proving nothing) are recognized. A 4xx answer (greylisting, rate limits) or a timeout is
"undecided", never "invalid".
"""

from __future__ import annotations

import asyncio
import re
import secrets
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sendwell.verify.dns import DnsChecker
from sendwell.verify.verdict import Reason


class ProbeStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # 5xx saying the mailbox does not exist
    CATCH_ALL = "catch_all"  # the MX accepts a random mailbox too
    UNDECIDED = "undecided"  # 4xx, timeout, connection failure, or a 5xx about us rather than the mailbox


STATUS_REASON: dict[ProbeStatus, Reason | None] = {
    ProbeStatus.ACCEPTED: None,
    ProbeStatus.REJECTED: Reason.MAILBOX_REJECTED,
    ProbeStatus.CATCH_ALL: Reason.CATCH_ALL,
    ProbeStatus.UNDECIDED: Reason.PROBE_UNDECIDED,
}

# 5xx replies that speak about the mailbox (RFC 5321 550/551/553; RFC 3463 X.1.x address status).
# Any other 5xx (554 5.7.1 "your IP is listed", 530 auth) is about the prober and decides nothing.
_MAILBOX_CODES = frozenset({550, 551, 553})
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})")


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    status: ProbeStatus
    code: int | None = None
    message: str = ""

    @property
    def detail(self) -> str:
        return f"{self.code} {self.message}".strip() if self.code else self.message


@dataclass(frozen=True)
class ProbeOptions:
    port: int = 25  # tests point this at a local aiosmtpd server
    mail_from: str = ""  # "" is the null reverse-path <>
    helo: str = ""  # default: this host's FQDN
    timeout: float = 15.0  # per SMTP step
    domain_interval: float = 2.0  # seconds between two sessions with the same domain
    rcpt_per_session: int = 20
    sessions: int = 20  # sessions open at once, all domains together


def classify(code: int, message: str) -> ProbeStatus:
    """The meaning of one RCPT TO reply (pure)."""
    if 200 <= code < 300:
        return ProbeStatus.ACCEPTED
    if 500 <= code < 600:
        enhanced = _ENHANCED.match(message)
        if enhanced and enhanced.group(1) == "5":
            return ProbeStatus.REJECTED if enhanced.group(2) == "1" else ProbeStatus.UNDECIDED
        return ProbeStatus.REJECTED if code in _MAILBOX_CODES else ProbeStatus.UNDECIDED
    return ProbeStatus.UNDECIDED  # 4xx: greylisting, rate limit, temporary trouble


class Prober:
    """Probes mailboxes domain by domain, paced per domain; shares the run's DnsChecker."""

    def __init__(self, dns_checker: DnsChecker, options: ProbeOptions | None = None) -> None:
        self.dns = dns_checker
        self.options = options or ProbeOptions()
        self.helo = self.options.helo or socket.getfqdn()
        self._last_session: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sessions = 0

    async def probe(self, domain: str, mx_hosts: Iterable[str], addresses: list[str]) -> dict[str, ProbeOutcome]:
        """An outcome for every address (all of `domain`), using its MX hosts in preference order."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._slots is None:  # asyncio primitives belong to one loop
            self._loop, self._slots, self._locks = loop, asyncio.Semaphore(self.options.sessions), {}
        lock = self._locks.setdefault(domain, asyncio.Lock())
        hosts = list(mx_hosts)[:3]
        outcomes: dict[str, ProbeOutcome] = {}
        async with lock:
            size = max(1, self.options.rcpt_per_session)
            for start in range(0, len(addresses), size):
                chunk = addresses[start : start + size]
                await self._pace(domain)
                async with self._slots:
                    found = await self._session(domain, hosts, chunk)
                outcomes.update(found)
                if any(o.status is ProbeStatus.CATCH_ALL for o in found.values()):
                    rest = addresses[start + size :]
                    outcomes.update({a: ProbeOutcome(ProbeStatus.CATCH_ALL, message="catch-all domain") for a in rest})
                    break
        return outcomes

    async def _pace(self, domain: str) -> None:
        last = self._last_session.get(domain)
        if last is not None:
            wait = last + self.options.domain_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_session[domain] = time.monotonic()

    async def _session(self, domain: str, hosts: list[str], chunk: list[str]) -> dict[str, ProbeOutcome]:
        problem = "no mail exchanger could be reached"
        for host in hosts:
            ips = await self.dns.host_addresses(host)
            for ip in ips[:2]:
                try:
                    return await self._ask(ip, domain, chunk)
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # any network failure leaves the mailbox undecided
                    problem = f"{host} ({ip}): {_say(err)}"
        return {a: ProbeOutcome(ProbeStatus.UNDECIDED, message=problem) for a in chunk}

    async def _ask(self, ip: str, domain: str, chunk: list[str]) -> dict[str, ProbeOutcome]:
        import aiosmtplib

        self.sessions += 1
        smtp = aiosmtplib.SMTP(
            hostname=ip, port=self.options.port, timeout=self.options.timeout, local_hostname=self.helo, start_tls=False
        )
        await smtp.connect()
        try:
            reply = await smtp.execute_command(b"EHLO", self.helo.encode())
            if reply.code != 250:
                reply = await smtp.execute_command(b"HELO", self.helo.encode())
            reply = await smtp.execute_command(b"MAIL", f"FROM:<{self.options.mail_from}>".encode())
            if reply.code != 250:
                outcome = ProbeOutcome(ProbeStatus.UNDECIDED, reply.code, f"MAIL FROM refused: {reply.message}")
                return dict.fromkeys(chunk, outcome)
            random_box = f"sendwell-probe-{secrets.token_hex(8)}@{domain}"
            reply = await smtp.execute_command(b"RCPT", f"TO:<{random_box}>".encode())
            if classify(reply.code, reply.message) is ProbeStatus.ACCEPTED:
                outcome = ProbeOutcome(ProbeStatus.CATCH_ALL, reply.code, "the MX accepts any mailbox (catch-all)")
                return dict.fromkeys(chunk, outcome)
            outcomes = {}
            for address in chunk:
                if not address.isascii():  # would need SMTPUTF8 in MAIL FROM; not worth a second session
                    outcomes[address] = ProbeOutcome(ProbeStatus.UNDECIDED, message="internationalized: not probed")
                    continue
                reply = await smtp.execute_command(b"RCPT", f"TO:<{address}>".encode())
                outcomes[address] = ProbeOutcome(classify(reply.code, reply.message), reply.code, reply.message)
            return outcomes
        finally:
            try:
                await smtp.quit()
            except Exception:  # the answers are in; a rude hang-up changes nothing
                smtp.close()


def _say(err: Exception) -> str:
    if isinstance(err, asyncio.TimeoutError | TimeoutError) or "timeout" in type(err).__name__.lower():
        return "timed out"
    return str(err) or type(err).__name__
