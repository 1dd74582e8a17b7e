"""The domain check: every finding about a sending domain's DNS, each with what to fix in plain words."""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sendwell import dkim
from sendwell.domaincheck import dmarc, spf
from sendwell.domaincheck.findings import Check, Level, Report, Step
from sendwell.domaincheck.lookup import Dns, DnsFailure
from sendwell.errors import Hint

PLACEHOLDER_BOUNCE_DOMAINS = frozenset({"bounces.localhost.localdomain", "localhost", "localhost.localdomain"})
OK, WARN, ERROR = Level.OK, Level.WARN, Level.ERROR


def check_domain(
    domain: str,
    *,
    dns: Dns | None = None,
    selectors: Sequence[str] = (),
    relay_ip: str | None = None,
    bounce_domain: str | None = None,
    keys_dir: str | os.PathLike | None = None,
    bounce_reader: str | None = None,
) -> Report:
    """Check `domain` as the From domain of campaigns sent through `relay_ip` with bounces to `bounce_domain`,
    whose mail should reach `bounce_reader` (the host bounces are read at, [bounces] mx_host), when known."""
    dns = dns or Dns()
    domain = domain.strip().lower().rstrip(".")
    bounce = (bounce_domain or "").strip().lower().rstrip(".") or None
    report = Report(domain)
    folder = dkim.keys_dir(keys_dir)
    entries = dkim.load_index(folder)
    if relay_ip:
        try:
            relay_ip = str(ipaddress.ip_address(relay_ip.strip()))
        except ValueError:
            report.add(
                Check.RELAY,
                ERROR,
                f"the relay IP {relay_ip!r} is not an IP address",
                "give the public IP address your relay sends from, e.g. 203.0.113.25",
            )
            relay_ip = None

    check_mx(report, dns, domain)
    spf_usable = check_spf(report, dns, domain, Check.SPF, "the From domain")
    envelope = bounce if bounce and bounce not in PLACEHOLDER_BOUNCE_DOMAINS else domain
    if envelope != domain:
        spf_usable = check_spf(
            report, dns, envelope, Check.BOUNCE_SPF, "the bounce domain (MAIL FROM), the one receivers check SPF on"
        )
    spf_pass = check_relay(report, dns, relay_ip, envelope) if relay_ip else None
    dkim_domains = check_dkim(report, dns, domain, selectors, entries, folder)
    policy = check_dmarc(report, dns, domain)
    check_alignment(report, domain, dkim_domains, envelope, spf_usable and spf_pass is not False, policy)
    if relay_ip:
        check_rdns(report, dns, relay_ip, domain)
    check_bounce_mx(report, dns, bounce, domain, bounce_reader)
    return report


def _failed(report: Report, check: Check, err: DnsFailure) -> None:
    report.add(
        check,
        WARN,
        f"could not look this up: {err}",
        "check again later; if it persists, the domain's DNS "
        "servers are not answering, which also makes receivers defer or refuse your mail",
    )


# --------------------------------------------------------------------------- MX


def check_mx(report: Report, dns: Dns, domain: str) -> None:
    try:
        mx = dns.mx(domain)
    except DnsFailure as err:
        return _failed(report, Check.MX, err)
    if not mx:
        report.add(
            Check.MX,
            WARN,
            f"{domain} has no MX record: replies to your campaigns cannot be delivered, and "
            "some receivers distrust senders whose domain cannot receive mail",
            f"add an MX record for {domain} pointing at the server that receives its mail",
        )
    elif len(mx) == 1 and mx[0][1] in ("", "."):
        report.add(
            Check.MX,
            WARN,
            f"{domain} publishes a null MX (it accepts no mail): replies and complaints "
            "sent to your From address are lost",
            f"give {domain} a real MX if people may answer campaigns",
        )
    else:
        report.add(Check.MX, OK, f"MX: {', '.join(f'{pref} {host}' for pref, host in mx)}", mx=mx)


# --------------------------------------------------------------------------- SPF


