"""Does the domain accept mail? Against a real DNS server on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from sendwell.model import Verdict
from sendwell.verify.dns import DnsChecker, DomainStatus
from sendwell.verify.localdns import LocalDnsServer
from sendwell.verify.run import Verifier, VerifyOptions, verify_texts
from sendwell.verify.verdict import Reason


def check(dns_server: LocalDnsServer, domain: str):
    checker = DnsChecker(["127.0.0.1"], dns_server.port, timeout=0.5)
    return asyncio.run(checker.check(domain))


@pytest.mark.parametrize(
    ("domain", "status"),
    [
        ("mx.example.com", DomainStatus.ACCEPTS),
        ("implicit.example.com", DomainStatus.ACCEPTS),  # no MX, an A record: the implicit MX of RFC 5321
        ("v6only.example.com", DomainStatus.ACCEPTS),
        ("alias.example.com", DomainStatus.ACCEPTS),
        ("nullmx.example.com", DomainStatus.NO_MAIL),
        ("nomail.example.com", DomainStatus.NO_MAIL),
        ("missing.example.com", DomainStatus.NO_DOMAIN),
        ("slow.example.com", DomainStatus.UNKNOWN),
        ("broken.example.com", DomainStatus.UNKNOWN),
    ],
)
def test_mail_domain_status(dns_server, domain, status):
    assert check(dns_server, domain).status is status


def test_mx_hosts_come_in_preference_order(dns_server):
    assert check(dns_server, "mx.example.com").hosts == ("mx1.mx.example.com", "mx2.mx.example.com")
    assert check(dns_server, "implicit.example.com").hosts == ("implicit.example.com",)


@pytest.mark.parametrize(
    ("address", "verdict", "reasons"),
    [
        ("ann@mx.example.com", Verdict.VALID, []),
        ("ann@implicit.example.com", Verdict.VALID, []),
        ("ann@nullmx.example.com", Verdict.INVALID, [Reason.NO_MAIL]),
        ("ann@nomail.example.com", Verdict.INVALID, [Reason.NO_MAIL]),
        ("ann@missing.example.com", Verdict.INVALID, [Reason.NO_DOMAIN]),
        ("ann@slow.example.com", Verdict.UNKNOWN, [Reason.DNS_UNAVAILABLE]),
        ("ann@broken.example.com", Verdict.UNKNOWN, [Reason.DNS_UNAVAILABLE]),
        ("info@mx.example.com", Verdict.RISKY, [Reason.ROLE]),
        ("ann@mailinator.com", Verdict.RISKY, [Reason.DISPOSABLE]),
        ("info@slow.example.com", Verdict.RISKY, [Reason.ROLE, Reason.DNS_UNAVAILABLE]),
        ("ann@gmial.com", Verdict.INVALID, [Reason.TYPO_SUSPECTED, Reason.NO_DOMAIN]),
        ("ann@@mx.example.com", Verdict.INVALID, [Reason.SYNTAX]),
    ],
)
def test_every_verdict_with_dns(dns_options, address, verdict, reasons):
    [result] = verify_texts([address], dns_options)
    assert result.verdict is verdict
    assert [r for r in result.reasons if r is not Reason.DISPOSABLE or Reason.DISPOSABLE in reasons] == reasons


def test_typo_domain_gets_a_suggestion_not_a_silent_fix(dns_options):
    [result] = verify_texts(["Ann@gmial.com"], dns_options)
    assert result.suggestion == "Ann@gmail.com"
    assert result.key == "ann@gmial.com"


def test_one_query_per_distinct_domain_per_run(dns_server, dns_options):
    before = dns_server.queries[("implicit.example.com", "MX")]
    texts = [f"user{i}@implicit.example.com" for i in range(50)] + ["x@IMPLICIT.example.com"]
    verifier = Verifier(dns_options)
    results = verifier.verify(texts)
    verifier.verify(["again@implicit.example.com"])  # a later batch of the same run: answered from the cache
    assert {r.verdict for r in results} == {Verdict.VALID}
    assert dns_server.queries[("implicit.example.com", "MX")] - before == 1
    assert verifier.dns.queries == 2  # MX (no answer), then A


def test_at_least_200_queries_in_flight():
    domains = [f"d{i}.bulk.example" for i in range(250)]
    zone = {d: {"MX": [(10, "mx.bulk.example")]} for d in domains}
    # The server answers nothing until 220 queries wait at once: only a client with 220+ in flight gets answers.
    with LocalDnsServer(zone, release_at=220) as server:
        options = VerifyOptions(nameservers=["127.0.0.1"], dns_port=server.port, dns_timeout=30, concurrency=250)
        verifier = Verifier(options)
        results = verifier.verify([f"a@{d}" for d in domains])
    assert all(r.verdict is Verdict.VALID for r in results)
    assert server.max_pending >= 220 and verifier.dns.max_in_flight == 250


def test_concurrency_limit_is_respected():
    zone = {f"d{i}.few.example": {"A": ["192.0.2.1"]} for i in range(40)}
    with LocalDnsServer(zone, delay=0.05) as server:
        verifier = Verifier(VerifyOptions(nameservers=["127.0.0.1"], dns_port=server.port, concurrency=8))
        verifier.verify([f"a@{d}" for d in zone])
    assert verifier.dns.max_in_flight == 8
