"""A simulated receiving mail server (aiosmtpd) that behaves like real ones, for the demo and tests.

Per address it can: accept; reject at RCPT TO with 550 5.1.1 (no such mailbox); answer 452 4.2.2
(mailbox full); or accept and, a moment later, send an RFC 3464 bounce to the envelope sender
(stored in a Maildir standing in for the bounce mailbox). It can also have an outage: 421 answers
and dropped connections for a few seconds after a given number of messages.
"""

from __future__ import annotations

import mailbox
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Behaviour:
    unknown: set[str] = field(default_factory=set)  # 550 5.1.1 at RCPT TO
    full: set[str] = field(default_factory=set)  # 452 4.2.2 at RCPT TO
    late_bounce: set[str] = field(default_factory=set)  # accepted, bounced afterwards
    outage_after: int | None = None  # accepted messages before the outage starts
    outage_seconds: float = 3.0


class SimulatedMX:
    """Handler for aiosmtpd; thread-safe counters for what was delivered."""

    def __init__(
        self, behaviour: Behaviour, bounce_maildir: Path | None = None, reporting_mta: str = "mx.demo.example"
    ) -> None:
        self.b = behaviour
        self.delivered: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.outage_answers = 0
        self._lock = threading.Lock()
        self._outage_until: float | None = None
        self._accepted = 0
        self.reporting_mta = reporting_mta
        self.bounces = mailbox.Maildir(str(bounce_maildir), create=True) if bounce_maildir else None

    def _in_outage(self) -> bool:
        with self._lock:
            if self._outage_until is None:
                return False
            if time.monotonic() < self._outage_until:
                self.outage_answers += 1
                return True
            return False

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._in_outage():
            # Alternate the two faces of an outage: a 421 answer, and a connection simply dropped.
            if self.outage_answers % 2:
                return "421 4.3.2 Service temporarily unavailable, closing transmission channel"
            if server.transport is not None:
                server.transport.close()
            return "421 4.4.2 Connection dropped"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        key = address.lower()
        if key in self.b.unknown:
            self.rejected[key] += 1
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"
        if key in self.b.full:
            self.rejected[key] += 1
            return f"452 4.2.2 <{address}>: Mailbox full, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.delivered[rcpt.lower()] += 1
            self._accepted += 1
            if self.b.outage_after is not None and self._accepted == self.b.outage_after:
                self._outage_until = time.monotonic() + self.b.outage_seconds
        for rcpt in envelope.rcpt_tos:
            if rcpt.lower() in self.b.late_bounce and self.bounces is not None and envelope.mail_from:
                self.bounces.add(self._dsn(envelope.mail_from, rcpt, cast(bytes, envelope.content)))  # no decode_data
        return "250 2.0.0 OK: queued"

    def _dsn(self, return_path: str, rcpt: str, original: bytes) -> bytes:
        """An RFC 3464 delivery status notification, shaped as Postfix sends it."""
        boundary = f"{uuid.uuid4().hex}/{self.reporting_mta}"
        headers = original.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", "replace")
        mta = self.reporting_mta
        text = f"""From: MAILER-DAEMON@{mta} (Mail Delivery System)
To: {return_path}
Subject: Undelivered Mail Returned to Sender
Date: {formatdate(localtime=False)}
Message-ID: {make_msgid(domain=mta)}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {mta}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{rcpt}>: host {mta} said: 550 5.1.1 <{rcpt}>: Recipient
    address rejected: User unknown in local recipient table

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; {mta}

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: failed
Status: 5.1.1
Remote-MTA: dns; {mta}
Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User
    unknown in local recipient table

--{boundary}
Content-Type: text/rfc822-headers

{headers}

--{boundary}--
"""
        return text.replace("\n", "\r\n").encode("utf-8")


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (aiosmtpd's Controller needs a concrete port to probe)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimulatedServer:
    """Start/stop the simulated MX on 127.0.0.1 and an ephemeral port."""

    def __init__(self, behaviour: Behaviour, bounce_maildir: Path | None = None) -> None:
        self.handler = SimulatedMX(behaviour, bounce_maildir)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)

    def __enter__(self) -> SimulatedServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"