def check_spf(report: Report, dns: Dns, domain: str, check: Check, role: str) -> bool:
    """Findings about the SPF record of `domain`; True when receivers can evaluate it (no permerror)."""
    a = spf.analyze(dns, domain)
    top = a.top
    suggestion = (
        f'publish one TXT record at {domain}: "v=spf1 ip4:<your relay\'s IP> -all" (or the include: '
        "your relay provider documents), ending in -all or ~all"
    )
    if top.problem.startswith("lookup failed"):
        report.add(check, WARN, f"could not read the SPF record of {domain}: {top.problem}", "check again later")
        return False
    if top.problem == "no SPF record":
        report.add(
            check,
            ERROR,
            f"{domain} ({role}) has no SPF record: receivers cannot tell which servers may "
            "send its mail, and Gmail and Yahoo require SPF for bulk senders",
            suggestion,
        )
        return False
    if top.problem.endswith("SPF records"):
        report.add(
            check,
            ERROR,
            f"{domain} has {top.problem}: receivers treat several as a permanent error "
            "(RFC 7208 §4.5), so SPF fails for all its mail",
            "merge them into a single TXT record starting with v=spf1 and delete the others",
            records=top.record.split(" | ") if top.record else [],
        )
        return False
    if top.problem.startswith("syntax"):
        report.add(
            check,
            ERROR,
            f"the SPF record of {domain} is broken ({top.problem[8:]}): receivers return "
            "permerror and SPF fails for all its mail",
            "correct the record: " + suggestion,
            record=top.record,
        )
        return False
    usable = True
    detail: dict[str, Any] = {"record": top.record, "lookups": a.lookups}
    for loop in a.loops:
        usable = False
        report.add(
            check,
            ERROR,
            f"SPF include loop: {loop}; a receiver that gets that far gives up with permerror, and SPF fails",
            "remove the include/redirect that points back to a domain already in the chain",
            **detail,
        )
    for broken in a.broken:
        usable = False
        report.add(
            check,
            ERROR,
            f"SPF {broken}: receivers return permerror for every message",
            "remove that include, or fix the record it points to",
            **detail,
        )
    if a.lookups > spf.LOOKUP_LIMIT:
        usable = False
        report.add(
            check,
            ERROR,
            f"the SPF record of {domain} needs {a.lookups} DNS lookups, more than the "
            f"{spf.LOOKUP_LIMIT} receivers allow (RFC 7208 §4.6.4): SPF fails with permerror",
            "remove includes of services you no longer use, or replace them by the ip4:/ip6: ranges they stand for",
            **detail,
        )
    final = a.final_all()
    if final is None:
        report.add(
            check,
            WARN,
            f"the SPF record of {domain} has no final all: mail from any other server is "
            "'neutral', so SPF does not protect the domain",
            "end the record with -all (or ~all)",
            **detail,
        )
    elif final.qualifier == "+":
        usable = False
        report.add(
            check,
            ERROR,
            f"the SPF record of {domain} ends in +all: every server on the internet passes "
            f"SPF as {domain}, and receivers treat the record as worthless or as a spam sign",
            "replace +all by -all (or ~all while you test)",
            **detail,
        )
    elif final.qualifier == "?":
        report.add(
            check,
            WARN,
            f"the SPF record of {domain} ends in ?all (neutral): it authorizes your servers "
            "but does not say that others are not",
            "replace ?all by ~all or -all",
            **detail,
        )
    if a.ptr:
        report.add(
            check,
            WARN,
            "the SPF record uses ptr, which is slow, deprecated (RFC 7208 §5.5) and ignored by some receivers",
            "replace ptr by the ip4:/ip6: ranges of your servers",
            **detail,
        )
    for term in a.macros:
        report.add(
            check,
            WARN,
            f"SPF macro not evaluated by this check: {term}",
            "nothing to fix if you know the macro is right",
            **detail,
        )
    if usable:
        report.add(
            check, OK, f"SPF of {domain}: {top.record} ({a.lookups} of {spf.LOOKUP_LIMIT} DNS lookups)", **detail
        )
    return usable


