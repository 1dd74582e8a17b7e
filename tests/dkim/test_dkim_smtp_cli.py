"""Signed campaign messages sent through a real SMTP server verify on arrival; the `sendwell dkim` commands."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from sendwell import dkim as sd
from sendwell.cli.app import app
from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign

from domaincheck.dnsserver import ZoneServer

dkimpy = pytest.importorskip("dkim", reason="dkimpy is needed to verify signatures (pip install dkimpy pynacl)")
if not hasattr(dkimpy, "DKIM"):  # without dkimpy, `import dkim` finds this directory as a namespace package
    pytest.skip("dkimpy is needed to verify signatures (pip install dkimpy pynacl)", allow_module_level=True)
pytest.importorskip("nacl", reason="dkimpy needs PyNaCl for ed25519")


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 queued"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_messages_sent_through_smtp_verify_on_arrival(tmp_path):
    import aiosmtplib

    sd.generate_key("shop.example", "s1", sd.Algorithm.RSA, directory=tmp_path)
    sd.generate_key("shop.example", "e1", sd.Algorithm.ED25519, directory=tmp_path)
    zone = {name: {"TXT": [value]} for name, value in (sd.dns_record(tmp_path, e) for e in sd.load_index(tmp_path))}
    content = CampaignContent(
        5,
        "Hi {{ first_name }}",
        "Shop <news@shop.example>",
        html="<p>Dear  {{ first_name }}</p>",
        text="Dear {{ first_name }}\n",
    )
    prepared = PreparedCampaign(content, Links("k", "bounces.shop.example", "https://mail.shop.example"))
    signer = sd.Signer.for_from_domain(content.from_addr, tmp_path)
    assert signer is not None
    people = [Personal(i, f"user{i}@example.org", {"first_name": f"Ann {i}"}) for i in range(1, 4)]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    try:

        async def send_all() -> None:
            async with aiosmtplib.SMTP(hostname="127.0.0.1", port=controller.port, timeout=10) as smtp:
                for p in people:
                    r = prepared.render(p)
                    await smtp.sendmail(r.envelope_from, [r.rcpt], signer.sign(r.data))

        asyncio.run(send_all())
    finally:
        controller.stop()
    assert [rcpt for _, rcpt, _ in inbox.received] == [[p.email] for p in people]
    with ZoneServer(zone) as dns:
        for _, _, data in inbox.received:
            d = dkimpy.DKIM(data)
            assert d.verify(idx=0, dnsfunc=dns.txt) and d.verify(idx=1, dnsfunc=dns.txt)
        tampered = inbox.received[0][2].replace(b"Dear  Ann", b"Dear Bob")
        assert not dkimpy.verify(tampered, dnsfunc=dns.txt)


runner = CliRunner()


def test_cli_generate_list_record(tmp_path):
    folder = str(tmp_path / "keys")
    result = runner.invoke(
        app, ["dkim", "generate", "--domain", "Shop.Example", "--selector", "s2026", "--dir", folder]
    )
    assert result.exit_code == 0, result.output
    assert "s2026._domainkey.shop.example" in result.output
    assert "v=DKIM1; k=rsa; p=MII" in result.output
    pem = tmp_path / "keys" / "shop.example.s2026.rsa.pem"
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    result = runner.invoke(
        app,
        [
            "dkim",
            "generate",
            "--domain",
            "shop.example",
            "--selector",
            "ed",
            "--algorithm",
            "ed25519",
            "--dir",
            folder,
            "--json",
        ],
    )
    data = json.loads(result.output)
    assert data["dns_name"] == "ed._domainkey.shop.example" and data["dns_value"].startswith("v=DKIM1; k=ed25519; p=")
    listed = [
        json.loads(line) for line in runner.invoke(app, ["dkim", "list", "--dir", folder, "--json"]).output.splitlines()
    ]
    assert [(r["selector"], r["algorithm"]) for r in listed] == [("s2026", "rsa"), ("ed", "ed25519")]
    record = json.loads(
        runner.invoke(app, ["dkim", "record", "shop.example", "--selector", "s2026", "--dir", folder, "--json"]).output
    )
    assert all(len(s) <= 255 for s in record["dns_strings"]) and "".join(record["dns_strings"]) == record["dns_value"]


def test_cli_refuses_bad_input(tmp_path):
    folder = str(tmp_path)
    bad = runner.invoke(
        app, ["dkim", "generate", "--domain", "shop.example", "--selector", "s1", "--algorithm", "dsa", "--dir", folder]
    )
    assert bad.exit_code != 0 and "--algorithm" in str(bad.exception)
    bad = runner.invoke(app, ["dkim", "generate", "--domain", "bad domain", "--selector", "s1", "--dir", folder])
    assert bad.exit_code != 0 and "not a valid DNS name" in str(bad.exception)
    empty = runner.invoke(app, ["dkim", "list", "--dir", folder])
    assert empty.exit_code == 0 and "No DKIM keys" in empty.output


def test_cli_sign_writes_a_verifiable_message(tmp_path):
    sd.generate_key("shop.example", "e1", sd.Algorithm.ED25519, directory=tmp_path)
    name, value = sd.dns_record(tmp_path, sd.load_index(tmp_path)[0])
    eml = tmp_path / "m.eml"
    eml.write_bytes(b"From: Shop <news@shop.example>\nTo: a@example.org\nSubject: test\n\nhello\n")
    result = runner.invoke(app, ["dkim", "sign", str(eml), "--dir", str(tmp_path)])
    assert result.exit_code == 0
    with ZoneServer({name: {"TXT": [value]}}) as dns:
        assert dkimpy.verify(result.stdout_bytes, dnsfunc=dns.txt)


def test_cli_rotation_generate_then_activate(tmp_path):
    folder = str(tmp_path)
    for sel in ("s1", "s2"):
        result = runner.invoke(
            app, ["dkim", "generate", "--domain", "shop.example", "--selector", sel, "--bits", "1024", "--dir", folder]
        )
        assert result.exit_code == 0, result.output
    assert "already signs with another rsa key" in result.output and "dkim activate shop.example" in result.output
    result = runner.invoke(app, ["dkim", "activate", "shop.example", "--selector", "s2", "--dir", folder])
    assert result.exit_code == 0 and "now signs rsa with selector s2" in result.output
    states = [
        json.loads(line)["state"]
        for line in runner.invoke(app, ["dkim", "list", "--dir", folder, "--json"]).output.splitlines()
    ]
    assert states == ["retired", "active"]
