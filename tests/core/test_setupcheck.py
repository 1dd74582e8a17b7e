"""The set-up check against real parts: a local DNS server, a real SMTP relay (and a port nobody listens on), DKIM
keys on disk, a worker that notes itself alive in the database; the doctor command as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

from sendwell import campaigns, dkim
from sendwell.config import BounceSettings, DkimSettings, SendingSettings, Settings, SmtpSettings
from sendwell.db.engine import utcnow
from sendwell.domaincheck.lookup import Dns
from sendwell.sending import workers
from sendwell.sending.engine import Sender
from sendwell.setupcheck import Topic, check_setup, for_campaign, forget_cached, tracking_refusal

from domaincheck.dnsserver import ZoneServer
from factories import started_campaign
from sending.smtpd import ScriptedServer, free_port

ZONE = {"bounces.shop.example": {"MX": ["10 mx.shop.example."]}, "mx.shop.example": {"A": ["192.0.2.1"]}}


def _levels(report) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in report.findings:
        out.setdefault(f.topic.value, []).append(f.level.value)
    return out


def test_a_fresh_installation_is_told_every_problem_with_what_to_do(engine, tmp_path):
    started_campaign(engine, ["a@x.org"], start=False)  # From shop.example, no key for it
    settings = replace(Settings(), dkim=DkimSettings(dir=str(tmp_path / "keys")))
    with ZoneServer(ZONE) as dns:
        report = check_setup(engine, settings, dns=Dns(dns.resolver(timeout=1.0)))
    assert _levels(report) == {
        "public_url": ["warn"],
        "bounce_mx": ["error"],  # bounces.localhost.localdomain: nobody can reach it
        "dkim": ["error"],
        "relay": ["error"],
        "worker": ["warn"],
    }
    by = {f.topic: f for f in report.findings}
    assert "no one-click unsubscribe" in by[Topic.PUBLIC_URL].message
    assert 'bounce_domain = "bounces.shop.example"' in by[Topic.BOUNCE_MX].fix  # the From domain in use
    assert by[Topic.DKIM].target == "shop.example" and by[Topic.DKIM].hint is not None
    assert "no relay is configured" in by[Topic.RELAY].message
    assert "no sending worker is running" in by[Topic.WORKER].message
    assert report.as_dict()["worst"] == "error"
    assert tracking_refusal(settings) is not None


def test_a_set_up_installation_passes_every_check(engine, tmp_path):
    keys = tmp_path / "keys"
    dkim.generate_key("shop.example", "s1", dkim.Algorithm.ED25519, directory=keys)
    cid = started_campaign(engine, ["a@x.org"], start=False)
    with ScriptedServer() as relay, ZoneServer(ZONE) as dns:
        settings = replace(
            Settings(),
            smtp=replace(SmtpSettings(), urls=(relay.url,), timeout=2.0),
            sending=replace(
                SendingSettings(), public_url="https://mail.shop.example", bounce_domain="bounces.shop.example"
            ),
            dkim=DkimSettings(dir=str(keys)),
        )
        # A worker that runs until nothing is due notes itself alive as it goes.
        Sender(engine, settings, worker=True, linger=0.2).run()
        report = check_setup(engine, settings, dns=Dns(dns.resolver(timeout=1.0)))
        # An hour later the note is stale: the worker is not running any more.
        later = check_setup(engine, settings, dns=Dns(dns.resolver(timeout=1.0)), now=utcnow() + timedelta(hours=1))
    assert _levels(report) == {k: ["ok"] for k in ("public_url", "bounce_mx", "dkim", "relay", "worker")}, [
        f.message for f in report.problems
    ]
    assert tracking_refusal(settings) is None
    assert [f.level.value for f in later.findings if f.topic is Topic.WORKER] == ["warn"]
    assert campaigns.get_campaign(engine, cid).state == "draft"  # looked at, not sent


def test_an_unreachable_relay_is_an_error_unless_another_one_answers(engine, tmp_path):
    dead = f"smtp://127.0.0.1:{free_port()}"
    with ScriptedServer() as relay, ZoneServer(ZONE) as dns:
        for urls, levels in (((dead,), ["error"]), ((dead, relay.url), ["warn", "ok"])):
            settings = replace(Settings(), smtp=replace(SmtpSettings(), urls=urls, timeout=1.0))
            report = check_setup(engine, settings, dns=Dns(dns.resolver(timeout=1.0)), domains=[])
            relays = [f for f in report.findings if f.topic is Topic.RELAY]
            assert [f.level.value for f in relays] == levels
            assert "cannot be reached (at connect: refused)" in relays[0].message


def test_the_draft_page_sees_the_dkim_problem_of_its_own_from_domain_only(engine, tmp_path):
    forget_cached()
    keys = tmp_path / "keys"
    dkim.generate_key("shop.example", "s1", dkim.Algorithm.ED25519, directory=keys)
    settings = replace(Settings(), dkim=DkimSettings(dir=str(keys)))
    try:
        mine = for_campaign(engine, settings, "News <news@shop.example>")
        other = for_campaign(engine, settings, "news@other.example")
    finally:
        forget_cached()
    assert Topic.DKIM not in {f.topic for f in mine}
    assert [f.target for f in other if f.topic is Topic.DKIM] == ["other.example"]
    assert {Topic.PUBLIC_URL, Topic.RELAY, Topic.WORKER} <= {f.topic for f in mine}


def test_worker_note_is_kept_once_per_beat(engine):
    duties = workers.Duties(True, "w1", linger=60)
    now = utcnow()
    assert duties.heartbeat(now) == "w1"
    assert duties.heartbeat(now + timedelta(seconds=1)) is None
    assert duties.heartbeat(now + timedelta(seconds=workers.BEAT_SECONDS + 1)) == "w1"
    assert workers.Duties(False, "w2", linger=60).heartbeat(now) is None
    with engine.begin() as conn:
        workers.beat(conn, "w1", now)
        workers.beat(conn, "w1", now + timedelta(seconds=5))
        seen = workers.last_seen(conn)
    assert seen is not None and seen[0] == {"owner": "w1"}
    assert workers.alive(seen[1], now + timedelta(seconds=30))
    assert not workers.alive(seen[1], now + timedelta(minutes=5))


def test_doctor_prints_each_finding_and_exits_1_on_an_error(db_url, tmp_path):
    env = {**os.environ, "SENDWELL_DATABASE_URL": db_url, "SENDWELL_DKIM_DIR": str(tmp_path / "keys"), "COLUMNS": "200"}
    env.pop("SENDWELL_SMTP_URL", None)
    run = [sys.executable, "-m", "sendwell.cli", "doctor"]
    r = subprocess.run([*run, "--json"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    assert data["worst"] == "error"
    assert {f["topic"] for f in data["findings"]} == {"public_url", "bounce_mx", "relay", "worker"}
    r = subprocess.run(run, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "warn  public_url public_url is not set" in r.stdout
    assert "(`sendwell worker`)" in r.stdout  # the next step, said as a command
    assert r.stdout.strip().endswith("2 error(s), 2 warning(s), 0 ok")


def _bounce_finding(engine, zone, mx_host, **servfail):
    settings = replace(
        Settings(),
        sending=replace(SendingSettings(), bounce_domain="bounces.shop.example"),
        bounces=replace(BounceSettings(), mx_host=mx_host),
    )
    with ZoneServer(zone, **servfail) as dns:
        report = check_setup(engine, settings, dns=Dns(dns.resolver(timeout=1.0)), domains=[], relay_timeout=0.5)
    [finding] = [f for f in report.findings if f.topic is Topic.BOUNCE_MX]
    return finding


def test_a_bounce_mx_pointing_at_another_server_than_the_reader_is_an_error(engine):
    zone = {
        **ZONE,
        "imap.shop.example": {"A": ["192.0.2.1"]},  # the MX's machine under another name
        "mail.elsewhere.example": {"A": ["198.51.100.7"]},
    }
    wrong = _bounce_finding(engine, zone, "mail.elsewhere.example")
    assert wrong.level.value == "error"
    assert "points to mx.shop.example, bounces are read at mail.elsewhere.example" in wrong.message
    assert "point the MX of bounces.shop.example at mail.elsewhere.example" in wrong.fix

    for reader in ("mx.shop.example", "MX.shop.example.", "imap.shop.example", "192.0.2.1"):
        same = _bounce_finding(engine, zone, reader)
        assert same.level.value == "ok", (reader, same.message)
        assert "where bounces are read" in same.message

    unknown = _bounce_finding(engine, zone, "")
    assert unknown.level.value == "ok"
    assert "whether that is where bounces are read is not known" in unknown.message
    assert "[bounces] mx_host" in unknown.fix

    # A reader whose name has no address, or a lookup that fails: cannot tell, said so, never "ok".
    nameless = _bounce_finding(engine, zone, "nowhere.shop.example")
    assert nameless.level.value == "warn" and "cannot tell" in nameless.message
    failing = _bounce_finding(engine, zone, "mail.elsewhere.example", servfail=["mail.elsewhere.example"])
    assert failing.level.value == "warn" and "cannot tell whether that is mail.elsewhere.example" in failing.message


def test_without_mx_host_the_watcher_s_imap_host_is_compared_as_a_hint(engine):
    from sendwell.bounces import imap

    zone = {**ZONE, "imap.shop.example": {"A": ["192.0.2.1"]}, "imap.provider.example": {"A": ["203.0.113.5"]}}
    imap.note_reader(engine, "imap.shop.example")  # what `bounces watch --imap` notes when it starts
    assert imap.noted_reader(engine) == "imap.shop.example"
    same = _bounce_finding(engine, zone, "")
    assert same.level.value == "ok" and "the same server as imap.shop.example" in same.message
    # Another server: maybe one mail system (a provider's MX and IMAP hosts differ), so a warning, not an error.
    imap.note_reader(engine, "imap.provider.example")
    other = _bounce_finding(engine, zone, "")
    assert other.level.value == "warn"
    assert "points to mx.shop.example, bounces are read at imap.provider.example (the IMAP server" in other.message
    assert "[bounces] mx_host" in other.fix
    # The setting says where bounces are read: it decides, and the noted host is not used.
    assert _bounce_finding(engine, zone, "mx.shop.example").level.value == "ok"