def check_relay(report: Report, dns: Dns, ip: str, envelope: str) -> bool:
    """Does SPF of the envelope (bounce) domain authorize the relay's IP? True/False as receivers would see it."""
    v = spf.check_host(dns, ip, envelope)
    fix = (
        f"add ip{ipaddress.ip_address(ip).version}:{ip} to the SPF record of {envelope} (before its all), "
        "or the include: of your relay provider"
    )
    if v.result == "pass":
        report.add(
            Check.RELAY,
            OK,
            f"SPF of {envelope} authorizes the relay {ip} ({v.matched})",
            result=v.result,
            lookups=v.lookups,
        )
        return True
    text = {
        "fail": f"SPF of {envelope} refuses the relay {ip} (fail{': ' + v.matched if v.matched else ''}): "
        "receivers will reject or junk your mail",
        "softfail": f"SPF of {envelope} does not authorize the relay {ip} (softfail: {v.matched}): receivers "
        "mark your mail as suspicious",
        "neutral": f"SPF of {envelope} says nothing about the relay {ip} (neutral)",
        "none": f"{envelope} has no SPF record, so the relay {ip} is not authorized",
        "permerror": f"SPF of {envelope} cannot be evaluated for {ip} (permerror: {v.why})",
        "temperror": f"SPF of {envelope} could not be evaluated for {ip} (temperror: {v.why})",
    }[v.result]
    report.add(Check.RELAY, WARN if v.result == "temperror" else ERROR, text, fix, result=v.result, lookups=v.lookups)
    return False


# --------------------------------------------------------------------------- DKIM


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = "".join(value.split())
    return tags


def _rsa_bits(p: str) -> int | None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(base64.b64decode(p))
    except (ValueError, TypeError):
        return None
    return key.key_size if isinstance(key, rsa.RSAPublicKey) else None


