"""SPF parsing and the receiver's evaluation of one IP (RFC 7208), against a local DNS server."""

from __future__ import annotations

import pytest

from sendwell.domaincheck import spf
from sendwell.domaincheck.dmarc import aligned, org_domain
from sendwell.domaincheck.lookup import Dns, parse_nameserver

from .dnsserver import ZoneServer

ZONE = {
    "a.example": {
        "TXT": ["v=spf1 a/24 mx//64 include:b.example redirect=c.example"],
        "A": ["192.0.2.10"],
        "MX": ["10 mx.a.example."],
    },
    "mx.a.example": {"AAAA": ["2001:db8:1::25"]},
    "b.example": {"TXT": ["v=spf1 ip4:198.51.100.7 exists:ok.b.example -all"]},
    "ok.b.example": {"A": ["127.0.0.2"]},
    "c.example": {"TXT": ["v=spf1 ip6:2001:db8:ff::/48 ~all"]},
}


@pytest.fixture(scope="module")
def dns():
    with ZoneServer(ZONE) as server:
        yield Dns(server.resolver(timeout=1.0))


@pytest.mark.parametrize(
    ("ip", "result"),
    [
        ("192.0.2.200", "pass"),  # a/24
        ("2001:db8:1::99", "pass"),  # mx//64
        ("198.51.100.7", "pass"),  # include → ip4 (and exists matches anything else in b.example)
        ("203.0.113.1", "pass"),  # include's exists: matches every IP
    ],
)
def test_check_host_mechanisms(dns, ip, result):
    assert spf.check_host(dns, ip, "a.example").result == result


def test_redirect_and_qualifiers(dns):
    v = spf.check_host(dns, "2001:db8:ff::1", "c.example")
    assert v.result == "pass" and "ip6:2001:db8:ff::/48" in v.matched
    assert spf.check_host(dns, "2001:db8:aa::1", "c.example").result == "softfail"
    assert spf.check_host(dns, "192.0.2.1", "nothing.example").result == "none"


def test_analysis_counts_lookups_across_the_tree(dns):
    a = spf.analyze(dns, "a.example")
    # a, mx, include, redirect in a.example; exists in b.example
    assert a.lookups == 5
    assert [c.domain for c in a.top.children] == ["b.example", "c.example"]
    assert a.final_all() is not None and a.final_all().qualifier == "~"  # through redirect=


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1 foo:bar -all",
        "v=spf1 ip4:1.2.3 -all",
        "v=spf1 ip4:2001:db8::1 -all",
        "v=spf1 include -all",
        "v=spf1 a/33",
        "v=spf1 redirect=a redirect=b",
        "spf1 -all",
    ],
)
def test_syntax_errors(record):
    with pytest.raises(spf.SpfSyntaxError):
        spf.parse(record)


def test_parse_terms():
    terms = spf.parse("v=spf1 -ip4:10.0.0.0/8 ~a:mail.example/24//64 ?mx exp=explain.example -all")
    assert [(t.qualifier, t.name, t.value, t.cidr4, t.cidr6) for t in terms if not t.modifier] == [
        ("-", "ip4", "10.0.0.0/8", None, None),
        ("~", "a", "mail.example", 24, 64),
        ("?", "mx", "", None, None),
        ("-", "all", "", None, None),
    ]


def test_alignment_and_organizational_domain():
    assert org_domain("news.shop.example") == "shop.example"
    assert org_domain("mail.shop.co.uk") == "shop.co.uk"
    assert aligned("bounces.shop.example", "shop.example", "r")
    assert not aligned("bounces.shop.example", "shop.example", "s")
    assert not aligned("shop.co.uk", "other.co.uk", "r")


def test_nameserver_option_parsing():
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("[::1]:53") == ("::1", 53)
    assert parse_nameserver("192.0.2.1") == ("192.0.2.1", 53)
    with pytest.raises(ValueError):
        parse_nameserver("dns.example")


def test_more_than_two_void_lookups_is_a_permerror():
    zone = {"v.example": {"TXT": ["v=spf1 a:gone1.v.example a:gone2.v.example a:gone3.v.example ip4:192.0.2.1 -all"]}}
    with ZoneServer(zone) as server:
        verdict = spf.check_host(Dns(server.resolver(timeout=1.0)), "192.0.2.1", "v.example")
    assert verdict.result == "permerror" and "void" in verdict.why
