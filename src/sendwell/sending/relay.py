"""SMTP relays: parse relay URLs, pick one round-robin (resting those that fail), deliver over aiosmtplib.

Each delivery reports an `outcome.Reply` (stage, code, enhanced code, text, or a connection problem)
and never raises for SMTP trouble, so the engine has one path for every result. A connection sends
many messages; after a refused transaction it sends RSET so the next message starts clean.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from sendwell.errors import UserError
from sendwell.sending.outcome import Problem, Reply, Stage
from sendwell.sending.wire import ProtocolError, Wire

_STAGES = list(Stage)
_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
OPTIONS = ("verify", "daily_limit", "insecure_auth")  # the relay URL's ?query options
_YES, _NO = ("yes", "1", "true"), ("no", "0", "false")
Ahead = tuple[str, str, int]  # a message's sender, recipient and size, for its commands written ahead


@dataclass(frozen=True, slots=True)
class Relay:
    url: str  # as given, for messages (password hidden by `label`)
    host: str
    port: int
    security: str  # plain | starttls | tls
    username: str | None = None
    password: str | None = None
    verify: bool = True  # check the relay's certificate (turn off with ?verify=no for test relays)
    daily_limit: int | None = None  # ?daily_limit=N: the relay's own cap (e.g. a provider's 2,000 a day)

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def key(self) -> str:
        """Names the relay in the per-relay daily counts: one account at one server."""
        return f"{self.username}@{self.label}" if self.username else self.label


def parse_relay(url: str) -> Relay:
    """smtp://host:port, smtp+starttls://user:pass@host:587, smtps://host:465 (?verify=no, ?daily_limit=N,
    ?insecure_auth=yes to let smtp://user:pass@ send its password without TLS)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise UserError(f"[smtp] url {_hide_password(url)!r}: scheme must be one of {', '.join(SCHEMES)}")
    if not parts.hostname:
        raise UserError(f"[smtp] url {_hide_password(url)!r}: no host")
    security, default_port = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise UserError(f"[smtp] url {_hide_password(url)!r}: bad port") from None
    query = parse_qs(parts.query)
    unknown = set(query) - set(OPTIONS)
    if unknown:
        raise UserError(
            f"[smtp] url {_hide_password(url)!r}: unknown option {', '.join(sorted(unknown))} "
            f"(known: {', '.join(OPTIONS)})"
        )
    verify = query.get("verify", ["yes"])[0].lower() not in _NO
    insecure_auth = query.get("insecure_auth", ["no"])[0].lower()
    if insecure_auth not in _YES + _NO:
        raise UserError(f"[smtp] url {_hide_password(url)!r}: insecure_auth must be yes or no, not {insecure_auth!r}")
    if security == "plain" and parts.username is not None and insecure_auth not in _YES:
        # AUTH PLAIN/LOGIN is base64: anyone on the path reads the password. Refuse before any connection.
        raise UserError(
            f"[smtp] url {_hide_password(url)!r}: a login over smtp:// sends the password unencrypted; "
            "use smtp+starttls:// or smtps://, or add ?insecure_auth=yes for a relay on a trusted network"
        )
    cap = query.get("daily_limit", [None])[0]
    if cap is not None and not (cap.isascii() and cap.isdigit() and int(cap) > 0):
        raise UserError(f"[smtp] url {_hide_password(url)!r}: daily_limit must be a positive whole number, not {cap!r}")
    return Relay(
        url=url,
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        verify=verify,
        daily_limit=int(cap) if cap is not None else None,
    )