def check_dkim(
    report: Report, dns: Dns, domain: str, selectors: Sequence[str], entries: Sequence[dkim.KeyEntry], folder: Path
) -> list[str]:
    """Findings for each selector's record; returns the d= domains whose published key matches ours."""
    live = (dkim.KeyState.ACTIVE, dkim.KeyState.PENDING)
    key_domains = {e.domain for e in dkim.keys_for_domain(domain, entries, live)}
    ours = [e for e in entries if e.domain in key_domains and e.state in live]
    wanted: list[tuple[str, str]] = []  # (selector, d=)
    for sel in selectors:
        entry = next(
            (e for e in entries if e.selector == sel and (e.domain == domain or domain.endswith("." + e.domain))), None
        )
        wanted.append((sel, entry.domain if entry else domain))
    if not selectors:
        wanted = [(e.selector, e.domain) for e in ours]
    if not wanted:
        report.add(
            Check.DKIM,
            ERROR,
            f"no DKIM key for {domain} in {folder}, and no selector given: your mail "
            "goes out unsigned, which Gmail and Yahoo reject for bulk senders",
            "generate a key and publish the record it prints",
            steps=(Step(Hint.GENERATE_DKIM_KEY, domain, "s1"),),
        )
        return []
    good: list[str] = []
    for sel, d in wanted:
        name = f"{sel}._domainkey.{d}"
        entry = next((e for e in entries if e.selector == sel and e.domain == d), None)
        show = (Step(Hint.SHOW_DKIM_RECORD, d, sel),)  # the record to publish, as our key says it
        try:
            records = [t for t in (dns.txt(name) or []) if "p=" in t]
        except DnsFailure as err:
            _failed(report, Check.DKIM, err)
            continue
        pending = entry is not None and entry.state is dkim.KeyState.PENDING
        if not records and pending:
            report.add(
                Check.DKIM,
                WARN,
                f"the new key {sel} (not signing yet) has no record at {name}",
                "publish the key's TXT record, wait for the DNS TTL, then activate the key",
                steps=(*show, Step(Hint.ACTIVATE_DKIM_KEY, d, sel)),
                selector=sel,
            )
            continue
        if not records:
            fix, steps = (
                ("publish the key's TXT record", show)
                if entry
                else ("check the selector, or generate a key", (Step(Hint.GENERATE_DKIM_KEY, d, sel),))
            )
            report.add(
                Check.DKIM,
                ERROR,
                f"no DKIM record at {name}: receivers cannot verify signatures made with selector {sel}",
                fix,
                steps=steps,
                selector=sel,
            )
            continue
        if len(records) > 1:
            report.add(
                Check.DKIM,
                ERROR,
                f"{name} has {len(records)} DKIM records: receivers may pick either",
                "keep only the key's current record",
                steps=show,
                selector=sel,
            )
            continue
        tags = _tags(records[0])
        p, k = tags.get("p", ""), tags.get("k", "rsa").lower()
        if not p:
            report.add(
                Check.DKIM,
                ERROR,
                f"the key at {name} is revoked (empty p=)",
                "publish the current key or sign with another selector",
                steps=show,
                selector=sel,
            )
            continue
        problems = []
        if tags.get("v", "DKIM1") != "DKIM1":
            problems.append(f"v={tags['v']} (must be DKIM1)")
        if "h" in tags and "sha256" not in tags["h"].lower().split(":"):
            problems.append(f"h={tags['h']} excludes sha256, the only hash sendwell signs with")
        if "s" in tags and not {"*", "email"} & set(tags["s"].lower().split(":")):
            problems.append(f"s={tags['s']}: the key is not for email")
        if entry is not None:
            try:
                mine = dkim.public_key_b64(dkim.load_private_key(folder, entry))
            except Exception as err:  # a damaged key file is reported, not raised: the rest of the check goes on
                report.add(
                    Check.DKIM,
                    ERROR,
                    f"cannot read our key for {name}: {err}",
                    f"restore {folder / entry.file} or generate a new key",
                    selector=sel,
                )
                continue
            if k != entry.algorithm.value:
                problems.append(f"k={k}, but our key for this selector is {entry.algorithm.value}")
            elif p != mine:
                report.add(
                    Check.DKIM,
                    ERROR,
                    f"the key published at {name} is not ours ({folder / entry.file}): every signature will fail",
                    "replace the record's value by the key's current record",
                    steps=show,
                    selector=sel,
                )
                continue
        bits = _rsa_bits(p) if k == "rsa" else None
        if k == "rsa" and bits is None:
            problems.append("p= is not a valid RSA public key")
        if problems:
            report.add(
                Check.DKIM,
                ERROR,
                f"the DKIM record at {name} is broken: {'; '.join(problems)}",
                "publish the key's current record",
                steps=show,
                selector=sel,
            )
            continue
        size = f"rsa {bits} bits" if bits else k
        if bits and bits < 1024:
            report.add(
                Check.DKIM,
                ERROR,
                f"the key at {name} has only {bits} bits: receivers ignore keys under 1024",
                "generate a 2048-bit key with a new selector and publish it",
                selector=sel,
            )
            continue
        if "y" in tags.get("t", "").split(":"):
            report.add(
                Check.DKIM,
                WARN,
                f"{name} is in testing mode (t=y): receivers may treat failures as passes and give it less weight",
                "remove t=y once signatures verify",
                selector=sel,
            )
        if bits and bits < 2048:
            report.add(
                Check.DKIM,
                WARN,
                f"the key at {name} has {bits} bits; 2048 is the current recommendation",
                "generate a 2048-bit key with a new selector, publish it, then switch",
                selector=sel,
            )
        if entry is None:
            report.add(
                Check.DKIM,
                WARN,
                f"a DKIM key is published at {name} ({size}), but sendwell has no private "
                f"key for selector {sel} in {folder}, so it cannot sign with it",
                "copy the key here, or generate one with a new selector",
                steps=(Step(Hint.GENERATE_DKIM_KEY, d),),
                selector=sel,
            )
            continue
        if pending:
            report.add(
                Check.DKIM,
                OK,
                f"DKIM key at {name} matches {folder / entry.file} ({size}); it is not signing yet",
                "activate the key",
                steps=(Step(Hint.ACTIVATE_DKIM_KEY, d, sel),),
                selector=sel,
            )
            continue
        report.add(Check.DKIM, OK, f"DKIM key at {name} matches {folder / entry.file} ({size})", selector=sel)
        good.append(d)
    return good


# --------------------------------------------------------------------------- DMARC and alignment


