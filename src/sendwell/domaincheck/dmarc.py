"""DMARC (RFC 7489): the policy record, the organizational domain, and identifier alignment."""

from __future__ import annotations

from dataclasses import dataclass, field

from sendwell.domaincheck.lookup import Dns

POLICIES = ("none", "quarantine", "reject")

# Public suffixes of more than one label that people send from. sendwell carries no copy of the Public
# Suffix List, so the organizational domain is the registrable name under these or under the last label;
# a domain under another multi-label suffix is seen as its own organization (alignment judged strictly).
MULTI_LABEL_SUFFIXES = frozenset(
    {
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "me.uk",
        "ltd.uk",
        "plc.uk",
        "net.uk",
        "com.au",
        "net.au",
        "org.au",
        "edu.au",
        "gov.au",
        "co.nz",
        "org.nz",
        "net.nz",
        "co.za",
        "org.za",
        "co.jp",
        "ne.jp",
        "or.jp",
        "ac.jp",
        "co.kr",
        "or.kr",
        "com.br",
        "net.br",
        "org.br",
        "com.mx",
        "com.ar",
        "com.tr",
        "com.cn",
        "net.cn",
        "org.cn",
        "com.tw",
        "com.hk",
        "com.sg",
        "com.my",
        "co.in",
        "net.in",
        "org.in",
        "co.id",
        "co.il",
        "co.th",
        "com.ua",
        "com.pl",
        "com.ru",
        "spb.ru",
        "msk.ru",
        "com.es",
    }
)


def org_domain(domain: str) -> str:
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in MULTI_LABEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(identifier: str, from_domain: str, mode: str) -> bool:
    """Strict ("s"): the same domain; relaxed ("r"): the same organizational domain."""
    a, b = identifier.lower().rstrip("."), from_domain.lower().rstrip(".")
    return a == b if mode == "s" else org_domain(a) == org_domain(b)


@dataclass
class Policy:
    record: str
    found_at: str  # _dmarc.<domain> or _dmarc.<organizational domain>
    tags: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def p(self) -> str:
        return self.tags.get("p", "")

    @property
    def pct(self) -> int:
        try:
            return int(self.tags.get("pct", "100"))
        except ValueError:
            return 100

    @property
    def adkim(self) -> str:
        return self.tags.get("adkim", "r")

    @property
    def aspf(self) -> str:
        return self.tags.get("aspf", "r")

    @property
    def rua(self) -> str:
        return self.tags.get("rua", "")


def parse(record: str, found_at: str) -> Policy:
    policy = Policy(record, found_at)
    parts = [p.strip() for p in record.split(";") if p.strip()]
    for i, part in enumerate(parts):
        name, sep, value = part.partition("=")
        if not sep:
            policy.problems.append(f"{part!r} is not a tag=value pair")
            continue
        name, value = name.strip().lower(), value.strip()
        if i == 0 and (name != "v" or value != "DMARC1"):
            policy.problems.append("the record must start with v=DMARC1")
        policy.tags[name] = value
    if policy.tags.get("p", "").lower() not in POLICIES:
        policy.problems.append(f"p={policy.tags.get('p', '')!r}: must be none, quarantine or reject")
    else:
        policy.tags["p"] = policy.tags["p"].lower()
    for tag in ("adkim", "aspf"):
        if policy.tags.get(tag, "r") not in ("r", "s"):
            policy.problems.append(f"{tag}={policy.tags[tag]!r}: must be r (relaxed) or s (strict)")
    pct = policy.tags.get("pct", "0")
    if "pct" in policy.tags and not (pct.isascii() and pct.isdigit() and 0 <= int(pct) <= 100):
        policy.problems.append(f"pct={policy.tags['pct']!r}: must be a number from 0 to 100")
    return policy


def dmarc_records(dns: Dns, domain: str) -> list[str]:
    return [t for t in (dns.txt(f"_dmarc.{domain}") or []) if t.replace(" ", "").lower().startswith("v=dmarc1")]


def lookup(dns: Dns, domain: str) -> tuple[list[str], str]:
    """(DMARC records, where found): at _dmarc.<domain>, else at the organizational domain (§6.6.3)."""
    records = dmarc_records(dns, domain)
    if records:
        return records, f"_dmarc.{domain}"
    org = org_domain(domain)
    if org != domain:
        records = dmarc_records(dns, org)
        if records:
            return records, f"_dmarc.{org}"
    return [], ""
