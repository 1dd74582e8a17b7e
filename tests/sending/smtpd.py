"""Real SMTP servers for the sending tests: aiosmtpd with scripted answers per address, and a raw socket server.

`ScriptedServer` runs aiosmtpd in its own thread (its own event loop) on 127.0.0.1 and a free port,
answers RCPT TO / end of data from per-address scripts, can refuse MAIL FROM, drop connections or
stop listening for a while (an outage), and logs every accepted message so tests can count
deliveries per recipient. `RawServer` speaks just enough (or too little) for connect-stage failures.
"""

from __future__ import annotations

import email
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Accepted:
    mail_from: str
    rcpt: str
    data: bytes
    connection: int  # which client connection delivered it

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Script:
    rcpt: dict[str, str] = field(default_factory=dict)  # address -> answer at RCPT TO
    eod: dict[str, str] = field(default_factory=dict)  # address -> answer after the body
    mail: str | None = None  # answer to every MAIL FROM (e.g. "421 4.3.2 try later")
    ehlo: str | None = None  # answer to EHLO instead of the capabilities
    drop_at: str | None = None  # "mail" | "rcpt" | "data": close the connection at that step
    delay: float = 0.0  # seconds to wait before answering RCPT TO (timeouts)
    hold: threading.Event | None = None  # while not set, RCPT TO is not answered (a test waits for a condition)


class _Handler:
    def __init__(self, server: ScriptedServer) -> None:
        self.server = server

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.server.script.ehlo:
            return [self.server.script.ehlo]
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        script = self.server.script
        if script.drop_at == "mail":
            server.transport.close()
            return "421 4.4.2 dropped"
        if script.mail:
            return script.mail
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        import asyncio

        script = self.server.script
        if script.delay:
            await asyncio.sleep(script.delay)
        while script.hold is not None and not script.hold.is_set():
            await asyncio.sleep(0.01)
        if script.drop_at == "rcpt":
            server.transport.close()
            return "421 4.4.2 dropped"
        answer = script.rcpt.get(address.lower())
        if answer:
            with self.server.lock:
                self.server.rcpt_answers.append((address.lower(), answer))
            return answer
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        script = self.server.script
        if script.drop_at == "data":
            server.transport.close()
            return "421 4.4.2 dropped"
        rcpt = envelope.rcpt_tos[0].lower()
        answer = script.eod.get(rcpt)
        if answer:
            return answer
        with self.server.lock:
            self.server.accepted.append(Accepted(envelope.mail_from, rcpt, envelope.content, id(session)))
        return "250 2.0.0 queued"


class ScriptedServer:
    """aiosmtpd on 127.0.0.1 with per-address answers; `accepted` logs every message taken."""

    def __init__(
        self, script: Script | None = None, *, auth: tuple[str, str] | None = None, smtputf8: bool = False
    ) -> None:
        self.script = script or Script()
        self.smtputf8 = smtputf8  # offer SMTPUTF8 (RFC 6531)
        self.port = free_port()
        self.accepted: list[Accepted] = []
        self.rcpt_answers: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.auth = auth
        self.logins: list[str] = []  # the user name of every AUTH attempt, right or wrong
        self.controller: Controller | None = None

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            with self.lock:
                self.logins.append(auth_data.login.decode())
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.auth is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.auth
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> ScriptedServer:
        kwargs: dict = {
            "hostname": "127.0.0.1",
            "port": self.port,
            "ready_timeout": 10,
            "enable_SMTPUTF8": self.smtputf8,
        }
        if self.auth:
            kwargs.update(authenticator=self._authenticator, auth_required=True, auth_require_tls=False)
        self.controller = Controller(_Handler(self), **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def outage(self, seconds: float) -> threading.Thread:
        """Stop listening now (connections are refused) and come back after `seconds`."""
        self.stop()

        def back() -> None:
            time.sleep(seconds)
            self.start()

        t = threading.Thread(target=back, daemon=True)
        t.start()
        return t

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def counts(self) -> Counter:
        with self.lock:
            return Counter(a.rcpt for a in self.accepted)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RawServer:
    """A TCP server that writes `greeting` (if any) to each client and then stays silent or hangs up."""

    def __init__(self, greeting: bytes = b"", *, hang_up: bool = True) -> None:
        self.greeting, self.hang_up = greeting, hang_up
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.clients: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                continue
            if self.greeting:
                client.sendall(self.greeting)
            if self.hang_up:
                client.close()
            else:
                self.clients.append(client)

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self.thread.join()
        for c in self.clients:
            c.close()
        self.sock.close()