def check_dmarc(report: Report, dns: Dns, domain: str) -> dmarc.Policy | None:
    try:
        records, at = dmarc.lookup(dns, domain)
    except DnsFailure as err:
        _failed(report, Check.DMARC, err)
        return None
    if not records:
        report.add(
            Check.DMARC,
            ERROR,
            f"no DMARC record at _dmarc.{domain}: since February 2024 Gmail and Yahoo "
            "reject or junk bulk mail from domains without one",
            f'publish a TXT record at _dmarc.{domain}: "v=DMARC1; p=none; rua=mailto:dmarc@{domain}", then '
            "move to p=quarantine once the reports show all your mail passing",
        )
        return None
    if len(records) > 1:
        report.add(
            Check.DMARC,
            ERROR,
            f"{at} has {len(records)} DMARC records: receivers ignore DMARC entirely",
            "keep one record and delete the others",
            records=records,
        )
        return None
    policy = dmarc.parse(records[0], at)
    if policy.problems:
        report.add(
            Check.DMARC,
            ERROR,
            f"the DMARC record at {at} is broken: {'; '.join(policy.problems)}",
            f'fix it, e.g. "v=DMARC1; p=none; rua=mailto:dmarc@{dmarc.org_domain(domain)}"',
            record=records[0],
        )
        return None
    inherited = at != f"_dmarc.{domain}"
    p = policy.tags.get("sp", policy.p) if inherited else policy.p
    where = f"{at} (inherited by {domain})" if inherited else at
    detail: dict[str, Any] = {
        "record": policy.record,
        "p": p,
        "pct": policy.pct,
        "rua": policy.rua,
        "adkim": policy.adkim,
        "aspf": policy.aspf,
    }
    if p == "none":
        report.add(
            Check.DMARC,
            WARN,
            f"DMARC at {where}: p=none, monitoring only. It meets the Gmail/Yahoo minimum, "
            "but mail forged in your name is still delivered",
            "once the aggregate reports show your own mail "
            "passing, raise the policy to p=quarantine and later p=reject",
            **detail,
        )
    else:
        report.add(
            Check.DMARC, OK, f"DMARC at {where}: p={p}" + (f", pct={policy.pct}" if policy.pct != 100 else ""), **detail
        )
    if policy.pct < 100 and p != "none":
        report.add(
            Check.DMARC,
            WARN,
            f"pct={policy.pct}: the policy applies to only {policy.pct}% of failing mail",
            "raise pct to 100 (or remove it) once you are confident",
            **detail,
        )
    if not policy.rua:
        report.add(
            Check.DMARC,
            WARN,
            "the DMARC record has no rua=: you get no aggregate reports, so you cannot "
            "see who sends in your name or whether your mail passes",
            f"add rua=mailto:dmarc@{dmarc.org_domain(domain)} (a mailbox you read, or a report service)",
            **detail,
        )
    return policy


def check_alignment(
    report: Report, domain: str, dkim_domains: Sequence[str], envelope: str, spf_ok: bool, policy: dmarc.Policy | None
) -> None:
    adkim = policy.adkim if policy else "r"
    aspf = policy.aspf if policy else "r"
    mode = {"r": "relaxed", "s": "strict"}
    dkim_aligned = [d for d in dkim_domains if dmarc.aligned(d, domain, adkim)]
    spf_aligned = dmarc.aligned(envelope, domain, aspf)
    if dkim_aligned:
        report.add(
            Check.ALIGNMENT,
            OK,
            f"DKIM d={dkim_aligned[0]} is aligned with the From domain {domain} ({mode[adkim]}): DMARC passes on DKIM",
        )
    elif dkim_domains:
        report.add(
            Check.ALIGNMENT,
            WARN,
            f"DKIM d={', '.join(dkim_domains)} is not aligned with {domain} ({mode[adkim]} alignment)",
            f"sign with a key for {domain} itself" + (" or relax adkim=s" if adkim == "s" else ""),
            steps=(Step(Hint.GENERATE_DKIM_KEY, domain),),
        )
    if not spf_aligned:
        report.add(
            Check.ALIGNMENT,
            WARN,
            f"SPF is checked on the bounce domain {envelope}, which is not aligned "
            f"with {domain} ({mode[aspf]}): DMARC can pass only through DKIM",
            f"use a bounce domain under {dmarc.org_domain(domain)}, e.g. bounces.{dmarc.org_domain(domain)} "
            "([sending] bounce_domain), with its own SPF record and MX",
        )
    elif spf_ok:
        report.add(Check.ALIGNMENT, OK, f"SPF domain {envelope} is aligned with {domain} ({mode[aspf]})")
    if not dkim_aligned and not (spf_aligned and spf_ok):
        spf_part = f"the SPF of {envelope} does not pass" if spf_aligned else f"SPF ({envelope}) is not aligned"
        report.add(
            Check.ALIGNMENT,
            ERROR,
            f"no DKIM key verifiable for {domain}, and {spf_part}: DMARC fails for every message",
            "publish the DKIM record for the From domain (see the dkim findings) and check "
            "again; DKIM alignment is the one that survives forwarding",
        )


