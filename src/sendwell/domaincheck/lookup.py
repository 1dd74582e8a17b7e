"""DNS questions for the domain check, through a dnspython resolver that the caller can point anywhere."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
import dns.reversename


class DnsFailure(Exception):
    """The question got no usable answer (timeout, SERVFAIL, refused): the result is unknown, not empty."""


def make_resolver(nameserver: str | None = None, port: int = 53, timeout: float = 5.0) -> dns.resolver.Resolver:
    """The system resolver, or one that asks only `nameserver` (an IP address) on `port`."""
    if nameserver:
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = [nameserver]
        r.port = port
    else:
        r = dns.resolver.Resolver()
    r.timeout = r.lifetime = timeout
    return r


def parse_nameserver(value: str) -> tuple[str, int]:
    """'IP' or 'IP:PORT' or '[IPv6]:PORT' → (ip, port); ValueError if it is not an IP address."""
    host, port = value, 53
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = int(rest.lstrip(":") or 53)
    elif value.count(":") == 1:
        host, _, p = value.partition(":")
        port = int(p)
    ipaddress.ip_address(host)
    return host, port


@dataclass
class Dns:
    """Answers as plain Python values: None means "no such record" (NXDOMAIN or no data)."""

    resolver: dns.resolver.Resolver = field(default_factory=make_resolver)
    queries: int = 0

    def _ask(self, name: str, rdtype: str) -> dns.resolver.Answer | None:
        self.queries += 1
        try:
            return self.resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return None
        except dns.resolver.NoNameservers as err:
            raise DnsFailure(
                f"{name} {rdtype}: no server answered ({err.msg if hasattr(err, 'msg') else err})"
            ) from None
        except (dns.exception.Timeout, dns.resolver.LifetimeTimeout):
            raise DnsFailure(f"{name} {rdtype}: timed out") from None
        except (dns.name.EmptyLabel, dns.name.LabelTooLong, dns.name.NameTooLong) as err:
            raise DnsFailure(f"{name}: not a valid DNS name ({err})") from None
        except dns.exception.DNSException as err:
            raise DnsFailure(f"{name} {rdtype}: {err}") from None

    def txt(self, name: str) -> list[str] | None:
        answer = self._ask(name, "TXT")
        if answer is None or answer.rrset is None:
            return None
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]

    def mx(self, name: str) -> list[tuple[int, str]] | None:
        answer = self._ask(name, "MX")
        if answer is None or answer.rrset is None:
            return None
        return sorted((r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in answer)

    def addresses(self, name: str, family: str = "both") -> list[str]:
        out: list[str] = []
        for rdtype in {"both": ("A", "AAAA"), "A": ("A",), "AAAA": ("AAAA",)}[family]:
            answer = self._ask(name, rdtype)
            if answer is not None and answer.rrset is not None:
                out += [r.address for r in answer]
        return out

    def ptr(self, ip: str) -> list[str] | None:
        answer = self._ask(dns.reversename.from_address(ip).to_text(), "PTR")
        if answer is None or answer.rrset is None:
            return None
        return [r.target.to_text(omit_final_dot=True).lower() for r in answer]
