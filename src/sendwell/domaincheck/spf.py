"""SPF (RFC 7208): parse a record, walk its include/redirect chain counting DNS lookups, and evaluate an IP.

`analyze` expands the whole tree, because a receiver may have to go through all of it (an IP that
matches late, or not at all) and every term past the tenth lookup is a permanent error for everyone.
`check_host` is the receiver's evaluation for one IP, stopping at the first match.
Macros (%{…}) are not expanded: such terms are reported and treated as not matching.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from sendwell.domaincheck.lookup import Dns, DnsFailure

LOOKUP_LIMIT = 10  # RFC 7208 §4.6.4: include, a, mx, ptr, exists and redirect each cost one
MX_ADDRESS_LIMIT = 10  # §4.6.4: an mx term may look up at most ten host names
VOID_LIMIT = 2  # §4.6.4: more than two lookups that find nothing is a permerror
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
COUNTED = frozenset({"include", "a", "mx", "ptr", "exists"})
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


class SpfSyntaxError(ValueError):
    """The record cannot be parsed; receivers return permerror."""


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    name: str  # mechanism or modifier name, lower case
    qualifier: str = "+"
    value: str = ""  # domain-spec, IP network, or modifier value
    cidr4: int | None = None
    cidr6: int | None = None
    modifier: bool = False


def parse(record: str) -> list[Term]:
    """The terms of a `v=spf1 …` record."""
    words = record.split()
    if not words or words[0].lower() != "v=spf1":
        raise SpfSyntaxError(f"does not start with v=spf1: {record!r}")
    terms = []
    for word in words[1:]:
        name_part = word.split(":", 1)[0].split("/", 1)[0]
        if "=" in name_part:
            name, _, value = word.partition("=")
            if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise SpfSyntaxError(f"bad modifier {word!r}")
            terms.append(Term(word, name.lower(), value=value, modifier=True))
            continue
        qualifier = "+"
        if word[0] in QUALIFIERS:
            qualifier, word_rest = word[0], word[1:]
        else:
            word_rest = word
        name, sep, value = word_rest.partition(":")
        cidr4 = cidr6 = None
        if not sep and "/" in name:
            name, _, cidrs = name.partition("/")
            value = ""
            cidr4, cidr6 = _cidrs("/" + cidrs, word)
        elif name.lower() in ("a", "mx") and "/" in value:
            value, _, cidrs = value.partition("/")
            cidr4, cidr6 = _cidrs("/" + cidrs, word)
        name = name.lower()
        if name not in MECHANISMS:
            raise SpfSyntaxError(f"unknown mechanism {word!r}")
        if name in ("include", "exists", "ip4", "ip6") and not value:
            raise SpfSyntaxError(f"{name} needs a value: {word!r}")
        if name == "all" and (sep or value):
            raise SpfSyntaxError(f"all takes no value: {word!r}")
        if name in ("ip4", "ip6"):
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise SpfSyntaxError(f"bad address {word!r}") from None
            if (net.version == 4) != (name == "ip4"):
                raise SpfSyntaxError(f"{name} with an IPv{net.version} address: {word!r}")
        terms.append(Term(word, name, qualifier, value, cidr4, cidr6))
    redirects = [t for t in terms if t.modifier and t.name == "redirect"]
    if len(redirects) > 1:
        raise SpfSyntaxError("more than one redirect=")
    return terms


def _cidrs(text: str, word: str) -> tuple[int | None, int | None]:
    # "/24", "//64" or "/24//64"
    four, _, six = text.partition("//")
    try:
        c4 = int(four[1:]) if four[1:] else None
        c6 = int(six) if six else None
    except ValueError:
        raise SpfSyntaxError(f"bad prefix length in {word!r}") from None
    if (c4 is not None and not 0 <= c4 <= 32) or (c6 is not None and not 0 <= c6 <= 128):
        raise SpfSyntaxError(f"bad prefix length in {word!r}")
    return c4, c6


def spf_records(dns: Dns, domain: str) -> list[str]:
    return [t for t in (dns.txt(domain) or []) if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


# --------------------------------------------------------------------------- the whole tree


@dataclass
class Node:
    domain: str
    via: str = ""  # the term that led here ("" for the top)
    record: str | None = None
    problem: str = ""  # none | several | syntax … (empty when the record is usable)
    terms: list[Term] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)


@dataclass
class Analysis:
    top: Node
    lookups: int = 0  # DNS-querying terms in the whole tree
    loops: list[str] = field(default_factory=list)  # "a → b → a"
    broken: list[str] = field(default_factory=list)  # includes/redirects that give permerror or temperror
    macros: list[str] = field(default_factory=list)
    ptr: bool = False

    def final_all(self) -> Term | None:
        """The `all` that ends the top record (following redirect=), or None when there is none."""
        node: Node | None = self.top
        while node is not None:
            for t in node.terms:
                if t.name == "all" and not t.modifier:
                    return t
            node = next((c for c in node.children if c.via.startswith("redirect=")), None)
        return None


def analyze(dns: Dns, domain: str, max_nodes: int = 40) -> Analysis:
    """Expand the include/redirect tree of `domain`, counting the lookups a receiver may need."""
    top = Node(domain)
    result = Analysis(top)
    seen = 0

    def walk(node: Node, chain: tuple[str, ...]) -> None:
        nonlocal seen
        seen += 1
        try:
            records = spf_records(dns, node.domain)
        except DnsFailure as err:
            node.problem = f"lookup failed: {err}"
            return
        if not records:
            node.problem = "no SPF record"
            return
        if len(records) > 1:
            node.problem = f"{len(records)} SPF records"
            node.record = " | ".join(records)
            return
        node.record = records[0]
        try:
            node.terms = parse(records[0])
        except SpfSyntaxError as err:
            node.problem = f"syntax: {err}"
            return
        for t in node.terms:
            if "%" in t.value:
                result.macros.append(f"{node.domain}: {t.text}")
            if t.name in COUNTED and not t.modifier:
                result.lookups += 1
            if t.name == "ptr" and not t.modifier:
                result.ptr = True
            target = ""
            if t.name == "include" and not t.modifier:
                target = t.value
            elif t.modifier and t.name == "redirect":
                result.lookups += 1
                target = t.value
            if not target or "%" in target:
                continue
            target = target.lower().rstrip(".")
            child = Node(target, via=t.text)
            node.children.append(child)
            if target in chain:
                result.loops.append(" → ".join((*chain, target)))
                child.problem = "loop"
                continue
            if seen >= max_nodes:
                child.problem = "not followed (too many records)"
                continue
            walk(child, (*chain, target))
            if child.problem and child.problem != "loop":
                result.broken.append(f"{t.text} in {node.domain}: {child.problem}")

    walk(top, (domain.lower().rstrip("."),))
    return result


# --------------------------------------------------------------------------- one IP, the receiver's way


class _Limit(Exception):
    """Evaluation stops with permerror; the argument says why."""


@dataclass
class Verdict:
    result: str  # pass | fail | softfail | neutral | none | permerror | temperror
    matched: str = ""  # the term that decided, with the chain to it
    why: str = ""
    lookups: int = 0


def check_host(dns: Dns, ip: str, domain: str) -> Verdict:
    """What a receiver concludes for mail from `ip` whose envelope domain is `domain`."""
    addr = ipaddress.ip_address(ip)
    state = {"lookups": 0, "void": 0}
    try:
        result, matched, why = _check(dns, addr, domain.lower().rstrip("."), state, ())
    except _Limit as stop:
        result, matched, why = "permerror", "", str(stop)
    return Verdict(result, matched, why, state["lookups"])


def _count(state: dict[str, int]) -> None:
    state["lookups"] += 1
    if state["lookups"] > LOOKUP_LIMIT:
        raise _Limit(f"more than {LOOKUP_LIMIT} DNS lookups")


def _void(state: dict[str, int], found: list) -> list:
    if not found:
        state["void"] += 1
        if state["void"] > VOID_LIMIT:
            raise _Limit(f"more than {VOID_LIMIT} lookups found nothing (void lookups)")
    return found


def _in(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, ips: list[str], c4: int | None, c6: int | None) -> bool:
    for text in ips:
        other = ipaddress.ip_address(text)
        if other.version != addr.version:
            continue
        prefix = c4 if other.version == 4 else c6
        net = ipaddress.ip_network(f"{other}/{prefix if prefix is not None else other.max_prefixlen}", strict=False)
        if addr in net:
            return True
    return False


def _check(dns: Dns, addr, domain: str, state: dict[str, int], chain: tuple[str, ...]) -> tuple[str, str, str]:
    try:
        records = spf_records(dns, domain)
    except DnsFailure as err:
        return "temperror", "", str(err)
    if not records:
        return "none", "", f"{domain} has no SPF record"
    if len(records) > 1:
        return "permerror", "", f"{domain} has {len(records)} SPF records"
    try:
        terms = parse(records[0])
    except SpfSyntaxError as err:
        return "permerror", "", f"{domain}: {err}"
    family = "A" if addr.version == 4 else "AAAA"
    try:
        for t in terms:
            if t.modifier:
                continue
            if "%" in t.value:
                continue  # macros are not expanded here
            target = (t.value or domain).lower().rstrip(".")
            if t.name in COUNTED:
                _count(state)
            if t.name == "all":
                match = True
            elif t.name in ("ip4", "ip6"):
                net = ipaddress.ip_network(t.value, strict=False)
                match = net.version == addr.version and addr in net
            elif t.name == "a":
                match = _in(addr, _void(state, dns.addresses(target, family)), t.cidr4, t.cidr6)
            elif t.name == "mx":
                hosts = _void(state, [h for _, h in (dns.mx(target) or [])])
                if len(hosts) > MX_ADDRESS_LIMIT:
                    return "permerror", t.text, f"{target} has more than {MX_ADDRESS_LIMIT} MX hosts"
                match = any(_in(addr, dns.addresses(h, family), t.cidr4, t.cidr6) for h in hosts if h)
            elif t.name == "exists":
                match = bool(_void(state, dns.addresses(target, "A")))
            elif t.name == "ptr":
                names = dns.ptr(str(addr)) or []
                match = any(
                    (n == target or n.endswith("." + target)) and str(addr) in dns.addresses(n, family)
                    for n in names[:10]
                )
            else:  # include
                if target in chain or target == domain:
                    return "permerror", t.text, f"include loop through {target}"
                sub, matched, why = _check(dns, addr, target, state, (*chain, domain))
                if sub in ("temperror",):
                    return sub, matched, why
                if sub in ("permerror", "none"):
                    return "permerror", t.text, why or f"{target} has no SPF record"
                match = sub == "pass"
                if match:
                    return QUALIFIERS[t.qualifier], f"{matched}, via {t.text}", why
            if match:
                return QUALIFIERS[t.qualifier], f"{t.text} in {domain}", ""
    except DnsFailure as err:
        return "temperror", "", str(err)
    redirect = next((t for t in terms if t.modifier and t.name == "redirect"), None)
    if redirect is not None and "%" not in redirect.value:
        _count(state)
        target = redirect.value.lower().rstrip(".")
        if target in chain or target == domain:
            return "permerror", redirect.text, f"redirect loop through {target}"
        sub, matched, why = _check(dns, addr, target, state, (*chain, domain))
        return ("permerror" if sub == "none" else sub), matched, why
    return "neutral", "", "no term matched and there is no all"