# --------------------------------------------------------------------------- the relay's reverse DNS, the bounce MX


def check_rdns(report: Report, dns: Dns, ip: str, domain: str) -> None:
    fix = (
        f"ask whoever owns {ip} (your hosting provider) to set its reverse DNS (PTR) to a name like mail.{domain}, "
        f"and give that name an A/AAAA record pointing back to {ip}"
    )
    try:
        names = dns.ptr(ip)
        if not names:
            report.add(
                Check.RDNS,
                ERROR,
                f"the relay {ip} has no reverse DNS (PTR): many receivers refuse mail "
                "from such addresses, and Gmail requires it",
                fix,
            )
            return
        for name in names:
            if ip in dns.addresses(name):
                report.add(
                    Check.RDNS,
                    OK,
                    f"reverse DNS of {ip} is {name}, which resolves back to {ip} (forward-confirmed)",
                    ptr=names,
                )
                return
    except DnsFailure as err:
        return _failed(report, Check.RDNS, err)
    report.add(
        Check.RDNS,
        ERROR,
        f"reverse DNS of {ip} is {', '.join(names)}, but that name does not resolve back "
        f"to {ip}: receivers treat it as having no valid reverse DNS",
        fix,
        ptr=names,
    )


def check_bounce_mx(
    report: Report,
    dns: Dns,
    bounce: str | None,
    domain: str,
    reader: str | None = None,
    *,
    imap_host: str | None = None,
) -> None:
    """The bounce domain must take mail, and (when `reader`, the host bounces are read at, is known) take it
    there: an MX pointing at another server loses every bounce as surely as no MX. Without `reader`, the host
    of the mailbox the watcher reads (`imap_host`) stands in, as a hint only: a provider's IMAP server is often
    not its MX, so a difference is a warning, not an error."""
    suggested = f"bounces.{dmarc.org_domain(domain)}"
    if not bounce or bounce in PLACEHOLDER_BOUNCE_DOMAINS:
        report.add(
            Check.BOUNCE_MX,
            WARN,
            f"no bounce domain set (now {bounce or 'none'}): bounces go nowhere, so "
            "sendwell never learns which addresses are dead",
            f'set [sending] bounce_domain = "{suggested}" in sendwell.toml, give it an '
            "MX pointing at the mailbox sendwell reads bounces from, and an SPF record",
        )
        return
    fix = f"add an MX record for {bounce} pointing at the server whose mailbox sendwell reads bounces from"
    reading = (Step(Hint.INGEST_BOUNCES, bounce),)
    try:
        mx = dns.mx(bounce)
        if mx and not (len(mx) == 1 and mx[0][1] in ("", ".")):
            _bounce_mx_reaches_reader(report, dns, bounce, mx, reader, imap_host)
            return
        if mx:
            report.add(
                Check.BOUNCE_MX,
                ERROR,
                f"the bounce domain {bounce} has a null MX: it refuses all mail, so every bounce is lost",
                fix,
                steps=reading,
            )
            return
        addresses = dns.addresses(bounce)
    except DnsFailure as err:
        return _failed(report, Check.BOUNCE_MX, err)
    if addresses:
        report.add(
            Check.BOUNCE_MX,
            WARN,
            f"the bounce domain {bounce} has no MX; bounces go to its address "
            f"{addresses[0]} (implicit MX), which some servers do not do",
            fix,
            steps=reading,
        )
    else:
        report.add(
            Check.BOUNCE_MX,
            ERROR,
            f"the bounce domain {bounce} has no MX and no address: bounces cannot be "
            "delivered, so sendwell never learns which addresses are dead",
            fix,
            steps=reading,
        )


