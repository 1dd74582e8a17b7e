"""`domain check` against a local DNS server: a good set-up, then each record missing or broken."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sendwell import dkim
from sendwell.cli.app import app
from sendwell.cli.domain import fix_line
from sendwell.domaincheck.checks import check_domain
from sendwell.domaincheck.findings import Check, Level, Report, Step
from sendwell.domaincheck.lookup import Dns
from sendwell.errors import Hint

from .dnsserver import ZoneServer

RELAY = "203.0.113.25"


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    dkim.generate_key("shop.example", "s1", dkim.Algorithm.RSA, directory=folder)
    return folder


def good_zone(keys: Path) -> dict:
    entry = dkim.load_index(keys)[0]
    _, value = dkim.dns_record(keys, entry)
    return {
        "shop.example": {
            "MX": ["10 mx.shop.example."],
            "TXT": ["v=spf1 include:_spf.relay.example ip4:198.51.100.0/24 -all", "google-site-xyz"],
        },
        "mx.shop.example": {"A": ["198.51.100.10"]},
        "_spf.relay.example": {"TXT": ["v=spf1 ip4:203.0.113.0/24 ip6:2001:db8::/32 ~all"]},
        "bounces.shop.example": {"MX": ["10 mx.shop.example."], "TXT": ["v=spf1 include:_spf.relay.example -all"]},
        "s1._domainkey.shop.example": {"TXT": [value]},
        "_dmarc.shop.example": {"TXT": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@shop.example"]},
        "25.113.0.203.in-addr.arpa": {"PTR": ["mail.relay.example."]},
        "mail.relay.example": {"A": [RELAY]},
    }


def run(zone: dict, keys: Path, *, domain: str = "shop.example", **kwargs) -> Report:
    kwargs.setdefault("relay_ip", RELAY)
    kwargs.setdefault("bounce_domain", "bounces.shop.example")
    with ZoneServer(zone, servfail=kwargs.pop("servfail", ())) as server:
        return check_domain(domain, dns=Dns(server.resolver(timeout=1.0)), keys_dir=keys, **kwargs)


def levels(report: Report, check: Check) -> list[Level]:
    return [f.level for f in report.of(check)]


def messages(report: Report, check: Check, level: Level | None = None) -> str:
    return " | ".join(f.message for f in report.of(check) if level is None or f.level is level)


def test_good_domain_has_only_ok_findings(keys):
    report = run(good_zone(keys), keys)
    assert report.worst is Level.OK, [f.message for f in report.findings if f.level is not Level.OK]
    for check in Check:
        assert levels(report, check), f"nothing reported for {check}"
    assert "include:_spf.relay.example" in messages(report, Check.RELAY)
    assert "(1 of 10 DNS lookups)" in messages(report, Check.SPF)
    assert "forward-confirmed" in messages(report, Check.RDNS)


def test_missing_spf_is_an_error_with_a_fix(keys):
    zone = good_zone(keys)
    zone["shop.example"]["TXT"] = ["google-site-xyz"]
    report = run(zone, keys)
    [finding] = report.of(Check.SPF)
    assert finding.level is Level.ERROR and "no SPF record" in finding.message
    assert "v=spf1" in finding.fix


def test_two_spf_records_are_an_error(keys):
    zone = good_zone(keys)
    zone["shop.example"]["TXT"].append("v=spf1 mx -all")
    report = run(zone, keys)
    assert levels(report, Check.SPF) == [Level.ERROR]
    assert "2 SPF records" in messages(report, Check.SPF) and "merge" in report.of(Check.SPF)[0].fix


def test_plus_all_and_neutral_all(keys):
    zone = good_zone(keys)
    zone["shop.example"]["TXT"] = ["v=spf1 ip4:198.51.100.0/24 +all"]
    report = run(zone, keys)
    assert Level.ERROR in levels(report, Check.SPF) and "+all" in messages(report, Check.SPF, Level.ERROR)
    zone["shop.example"]["TXT"] = ["v=spf1 ip4:198.51.100.0/24 ?all"]
    report = run(zone, keys)
    assert levels(report, Check.SPF) == [Level.WARN, Level.OK]


def test_include_loop_is_reported(keys):
    zone = good_zone(keys)
    zone["bounces.shop.example"]["TXT"] = ["v=spf1 include:_a.relay.example -all"]
    zone["_a.relay.example"] = {"TXT": ["v=spf1 include:_b.relay.example ~all"]}
    zone["_b.relay.example"] = {"TXT": ["v=spf1 include:_a.relay.example ~all"]}
    report = run(zone, keys)
    text = messages(report, Check.BOUNCE_SPF, Level.ERROR)
    assert "loop" in text and "_a.relay.example → _b.relay.example → _a.relay.example" in text
    assert levels(report, Check.RELAY) == [Level.ERROR]  # receivers: permerror


def test_more_than_ten_lookups_is_an_error(keys):
    zone = good_zone(keys)
    includes = " ".join(f"include:_s{i}.shop.example" for i in range(6))
    zone["shop.example"]["TXT"] = [f"v=spf1 {includes} -all"]
    for i in range(6):
        zone[f"_s{i}.shop.example"] = {"TXT": ["v=spf1 a mx ~all"]}
    report = run(zone, keys)
    [error] = [f for f in report.of(Check.SPF) if f.level is Level.ERROR]
    assert "18 DNS lookups" in error.message and error.detail["lookups"] == 18


def test_include_without_record_and_syntax_error(keys):
    zone = good_zone(keys)
    zone["shop.example"]["TXT"] = ["v=spf1 include:gone.example -all"]
    report = run(zone, keys)
    assert "gone.example" in messages(report, Check.SPF, Level.ERROR)
    zone["shop.example"]["TXT"] = ["v=spf1 ip4:999.1.1.1 -all"]
    report = run(zone, keys)
    assert "broken" in messages(report, Check.SPF, Level.ERROR)


def test_relay_not_authorized(keys):
    report = run(good_zone(keys), keys, relay_ip="192.0.2.77")
    [finding] = report.of(Check.RELAY)
    assert finding.level is Level.ERROR and "192.0.2.77" in finding.fix
    # …and a relay covered only by the include's ~all is a softfail
    zone = good_zone(keys)
    zone["bounces.shop.example"]["TXT"] = ["v=spf1 include:_spf.relay.example"]
    report = run(zone, keys, relay_ip="192.0.2.77")
    assert "neutral" in messages(report, Check.RELAY)


def test_missing_and_wrong_dkim_key(keys, tmp_path):
    zone = good_zone(keys)
    del zone["s1._domainkey.shop.example"]
    report = run(zone, keys)
    assert levels(report, Check.DKIM) == [Level.ERROR]
    assert report.of(Check.DKIM)[0].steps == (Step(Hint.SHOW_DKIM_RECORD, "shop.example", "s1"),)
    assert "(`sendwell dkim record shop.example --selector s1`)" in fix_line(report.of(Check.DKIM)[0])
    assert levels(report, Check.ALIGNMENT) == [Level.OK]  # DMARC can still pass on the aligned SPF alone
    assert "SPF domain bounces.shop.example is aligned" in messages(report, Check.ALIGNMENT)
    other = dkim.generate_key("shop.example", "s1", dkim.Algorithm.RSA, directory=tmp_path, bits=1024)
    zone["s1._domainkey.shop.example"] = {"TXT": [dkim.dns_record(tmp_path, other)[1]]}
    report = run(zone, keys)
    assert "is not ours" in messages(report, Check.DKIM, Level.ERROR)


def test_dkim_selector_without_our_key_and_revoked_key(keys):
    zone = good_zone(keys)
    zone["old._domainkey.shop.example"] = {"TXT": ["v=DKIM1; k=rsa; p="]}
    zone["esp._domainkey.shop.example"] = zone["s1._domainkey.shop.example"]
    zone["web._domainkey.shop.example"] = {
        "TXT": ["v=DKIM1; k=rsa; h=sha1; " + zone["esp._domainkey.shop.example"]["TXT"][0].split("; ", 2)[2]]
    }
    report = run(zone, keys, selectors=["old", "esp", "web", "s1"])
    texts = [(f.level, f.detail.get("selector")) for f in report.of(Check.DKIM)]
    assert texts == [(Level.ERROR, "old"), (Level.WARN, "esp"), (Level.ERROR, "web"), (Level.OK, "s1")]
    assert "excludes sha256" in messages(report, Check.DKIM, Level.ERROR)


def test_no_key_at_all(keys, tmp_path):
    report = run(good_zone(keys), tmp_path)
    assert levels(report, Check.DKIM) == [Level.ERROR]
    [finding] = report.of(Check.DKIM)
    assert finding.steps == (Step(Hint.GENERATE_DKIM_KEY, "shop.example", "s1"),)
    assert fix_line(finding) == (
        "generate a key and publish the record it prints (`sendwell dkim generate --domain shop.example --selector s1`)"
    )


def test_missing_dmarc(keys):
    zone = good_zone(keys)
    del zone["_dmarc.shop.example"]
    report = run(zone, keys)
    [finding] = report.of(Check.DMARC)
    assert finding.level is Level.ERROR and "_dmarc.shop.example" in finding.fix and "p=none" in finding.fix


def test_dmarc_p_none_and_no_reports(keys):
    zone = good_zone(keys)
    zone["_dmarc.shop.example"] = {"TXT": ["v=DMARC1; p=none"]}
    report = run(zone, keys)
    assert levels(report, Check.DMARC) == [Level.WARN, Level.WARN]
    assert "monitoring only" in messages(report, Check.DMARC) and "rua" in messages(report, Check.DMARC)


def test_dmarc_broken_and_inherited(keys):
    zone = good_zone(keys)
    zone["_dmarc.shop.example"] = {"TXT": ["v=DMARC1; p=block"]}
    assert "broken" in messages(run(zone, keys), Check.DMARC, Level.ERROR)
    # A sub-domain without its own record inherits the organizational domain's (sp= when present).
    zone = good_zone(keys)
    zone["_dmarc.shop.example"] = {"TXT": ["v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@shop.example"]}
    zone["news.shop.example"] = {"MX": ["10 mx.shop.example."], "TXT": ["v=spf1 -all"]}
    report = run(zone, keys, domain="news.shop.example")
    assert "p=quarantine" in messages(report, Check.DMARC, Level.OK)
    assert "inherited" in messages(report, Check.DMARC)


def test_misaligned_bounce_domain_and_strict_dkim(keys):
    zone = good_zone(keys)
    zone["bounces.mailer.example"] = {"MX": ["10 mx.mailer.example."], "TXT": ["v=spf1 ip4:203.0.113.0/24 -all"]}
    report = run(zone, keys, bounce_domain="bounces.mailer.example")
    assert levels(report, Check.ALIGNMENT) == [Level.OK, Level.WARN]  # DKIM carries DMARC alone
    assert "only through DKIM" in messages(report, Check.ALIGNMENT, Level.WARN)
    # From news.shop.example signed with d=shop.example: relaxed passes, adkim=s does not.
    zone["news.shop.example"] = {"MX": ["10 mx.shop.example."], "TXT": ["v=spf1 -all"]}
    zone["_dmarc.news.shop.example"] = {"TXT": ["v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:d@shop.example"]}
    report = run(zone, keys, domain="news.shop.example", bounce_domain="bounces.mailer.example")
    assert "DMARC fails for every message" in messages(report, Check.ALIGNMENT, Level.ERROR)
    assert "strict" in messages(report, Check.ALIGNMENT, Level.WARN)


def test_reverse_dns_missing_or_not_confirmed(keys):
    zone = good_zone(keys)
    del zone["25.113.0.203.in-addr.arpa"]
    report = run(zone, keys)
    assert levels(report, Check.RDNS) == [Level.ERROR] and "no reverse DNS" in messages(report, Check.RDNS)
    zone = good_zone(keys)
    zone["mail.relay.example"] = {"A": ["203.0.113.99"]}
    report = run(zone, keys)
    assert "does not resolve back" in messages(report, Check.RDNS, Level.ERROR)


def test_bounce_domain_without_mx(keys):
    zone = good_zone(keys)
    del zone["bounces.shop.example"]["MX"]
    report = run(zone, keys)
    [finding] = report.of(Check.BOUNCE_MX)
    assert finding.level is Level.ERROR and "MX" in finding.fix
    report = run(good_zone(keys), keys, bounce_domain="bounces.localhost.localdomain")
    assert "bounce_domain" in report.of(Check.BOUNCE_MX)[0].fix


def test_unanswered_questions_are_warnings_not_crashes(keys):
    report = run(good_zone(keys), keys, servfail=["shop.example", "_dmarc.shop.example"])
    assert Level.WARN in levels(report, Check.MX) and Level.WARN in levels(report, Check.DMARC)


runner = CliRunner()


def test_cli_json_and_exit_codes(keys):
    zone = good_zone(keys)
    with ZoneServer(zone) as server:
        args = [
            "domain",
            "check",
            "shop.example",
            "--nameserver",
            f"127.0.0.1:{server.port}",
            "--relay-ip",
            RELAY,
            "--bounce-domain",
            "bounces.shop.example",
            "--dir",
            str(keys),
            "--timeout",
            "1",
        ]
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["worst"] == "ok" and {f["check"] for f in data["findings"]} == {c.value for c in Check}
        bad = copy.deepcopy(zone)
        del bad["_dmarc.shop.example"]
        server.zone = bad
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        assert "error dmarc" in result.output and "fix: publish a TXT record at _dmarc.shop.example" in result.output
    bad_ns = runner.invoke(app, ["domain", "check", "shop.example", "--nameserver", "dns.example"])
    assert bad_ns.exit_code != 0 and "--nameserver" in str(bad_ns.exception)


def test_pending_key_is_checked_but_not_counted_for_alignment(tmp_path):
    dkim.generate_key("shop.example", "s1", dkim.Algorithm.RSA, directory=tmp_path, bits=1024)
    dkim.generate_key("shop.example", "s2", dkim.Algorithm.RSA, directory=tmp_path, bits=1024)
    zone = good_zone(tmp_path)  # publishes s1 only
    report = run(zone, tmp_path)
    by_selector = {f.detail["selector"]: f for f in report.of(Check.DKIM)}
    assert by_selector["s2"].level is Level.WARN
    assert fix_line(by_selector["s2"]).endswith(
        "(`sendwell dkim record shop.example --selector s2`, then `sendwell dkim activate shop.example --selector s2`)"
    )
    zone["s2._domainkey.shop.example"] = {"TXT": [dkim.dns_record(tmp_path, dkim.load_index(tmp_path)[1])[1]]}
    report = run(zone, tmp_path)
    assert "not signing yet" in messages(report, Check.DKIM, Level.OK)
    assert "d=shop.example is aligned" in messages(report, Check.ALIGNMENT)  # through s1, the active key
