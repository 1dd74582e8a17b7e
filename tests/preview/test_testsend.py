"""Test sends: the real message with "[TEST] " to the given addresses only, through a real SMTP server, kept out of
the ledger, the statistics and the daily limit, and recorded in the campaign's history."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from sendwell import campaigns, history, preview, stats
from sendwell.db.engine import open_database
from sendwell.db.schema import daily_usage, events, recipients, relay_usage, usage_shards
from sendwell.errors import UserError
from sendwell.sending import usage as limit_usage
from sendwell.sending.engine import send
from sendwell.sending.testsend import send_test

from factories import add_contacts, campaign
from sending.conftest import sender_settings
from sending.smtpd import Script, ScriptedServer, free_port

PEOPLE = {"ann@example.org": {"first_name": "Ann"}, "bob@example.org": {"first_name": "Bob"}}


@pytest.fixture
def server():
    with ScriptedServer(Script(rcpt={"nobody@example.net": "550 5.1.1 no such user"})) as srv:
        yield srv


def _counted(engine, cid: int) -> tuple:
    """Everything a test send must leave alone: the ledger, the statistics, the daily and per-relay usage, events."""
    with engine.connect() as conn:
        tables = tuple(
            conn.execute(select(func.count()).select_from(t)).scalar()
            for t in (recipients, daily_usage, usage_shards, relay_usage, events)
        )
        usage = [(d.sent, d.address_errors) for d in limit_usage.history(conn)]  # the workers' shards summed
    by_status = stats.campaign_stats(engine, cid).by_status
    return tables, tuple(usage), tuple(sorted(by_status.items()))


def test_a_test_send_reaches_only_the_given_addresses_with_test_in_the_subject(engine, server, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    cid = campaign(engine, PEOPLE)
    settings = sender_settings(server.url)
    before = _counted(engine, cid)
    result = send_test(
        engine, settings, cid, ["me@example.com", "Boss@Example.com"], contact="bob@example.org", actor="cli"
    )
    assert result.delivered == 2 and result.subject == "[TEST] Hi Bob" and result.contact == "bob@example.org"
    assert sorted(a.rcpt for a in server.accepted) == ["boss@example.com", "me@example.com"]
    shown = preview.preview(engine, settings, cid, "bob@example.org")
    for got in server.accepted:
        msg = got.message
        assert msg["Subject"] == "[TEST] Hi Bob"
        assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == shown.text  # the real body
        assert msg["To"] == "Bob <bob@example.org>" and msg["List-Unsubscribe"]
        assert re.search(r"bounces\+\d+\.0\.", got.mail_from)  # VERP of recipient 0: a bounce blames no one
    assert _counted(engine, cid) == before  # no ledger row, no statistics, no daily or relay usage
    assert campaigns.get_campaign(engine, cid).state == "draft"
    [entry] = history.of_campaign(engine, cid)
    assert entry.action == "test_send" and entry.actor == "cli"
    assert entry.detail["to"] == ["me@example.com", "Boss@Example.com"]
    assert "sent to 2 of 2" in entry.summary


def test_a_test_send_after_sending_leaves_the_figures_alone(engine, server, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    cid = campaign(engine, PEOPLE)
    settings = sender_settings(server.url)
    campaigns.start_campaign(engine, cid)
    send(engine, settings)
    before = _counted(engine, cid)
    assert before[1] == ((2, 0),)  # the campaign's two messages counted today
    result = send_test(engine, settings, cid, ["me@example.com", "nobody@example.net"])
    assert result.delivered == 1  # the relay refused one: told, not counted as an address error anywhere
    refused = next(d for d in result.deliveries if not d.delivered)
    assert refused.answer == "at rcpt: 550 5.1.1 no such user"
    assert _counted(engine, cid) == before
    assert server.counts()["me@example.com"] == 1


def test_relay_failures_are_one_line_answers_not_exceptions(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    cid = campaign(engine, PEOPLE)
    down = sender_settings(f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    result = send_test(engine, down, cid, ["me@example.com"])
    assert result.delivered == 0
    assert result.deliveries[0].answer.startswith("at connect:") and "\n" not in result.summary
    assert "not delivered: me@example.com (at connect:" in history.of_campaign(engine, cid)[0].summary
    with pytest.raises(UserError, match="no SMTP relay configured"):
        send_test(engine, sender_settings(()), cid, ["me@example.com"])
    with pytest.raises(UserError, match="'not-an-address'") as refused:
        send_test(engine, down, cid, ["not-an-address"])
    assert refused.value.field == "to"
    with pytest.raises(UserError, match="at most 10"):
        send_test(engine, down, cid, [",".join(f"a{i}@example.com" for i in range(11))])


def test_a_test_send_reads_addresses_as_a_paste(engine, server, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    cid = campaign(engine, PEOPLE)
    pasted = ['"Boss, The" <boss@example.com>; Me <me@example.com>\nme@EXAMPLE.com', "Ops Team ops@example.com"]
    result = send_test(engine, sender_settings(server.url), cid, pasted)
    assert [d.to for d in result.deliveries] == ["boss@example.com", "me@example.com", "ops@example.com"]
    assert sorted(a.rcpt for a in server.accepted) == ["boss@example.com", "me@example.com", "ops@example.com"]
    with pytest.raises(UserError, match="'Boss <boss@>'|'boss@'") as refused:
        send_test(engine, sender_settings(server.url), cid, ["Boss <boss@>"])
    assert refused.value.field == "to"


def test_cli_preview_check_test_and_history(tmp_path, server):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = open_database(url)
    add_contacts(engine, ["ann@example.org", "cy@example.org"], {"ann@example.org": {"first_name": "Ann"}})
    campaigns.create_campaign(
        engine,
        name="news",
        subject="Hi {{ first_name }}",
        from_addr="n@shop.example",
        html="<p>Hi {{ first_name | default('you') }}</p>",
        text="Hi {{ first_name }}",
    )
    engine.dispose()
    env = {
        **os.environ,
        "SENDWELL_DATABASE_URL": url,
        "SENDWELL_SMTP_URL": server.url,
        "COLUMNS": "200",
        "SENDWELL_SENDING_SECRET": "k",
        "SENDWELL_DKIM_DIR": str(tmp_path),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sendwell.cli", "campaigns", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )

    r = run("preview", "news")
    assert r.returncode == 0, r.stderr
    assert "To: ann@example.org" in r.stdout and "Subject: Hi Ann" in r.stdout and "Hi Ann" in r.stdout
    assert "{{ first_name }} is blank for 1 of 2 recipient(s)" in r.stderr
    assert run("preview", "news", "--contact", "cy@example.org", "--part", "html").stdout == "<p>Hi you</p>\n"
    eml = subprocess.run(
        [sys.executable, "-m", "sendwell.cli", "campaigns", "preview", "news", "--part", "eml"],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    ).stdout
    assert eml.startswith(b"To: Ann <ann@example.org>\r\nSubject: Hi Ann\r\n")  # the bytes, CRLF and all
    bad = run("preview", "news", "--part", "pdf")
    assert bad.returncode == 2 and "--part: 'pdf' is not one of text, html, eml" in bad.stderr
    assert "Traceback" not in bad.stderr
    check = json.loads(run("check", "news", "--json").stdout)
    assert check == {
        "recipients": 2,
        "fields": [{"name": "first_name", "cover": "none", "missing": 1, "blank": 0, "unfilled": 1}],
    }
    sent = run("test", "news", "--to", "me@example.com", "--contact", "cy@example.org", "--json")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["subject"] == "[TEST] Hi"
    assert [a.rcpt for a in server.accepted] == ["me@example.com"]
    refused = run("test", "news", "--to", "nobody@example.net")
    assert refused.returncode == 3 and "550 5.1.1 no such user" in refused.stdout
    rows = json.loads(run("history", "news", "--json").stdout)
    assert [r["action"] for r in rows] == ["test_send", "test_send"]


def test_a_test_send_is_signed_with_the_from_domains_dkim_key(engine, server, tmp_path, monkeypatch):
    """The real message, so the real signature: verified by dkimpy against the key's published DNS record."""
    dkimpy = pytest.importorskip("dkim", reason="dkimpy is needed to verify signatures (pip install dkimpy)")
    from sendwell import dkim as sd

    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    sd.clear_cache()
    sd.generate_key("shop.example", "s1", sd.Algorithm.RSA, directory=tmp_path)
    records = dict(sd.dns_record(tmp_path, e) for e in sd.load_index(tmp_path))

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:  # the TXT record `sendwell dkim` tells to publish
        return records[name.decode().rstrip(".")].encode()

    cid = campaign(engine, PEOPLE)  # From: news@shop.example
    result = send_test(engine, sender_settings(server.url), cid, ["me@example.com"], contact="ann@example.org")
    assert result.delivered == 1
    [got] = server.accepted
    assert got.data.startswith(b"DKIM-Signature:") and b"d=shop.example" in got.data.split(b"\r\n\r\n")[0]
    assert dkimpy.verify(got.data, dnsfunc=dnsfunc)
    assert not dkimpy.verify(got.data.replace(b"[TEST] ", b"", 1), dnsfunc=dnsfunc)  # the subject is signed