def _hide_password(url: str) -> str:
    """The URL for an error message: the password masked, or, when the URL is too broken to find it (no
    scheme, one slash), everything before the last "@"."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.password is not None:
        return url.replace(":" + parts.password + "@", ":***@", 1)
    at = url.rfind("@")
    if at < 0:
        return url
    cut = url.find("//", 0, at)
    return (url[: cut + 2] if cut >= 0 else "") + "***" + url[at:]


def helo_name(configured: str) -> tuple[str, str | None]:
    """The name we greet relays with (EHLO), and a warning when it is not a fully qualified one.

    The configured name; else this host's fully qualified name. socket.getfqdn() gives `localhost` (or
    `localhost.localdomain`) where /etc/hosts maps the host's name to 127.0.0.1 as `localhost`, and relays
    that check the greeting (Postfix's reject_non_fqdn_helo_hostname) refuse every message from it."""
    if configured:
        return configured, None
    fqdn = socket.getfqdn()
    if "." in fqdn and fqdn.split(".")[0] != "localhost" and not fqdn.endswith(".localdomain"):
        return fqdn, None
    host = socket.gethostname()
    return host, (
        f"this host has no fully qualified name (it greets relays as {host!r}); relays that require one "
        "refuse every message: set [smtp] helo_name to this host's name in DNS"
    )


def parse_relays(urls: tuple[str, ...] | list[str]) -> list[Relay]:
    items = [u for url in urls for u in url.split(",") if u.strip()]
    if not items:
        raise UserError("no SMTP relay configured: set SENDWELL_SMTP_URL or [smtp] urls in sendwell.toml")
    return [parse_relay(u) for u in items]


def daily_caps(urls: tuple[str, ...] | list[str]) -> dict[str, int]:
    """{relay key: daily_limit} of the configured relays that have one ({} when none is configured)."""
    try:
        return {r.key: r.daily_limit for r in parse_relays(urls) if r.daily_limit}
    except UserError:  # no relay configured (yet), or a bad URL that `send` reports: nothing to show
        return {}


class RelayPool:
    """Round-robin over the relays, skipping any that failed within the last `rest_seconds`."""

    def __init__(self, relays: list[Relay], rest_seconds: float, clock=time.monotonic) -> None:
        self.relays, self.rest_seconds, self.clock = relays, rest_seconds, clock
        self.resting: dict[Relay, float] = {}
        self.capped: set[Relay] = set()  # at their daily_limit: not used again until tomorrow
        self._next = 0

    @property
    def available(self) -> list[Relay]:
        return [r for r in self.relays if r not in self.capped]

    def pick(self) -> Relay:
        """The next relay not resting; when all rest, the one whose rest ends first (the engine's
        global back-off, not the pool, decides when to try again)."""
        now = self.clock()
        relays = self.available or self.relays
        for _ in range(len(relays)):
            relay = relays[self._next % len(relays)]
            self._next += 1
            if self.resting.get(relay, 0.0) <= now:
                return relay
        return min(relays, key=lambda r: self.resting.get(r, 0.0))

    def rest(self, relay: Relay) -> None:
        self.resting[relay] = self.clock() + self.rest_seconds

    def ok(self, relay: Relay) -> None:
        self.resting.pop(relay, None)


def _enhanced(text: str) -> str | None:
    m = _ENHANCED.match(text)
    return m.group(1) if m else None


def _is_crlf(data: bytes) -> bool:
    """Every line ends in CRLF (our prepared messages do), so the body can be written as it is."""
    return data.count(b"\n") == data.count(b"\r\n")


def _reply(stage: Stage, code: int, message: str) -> Reply:
    text = " ".join(message.split())[:1000]
    if not 200 <= code <= 599:  # aiosmtplib's -1: the answer was not SMTP at all
        return Reply(stage, None, None, text, Problem.PROTOCOL)
    return Reply(stage, code, _enhanced(text), text)


def _problem(stage: Stage, err: BaseException) -> Reply:
    """A failure without an SMTP answer, named by what went wrong."""
    if isinstance(err, (aiosmtplib.SMTPTimeoutError, TimeoutError)):
        problem = Problem.TIMEOUT
    elif (
        isinstance(err, ssl.SSLError)
        or isinstance(err.__cause__, ssl.SSLError)
        or "[SSL" in str(err)
        or (stage is Stage.STARTTLS and isinstance(err, aiosmtplib.SMTPException))
    ):
        problem = Problem.TLS
    elif (
        isinstance(err, ConnectionRefusedError)
        or isinstance(err.__cause__, ConnectionRefusedError)
        or (isinstance(err, aiosmtplib.SMTPConnectError) and ("refused" in str(err) or "Errno 111" in str(err)))
    ):
        problem = Problem.REFUSED
    elif isinstance(err, (ConnectionError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError)):
        problem = Problem.RESET
    else:
        problem = Problem.PROTOCOL
    return Reply(stage, None, None, " ".join(f"{type(err).__name__}: {err}".split())[:1000], problem)


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    """Say QUIT before closing a session the server refused (RFC 5321 4.1.1.10), also after a 421 while the
    socket stands (the server may not have closed it yet); a server that does not answer within a second is left."""
    if smtp.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            await smtp.quit(timeout=1.0)
    smtp.close()


class _Session(aiosmtplib.SMTP):
    """aiosmtplib's client, saying QUIT after a refused greeting: aiosmtplib closes the socket at once, while
    RFC 5321 (3.1, 4.1.1.10) has the client end even a refused session with QUIT (a 554 server waits for it)."""

    async def _create_connection(self, timeout: float | None) -> aiosmtplib.SMTPResponse:
        try:
            return await super()._create_connection(timeout)
        except aiosmtplib.SMTPConnectResponseError:
            if self.protocol is not None and self.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                    await self.protocol.execute_command(b"QUIT", timeout=1.0)
            raise


async def _login(smtp: aiosmtplib.SMTP, username: str, password: str) -> None:
    """One AUTH attempt with the best plain mechanism: aiosmtplib's login() retries every method
    offered, and a wrong password then ends in a timeout instead of the server's 535."""
    methods = smtp.supported_auth_methods
    for name, method in (("plain", smtp.auth_plain), ("login", smtp.auth_login)):
        if name in methods:
            await method(username, password)
            return
    await smtp.login(username, password)


# sre scans for a literal with its own loop: ≈4 µs for a 12 KB message, where CPython's search for CRLF-dot
# in bytes took ≈8 (it steps about a byte at a time for so short a needle)
_DOT_AFTER_LF = re.compile(rb"\n\.").search


def dot_line(data: bytes) -> bool:
    """Whether a line of `data` (CRLF line ends, so LF-dot is CRLF-dot) starts with "."."""
    return data.startswith(b".") or _DOT_AFTER_LF(data) is not None


class Connection:
    """One SMTP session to one relay; `send` delivers one message to one recipient.

    aiosmtplib opens the session (connect, EHLO, STARTTLS, AUTH); the mail transactions then go over
    a `Wire` on the same transport.
    """

    def __init__(self, relay: Relay, *, timeout: float, helo_name: str = "") -> None:
        self.relay, self.timeout = relay, timeout
        self.helo_name = helo_name or None
        self.wire: Wire | None = None
        self.pipelining = self.smtputf8 = False
        self.size_limit: int | None = None  # the relay's SIZE (RFC 1870): it refuses larger messages
        self.sent = 0  # messages accepted on this session
        self.stage = Stage.CONNECT  # where the current transaction is (for failures without an answer)
        # The next message's MAIL/RCPT/DATA, written behind the previous body (RFC 2920 lets the message content
        # start a group): (sender, recipient, size) while their answers are still to be read.
        self.ahead: Ahead | None = None

    @property
    def is_open(self) -> bool:
        return self.wire is not None and not self.wire.closed

    async def open(self) -> Reply | None:
        """Connect, greet, STARTTLS and log in as the URL says; None when ready, else what failed."""
        r = self.relay
        context = None
        if r.security != "plain" and not r.verify:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        smtp = _Session(
            hostname=r.host,
            port=r.port,
            timeout=self.timeout,
            use_tls=r.security == "tls",
            start_tls=False,
            validate_certs=r.verify,
            tls_context=context,
            local_hostname=self.helo_name,
        )
        stage = Stage.CONNECT
        try:
            try:
                await smtp.connect()
            except aiosmtplib.SMTPConnectResponseError as err:
                return _reply(Stage.CONNECT, err.code, err.message)
            stage = Stage.HELO
            await smtp.ehlo()
            if r.security == "starttls":
                stage = Stage.STARTTLS
                await smtp.starttls(tls_context=context)
                stage = Stage.HELO
                await smtp.ehlo()
            if r.username is not None:
                stage = Stage.AUTH
                await _login(smtp, r.username, r.password or "")
        except aiosmtplib.SMTPResponseException as err:
            await _quit(smtp)
            return _reply(stage, err.code, err.message)
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError, TimeoutError) as err:
            smtp.close()
            return _problem(stage, err)
        if smtp.transport is None or smtp.transport.is_closing():
            return Reply(stage, None, None, "connection closed", Problem.RESET)
        self.pipelining = smtp.supports_extension("pipelining")
        self.smtputf8 = smtp.supports_extension("smtputf8")
        size = smtp.esmtp_extensions.get("size", "")
        self.size_limit = int(size) if size.isdigit() and int(size) > 0 else None  # SIZE 0: no fixed limit
        self.wire, self.sent, self.ahead = Wire(smtp.transport), 0, None  # type: ignore[arg-type]
        return None

    async def send(
        self, envelope_from: str, rcpt: str, data: bytes, *, crlf: bool = False, then: Ahead | None = None
    ) -> Reply:
        """Deliver one message; the Reply says where and why it stopped, or EOD 250 when accepted.

        `crlf` promises every line of `data` already ends in CRLF (the engine's rendered messages
        do), which saves scanning 10 KB for bare line ends. `then` (sender, recipient, size) is the message
        this connection sends next: with PIPELINING its MAIL/RCPT/DATA go in the same write as this body, one
        write and one wake-up less a message. Nothing of it is delivered before its own body is sent."""
        if self.ahead is not None and self.ahead != (envelope_from, rcpt, len(data)):
            await self._cancel_ahead()  # another message came than announced (rare: a pause, a lost lease)
        wire = self.wire
        if wire is None or wire.closed:
            return Reply(Stage.MAIL, None, None, "connection closed", Problem.RESET)
        utf8 = not (envelope_from.isascii() and rcpt.isascii())
        if utf8 and not self.smtputf8:
            # RFC 6531 3.2: a non-ASCII address needs SMTPUTF8 all the way; the relay lacks it,
            # which says nothing about the address (so `failed`, never `error`).
            return Reply(
                Stage.RCPT,
                553,
                "5.6.7",
                "5.6.7 the relay does not offer SMTPUTF8 (RFC 6531), needed for a non-ASCII address",
            )
        if not crlf and not _is_crlf(data):
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
        self.stage = Stage.MAIL
        if then is not None and not (self.pipelining and then[0].isascii() and then[1].isascii()):
            then = None
        try:
            stage, code, text = await self._transaction(wire, envelope_from, rcpt, data, utf8, then)
        except (OSError, TimeoutError, ProtocolError) as err:
            self.ahead = None
            wire.abort()
            return _problem(self.stage, err)
        if stage is Stage.EOD and code == 250:  # only 250 after the body is delivery
            self.sent += 1
        elif code < 400 or code == 421:  # an answer out of turn, or the server closing: the session is done
            self.ahead = None
            wire.abort()
        elif self.ahead is None:  # (with the next message's DATA written ahead, an RSET would land in its body;
            await self._reset()  # the answer at EOD has ended the transaction anyway)
        return _reply(stage, code, text)

    def _commands(self, envelope_from: str, rcpt: str, size: int, utf8: bool) -> list[tuple[Stage, bytes]]:
        enc, option = ("utf-8", b" SMTPUTF8") if utf8 else ("ascii", b"")
        if self.size_limit is not None:  # RFC 1870: declare the size so a relay can refuse before the body
            option += b" SIZE=%d" % size
        return [
            (Stage.MAIL, b"MAIL FROM:<" + envelope_from.encode(enc) + b">" + option + b"\r\n"),
            (Stage.RCPT, b"RCPT TO:<" + rcpt.encode(enc) + b">\r\n"),
            (Stage.DATA, b"DATA\r\n"),
        ]

    async def _transaction(
        self, wire: Wire, envelope_from: str, rcpt: str, data: bytes, utf8: bool, then: Ahead | None
    ) -> tuple[Stage, int, str]:
        """MAIL, RCPT and DATA (in one write when the relay offers PIPELINING, RFC 2920), then the body.
        Returns the stage and the answer that ended the transaction (250 at EOD when accepted)."""
        commands = self._commands(envelope_from, rcpt, len(data), utf8)
        if self.ahead is not None:  # written behind the previous body: only the answers are left
            self.ahead = None
        elif self.pipelining:
            wire.write(b"".join(c for _, c in commands))
        answers: list[tuple[int, str]] = []
        for stage, command in commands:
            self.stage = stage
            if not self.pipelining:
                wire.write(command)
            try:
                answers.append(await wire.read(self.timeout))
            except (OSError, ProtocolError):
                if answers and answers[-1][0] >= 400:  # it said why before it hung up: report that
                    break
                raise
            if answers[-1][0] == 421 or (not self.pipelining and answers[-1][0] >= 400):
                break  # 421: the server is closing; the other answers will not come
        for (stage, _), (code, text) in zip(commands, answers, strict=False):
            if code == 421:
                return stage, code, text
            if stage is not Stage.DATA and code not in (250, 251):
                if answers[-1][0] == 354:  # DATA accepted after all: end an empty message (RFC 2920)
                    wire.write(b".\r\n")
                    await wire.read(self.timeout)
                return stage, code, text
            if stage is Stage.DATA and code != 354:
                return stage, code, text
        # Dot-stuffing: a line that starts with "." gets a second one (RFC 5321 4.5.2); looked for first,
        # since most messages have none and a replace copies the whole message.
        body = data
        if dot_line(data):
            body = data.replace(b"\r\n.", b"\r\n..")
            if body.startswith(b"."):
                body = b"." + body
        self.stage = Stage.EOD
        end = b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n"
        if then is not None:
            self.ahead = then
            end += b"".join(c for _, c in self._commands(*then, False))
        wire.write(body, end)
        return (Stage.EOD, *await wire.read(self.timeout))

    async def _cancel_ahead(self, reopen: bool = True) -> None:
        """Take back the MAIL/RCPT/DATA written ahead: RSET, unless the server accepted the DATA and waits for a
        body, which no command can end without delivering it: then the session is dropped (and reopened)."""
        self.ahead, wire = None, self.wire
        if wire is None or wire.closed:
            return
        try:
            codes = [(await wire.read(self.timeout))[0] for _ in range(3)]
        except (OSError, TimeoutError, ProtocolError):
            codes = [0]
        if codes[-1] == 354 or 0 in codes or 421 in codes:
            wire.abort()
            if reopen and await self.open() is not None:
                self.abort()
        else:
            await self._reset()

    async def _reset(self) -> None:
        """RSET after a refused transaction; a session that cannot reset is dropped."""
        wire = self.wire
        if wire is None or wire.closed:
            return
        try:
            wire.write(b"RSET\r\n")
            code, _ = await wire.read(self.timeout)
        except (OSError, TimeoutError, ProtocolError):
            code = 0
        if code != 250:
            wire.abort()

    def abort(self) -> None:
        if self.wire is not None:
            self.wire.abort()

    async def close(self, wait: float = 5.0) -> None:
        """QUIT and close; the answer to QUIT is awaited at most `wait` seconds (and the SMTP timeout)."""
        if self.ahead is not None:  # the next message's commands went ahead: their answers first
            await self._cancel_ahead(reopen=False)
        wire, self.wire = self.wire, None
        if wire is not None and not wire.closed:
            try:
                wire.write(b"QUIT\r\n")
                await wire.read(min(self.timeout, wait))
            except (OSError, TimeoutError, ProtocolError):
                pass
            wire.close()
