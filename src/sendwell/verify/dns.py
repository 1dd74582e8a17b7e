"""Does a domain accept mail? MX, else the implicit MX of A/AAAA (RFC 5321 5.1); null MX (RFC 7505) = no.

Asynchronous (dnspython), one lookup per distinct domain per run (answers and in-flight lookups are
shared), at most `concurrency` queries in flight, and an injectable resolver address so tests talk to a
local DNS server. "The domain does not exist" (NXDOMAIN) and "DNS did not answer" (timeout, SERVFAIL)
are kept apart: the first is final, the second means try again later.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

from sendwell.verify.verdict import Reason


class DomainStatus(StrEnum):
    ACCEPTS = "accepts"  # MX hosts, or an A/AAAA record standing in for one
    NO_MAIL = "no_mail"  # null MX, or no MX, A nor AAAA
    NO_DOMAIN = "no_domain"  # NXDOMAIN
    UNKNOWN = "unknown"  # timeout, SERVFAIL, refused: no decision now


STATUS_REASON: dict[DomainStatus, Reason | None] = {
    DomainStatus.ACCEPTS: None,
    DomainStatus.NO_MAIL: Reason.NO_MAIL,
    DomainStatus.NO_DOMAIN: Reason.NO_DOMAIN,
    DomainStatus.UNKNOWN: Reason.DNS_UNAVAILABLE,
}

# dnspython's answers that mean "no decision now", as opposed to NXDOMAIN / NoAnswer.
_UNDECIDED = (dns.resolver.LifetimeTimeout, dns.resolver.NoNameservers, dns.exception.Timeout)


@dataclass(frozen=True, slots=True)
class MailDomain:
    domain: str
    status: DomainStatus
    hosts: tuple[str, ...] = ()  # mail exchangers, best preference first (the domain itself if implicit)
    detail: str = ""


class DnsChecker:
    """Mail-domain lookups for one run: cached, de-duplicated and bounded in concurrency."""

    def __init__(
        self, nameservers: list[str] | None = None, port: int = 53, timeout: float = 5.0, concurrency: int = 200
    ) -> None:
        self.resolver = dns.asyncresolver.Resolver(configure=nameservers is None)
        if nameservers is not None:
            self.resolver.nameservers = list(nameservers)
        self.resolver.port = port
        # A lost UDP packet is retried within the lifetime instead of eating all of it.
        self.resolver.timeout = min(timeout, max(0.5, timeout / 3))
        self.resolver.lifetime = timeout
        self.resolver.cache = None  # our own cache is per run and also holds negative answers
        self.concurrency = concurrency
        self.results: dict[str, MailDomain] = {}
        self._hosts: dict[str, tuple[str, ...]] = {}
        self._pending: dict[str, asyncio.Future[MailDomain]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self.queries = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def _bind_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._slots is None:  # a new asyncio.run(): futures of the old loop are dead
            self._loop, self._slots, self._pending = loop, asyncio.Semaphore(self.concurrency), {}
        return self._slots

    async def _query(self, name: str, rdtype: str) -> dns.resolver.Answer:
        async with self._bind_loop():
            self.queries += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await self.resolver.resolve(name, rdtype, search=False)
            finally:
                self.in_flight -= 1

    async def check(self, domain: str) -> MailDomain:
        """Whether `domain` (ASCII, lower case) accepts mail; every caller for a domain shares one lookup."""
        done = self.results.get(domain)
        if done is not None:
            return done
        self._bind_loop()
        pending = self._pending.get(domain)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(domain))
            self._pending[domain] = pending
        result = await asyncio.shield(pending)
        self.results[domain] = result
        self._pending.pop(domain, None)
        return result

    async def _lookup(self, domain: str) -> MailDomain:
        try:
            answer = await self._query(domain, "MX")
        except dns.resolver.NXDOMAIN:
            return MailDomain(domain, DomainStatus.NO_DOMAIN, detail="the domain does not exist (NXDOMAIN)")
        except dns.resolver.NoAnswer:
            return await self._implicit_mx(domain)
        except _UNDECIDED as err:
            return MailDomain(domain, DomainStatus.UNKNOWN, detail=f"MX lookup failed: {_say(err)}")
        except dns.exception.DNSException as err:
            return MailDomain(domain, DomainStatus.UNKNOWN, detail=f"MX lookup failed: {_say(err)}")
        records = sorted(answer, key=lambda r: r.preference)
        hosts = tuple(r.exchange.to_text(omit_final_dot=True).lower() for r in records if r.exchange != dns.name.root)
        if not hosts:
            return MailDomain(domain, DomainStatus.NO_MAIL, detail="null MX: the domain takes no mail (RFC 7505)")
        return MailDomain(domain, DomainStatus.ACCEPTS, hosts)

    async def _implicit_mx(self, domain: str) -> MailDomain:
        # RFC 5321 5.1: no MX records means the domain's own address records act as its MX.
        for rdtype in ("A", "AAAA"):
            try:
                answer = await self._query(domain, rdtype)
            except dns.resolver.NoAnswer:
                continue
            except dns.resolver.NXDOMAIN:
                return MailDomain(domain, DomainStatus.NO_DOMAIN, detail="the domain does not exist (NXDOMAIN)")
            except dns.exception.DNSException as err:
                return MailDomain(domain, DomainStatus.UNKNOWN, detail=f"{rdtype} lookup failed: {_say(err)}")
            self._hosts[domain] = tuple(r.to_text() for r in answer)
            return MailDomain(domain, DomainStatus.ACCEPTS, (domain,), detail=f"no MX: implicit MX from {rdtype}")
        return MailDomain(domain, DomainStatus.NO_MAIL, detail="no MX, A or AAAA record")

    async def host_addresses(self, host: str) -> tuple[str, ...]:
        """IP addresses of a mail exchanger (for the SMTP probe); empty when it has none or DNS failed."""
        known = self._hosts.get(host)
        if known is not None:
            return known
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                found.extend(r.to_text() for r in await self._query(host, rdtype))
            except dns.exception.DNSException:
                continue
        self._hosts[host] = tuple(found)
        return self._hosts[host]


def _say(err: Exception) -> str:
    if isinstance(err, dns.exception.Timeout):
        return "timed out"
    if isinstance(err, dns.resolver.NoNameservers):
        return "no server answered (SERVFAIL or refused)"
    return str(err) or type(err).__name__