def _host_addresses(dns: Dns, host: str) -> set[str]:
    """A host's addresses; an IP address stands for itself."""
    try:
        return {str(ipaddress.ip_address(host))}
    except ValueError:
        return set(dns.addresses(host))


def _bounce_mx_reaches_reader(
    report: Report, dns: Dns, bounce: str, mx: list[tuple[int, str]], reader: str | None, imap_host: str | None
) -> None:
    """Compare the MX hosts with the host bounces are read at: the same name, or a shared address (an MX named
    mx.example.com and a mailbox read at imap.example.com are often one machine)."""
    hosts = [h for _, h in mx]
    told = f"bounces to {bounce} go to {', '.join(hosts)}"
    reader = (reader or "").strip().lower().rstrip(".")
    guessed = not reader and bool(imap_host)  # only the watcher's IMAP host: a hint, never an error
    if guessed:
        reader = (imap_host or "").strip().lower().rstrip(".")
    if not reader:
        report.add(
            Check.BOUNCE_MX,
            OK,
            f"{told}; whether that is where bounces are read is not known",
            "set [bounces] mx_host to the mail server whose mailbox sendwell reads bounces from, and this check "
            "compares it with the MX",
            mx=mx,
            reader=None,
        )
        return
    if reader in hosts:
        report.add(Check.BOUNCE_MX, OK, f"{told}, where bounces are read", mx=mx, reader=reader)
        return
    try:
        wanted = _host_addresses(dns, reader)
        found = {h: _host_addresses(dns, h) for h in hosts}
    except DnsFailure as err:
        report.add(
            Check.BOUNCE_MX,
            WARN,
            f"{told}; cannot tell whether that is {reader}, where bounces are read: {err}",
            "check again later",
            mx=mx,
            reader=reader,
        )
        return
    same = [h for h, addrs in found.items() if addrs & wanted]
    if same:
        report.add(
            Check.BOUNCE_MX,
            OK,
            f"{told}, the same server as {reader}, where bounces are read ({', '.join(sorted(wanted))})",
            mx=mx,
            reader=reader,
        )
        return
    unknown = [h for h, addrs in found.items() if not addrs]
    if not wanted or unknown:
        nameless = [reader] if not wanted else unknown
        report.add(
            Check.BOUNCE_MX,
            WARN,
            f"MX of {bounce} points to {', '.join(hosts)}, bounces are read at {reader}; cannot tell whether they "
            f"are the same server: {', '.join(nameless)} has no address",
            f"give {', '.join(nameless)} an address, or set [bounces] mx_host to the name the MX uses",
            mx=mx,
            reader=reader,
        )
        return
    if guessed:
        report.add(
            Check.BOUNCE_MX,
            WARN,
            f"MX of {bounce} points to {', '.join(hosts)}, bounces are read at {reader} (the IMAP server of the "
            "bounce mailbox): not the same server; unless they are one mail system, bounces are lost",
            f"point the MX of {bounce} at the mail server of {reader}, or, if the MX delivers to that mailbox, "
            "set [bounces] mx_host to the MX's host to say so",
            mx=mx,
            reader=reader,
        )
        return
    report.add(
        Check.BOUNCE_MX,
        ERROR,
        f"MX of {bounce} points to {', '.join(hosts)}, bounces are read at {reader}: bounces land in a mailbox "
        "sendwell does not read, so it never learns which addresses are dead",
        f"point the MX of {bounce} at {reader}, or set [bounces] mx_host to the server whose mailbox sendwell "
        "reads bounces from",
        mx=mx,
        reader=reader,
    )
