"""Real servers for verification tests: a DNS server and an MX (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from sendwell.verify.localdns import LocalDnsServer
from sendwell.verify.probe import ProbeOptions
from sendwell.verify.run import VerifyOptions

MX = {"MX": [(10, "mx.probe.example.net")]}
ZONE = {
    "mx.example.com": {"MX": [(20, "mx2.mx.example.com"), (10, "mx1.mx.example.com")]},
    "mx1.mx.example.com": {"A": ["127.0.0.1"]},
    "implicit.example.com": {"A": ["192.0.2.10"]},
    "v6only.example.com": {"AAAA": ["2001:db8::25"]},
    "nullmx.example.com": {"MX": [(0, ".")]},
    "nomail.example.com": {"TXT": ["v=spf1 -all"]},
    "slow.example.com": "timeout",
    "broken.example.com": "servfail",
    "alias.example.com": {"CNAME": "mx.example.com"},
    "gmail.com": {"MX": [(5, "gmail-smtp-in.l.google.com")]},
    "mailinator.com": {"MX": [(10, "mail.mailinator.com")]},
    # MX hosts for the SMTP probe: all answer on 127.0.0.1, the probe port is the test server's.
    "mx.probe.example.net": {"A": ["127.0.0.1"]},
    "ok.example.org": MX,
    "catchall.example.org": MX,
    "grey.example.org": MX,
    "tarpit.example.org": MX,
    "blocked.example.org": MX,
    "deadmx.example.org": {"MX": [(10, "nowhere.example.net")]},
    "nowhere.example.net": {"A": ["127.0.0.1"]},
}


@pytest.fixture(scope="module")
def dns_server() -> Iterator[LocalDnsServer]:
    with LocalDnsServer(ZONE) as server:
        yield server


@pytest.fixture
def dns_options(dns_server: LocalDnsServer) -> VerifyOptions:
    return VerifyOptions(nameservers=["127.0.0.1"], dns_port=dns_server.port, dns_timeout=0.5)


class ProbeMX:
    """An MX for several domains: each domain has its own manners (see MANNERS)."""

    MANNERS = {
        "ok.example.org": "mailboxes",
        "catchall.example.org": "accept",
        "grey.example.org": "greylist",
        "tarpit.example.org": "slow",
        "blocked.example.org": "blocked",
    }

    def __init__(self, mailboxes: set[str]) -> None:
        self.mailboxes = mailboxes
        self.rcpts: list[str] = []
        self.sessions: list[float] = []
        self.data_commands = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions.append(time.monotonic())
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.rcpts.append(address)
        manner = self.MANNERS.get(address.rpartition("@")[2].lower(), "mailboxes")
        if manner == "accept":
            return "250 2.1.5 OK"
        if manner == "greylist":
            return f"450 4.7.1 <{address}>: Recipient address rejected: Greylisted, try again in 5 minutes"
        if manner == "blocked":
            return "554 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org"
        if manner == "slow":
            await asyncio.sleep(2)
            return "250 2.1.5 OK"
        if address.lower() in self.mailboxes:
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 OK"
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        return "554 5.5.1 no DATA expected from a probe"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def probe_mx() -> Iterator[tuple[ProbeMX, int]]:
    handler = ProbeMX({"alice@ok.example.org", "bob@ok.example.org"})
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def probe_options(dns_options: VerifyOptions, probe_mx: tuple[ProbeMX, int]) -> VerifyOptions:
    _, port = probe_mx
    return VerifyOptions(
        nameservers=dns_options.nameservers,
        dns_port=dns_options.dns_port,
        dns_timeout=0.5,
        probe=True,
        probe_options=ProbeOptions(port=port, timeout=0.5, domain_interval=0.05, helo="probe.sendwell.example"),
    )
