"""A scripted fault-injecting SMTP server: a raw asyncio server that misbehaves on command, per stage.

aiosmtpd answers well-formed SMTP and cannot easily stall half-way, cut a message body or reset a
socket after reading the final dot, so this server speaks the protocol itself (greeting, EHLO/HELO,
MAIL, RCPT, DATA, RSET, NOOP, QUIT; PIPELINING (RFC 2920) only when asked, no extensions beyond
8BITMIME/SMTPUTF8/SIZE). Commands are read line by line, so pipelined ones are answered in turn.

A `Fault` says where (stage), what (an SMTP answer such as "421 4.3.2 busy", or one of the actions
DROP = close the socket, RESET = close with a TCP RST, STALL = say nothing until the client gives
up, CUT = close half-way through the message body) and for how long (`times` faults, or `seconds`
after the server was armed; both None = for ever). Faults may be limited to some recipients.

The server logs every message it accepted with a 250 (`accepted`, so tests can check
exactly-once), every message it read in full but never acknowledged (`unacked`: the client may
rightly send those again), and every fault it injected (`fired`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class Stage(StrEnum):
    CONNECT = "connect"  # instead of the 220 greeting
    EHLO = "ehlo"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"  # the DATA command, instead of 354
    BODY = "body"  # while the body is being sent (only CUT, DROP, RESET make sense here)
    EOD = "eod"  # after the final dot, instead of the 250


class Action(StrEnum):
    DROP = "drop"  # close the connection (FIN) without a word
    RESET = "reset"  # abort the connection with a TCP RST
    STALL = "stall"  # answer nothing; the client's timeout must fire
    CUT = "cut"  # at BODY: read part of the body, then drop


@dataclass
class Fault:
    stage: Stage
    answer: str | Action  # "421 4.3.2 try later" or an Action
    times: int | None = None  # recover after this many faults
    seconds: float | None = None  # recover this long after arming
    only: frozenset[str] | None = None  # recipients it applies to (RCPT/DATA/BODY/EOD); None = all
    fired: int = 0

    def applies(self, now: float, armed_at: float, rcpts: list[str]) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.seconds is not None and now >= armed_at + self.seconds:
            return False
        return self.only is None or any(r in self.only for r in rcpts)


@dataclass
class Received:
    mail_from: str
    rcpts: list[str]
    data: bytes
    connection: int


@dataclass
class FaultServer:
    """Run with `with FaultServer() as srv:`; set `srv.faults` (and call `arm()`) at any time."""

    faults: list[Fault] = field(default_factory=list)
    stall_seconds: float = 30.0  # a stalled connection is closed after this (or at stop)
    latency: float = 0.0  # seconds before each end-of-data answer: a slow but healthy server
    accepted: list[Received] = field(default_factory=list)
    unacked: list[Received] = field(default_factory=list)
    connections: int = 0
    size: int | None = None  # the SIZE advertised in EHLO (RFC 1870), none when None
    pipelining: bool = False  # advertise PIPELINING (RFC 2920)
    pipelined: int = 0  # commands that arrived behind a message body in the same read (written ahead)
    quits: int = 0  # sessions the client ended with QUIT
    helo_names: list[str] = field(default_factory=list)  # what the client greeted with
    mail_args: list[str] = field(default_factory=list)  # each MAIL FROM's argument, parameters included
    port: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.armed_at = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._thread: threading.Thread | None = None
        self._held = threading.Event()  # set: end-of-data answers wait (see hold)
        self.waiting = 0  # sessions waiting at end of data while held

    # -- control from the test's thread -----------------------------------------------------------

    def arm(self, *faults: Fault) -> None:
        """Replace the faults and restart their clocks."""
        with self.lock:
            self.faults = list(faults)
            self.armed_at = time.monotonic()

    def hold(self) -> None:
        """Keep every message's end-of-data answer until `release`: the client sits waiting on SMTP."""
        self._held.set()

    def release(self) -> None:
        self._held.clear()

    def counts(self) -> Counter:
        with self.lock:
            return Counter(r for m in self.accepted for r in m.rcpts)

    def unacked_counts(self) -> Counter:
        with self.lock:
            return Counter(r for m in self.unacked for r in m.rcpts)

    def fired(self) -> int:
        with self.lock:
            return sum(f.fired for f in self.faults)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> FaultServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            self.port = sock.getsockname()[1]
            self._server = loop.run_until_complete(asyncio.start_server(self._client, sock=sock, backlog=64))
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fault-smtp", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault SMTP server did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the protocol ---------------------------------------------------------------------------

    def _fault(self, stage: Stage, rcpts: list[str]) -> str | Action | None:
        now = time.monotonic()
        with self.lock:
            for f in self.faults:
                if f.stage is stage and f.applies(now, self.armed_at, rcpts):
                    f.fired += 1
                    return f.answer
        return None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self.lock:
            self.connections += 1
            conn_id = self.connections
        try:
            await self._session(conn_id, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _act(self, action: str | Action, writer: asyncio.StreamWriter) -> bool:
        """Carry out a fault; True when the session is over."""
        if action is Action.STALL:
            await asyncio.sleep(self.stall_seconds)
            return True
        if action in (Action.DROP, Action.CUT):
            writer.close()
            return True
        if action is Action.RESET:
            sock = writer.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return True
        writer.write(action.encode() + b"\r\n")
        await writer.drain()
        return action.startswith("421")  # 421 closes the channel, as RFC 5321 says

    async def _session(self, conn_id: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        fault = self._fault(Stage.CONNECT, [])
        if fault is not None:
            if isinstance(fault, Action):
                await self._act(fault, writer)
                return
            await say(fault)
            if not fault.startswith("2"):
                # a 4xx/5xx greeting: the client should still end with QUIT (RFC 5321 3.1, 4.1.1.10); we wait a
                # little for it, answering anything else "503", then close
                with contextlib.suppress(TimeoutError):
                    while line := await asyncio.wait_for(reader.readline(), 2.0):
                        if line.strip().upper() == b"QUIT":
                            self.quits += 1
                            await say("221 2.0.0 bye")
                            return
                        await say("503 5.5.1 refused at the greeting; say QUIT")
                return
        else:
            await say("220 fault.test ESMTP ready")
        mail_from: str | None = None
        rcpts: list[str] = []
        while True:
            line = await reader.readline()
            if not line:
                return
            verb, _, arg = line.decode("utf-8", "replace").strip().partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                self.helo_names.append(arg)
                if (fault := self._fault(Stage.EHLO, [])) is not None:
                    if await self._act(fault, writer):
                        return
                    continue
                if verb == "EHLO":
                    size = f"250-SIZE {self.size}\r\n" if self.size is not None else ""
                    size += "250-PIPELINING\r\n" if self.pipelining else ""
                    await say(f"250-fault.test\r\n{size}250-8BITMIME\r\n250 SMTPUTF8")
                else:
                    await say("250 fault.test")
            elif verb == "MAIL":
                self.mail_args.append(arg)
                if (fault := self._fault(Stage.MAIL, [])) is not None:
                    if await self._act(fault, writer):
                        return
                    continue
                mail_from, rcpts = _path(arg), []
                await say("250 2.1.0 ok")
            elif verb == "RCPT":
                rcpt = _path(arg).lower()
                if mail_from is None:
                    await say("503 5.5.1 MAIL first")
                    continue
                if (fault := self._fault(Stage.RCPT, [rcpt])) is not None:
                    if await self._act(fault, writer):
                        return
                    continue
                rcpts.append(rcpt)
                await say("250 2.1.5 ok")
            elif verb == "DATA":
                if not rcpts:
                    await say("503 5.5.1 RCPT first")
                    continue
                if (fault := self._fault(Stage.DATA, rcpts)) is not None:
                    if await self._act(fault, writer):
                        return
                    continue
                await say("354 go ahead")
                cut = self._fault(Stage.BODY, rcpts)
                body = await _read_body(reader, stop_after=1 if cut is not None else None)
                if b"MAIL FROM:" in getattr(reader, "_buffer", b""):  # the next message's commands came along
                    self.pipelined += 1
                if cut is not None:
                    await self._act(cut, writer)
                    return
                got = Received(mail_from or "", list(rcpts), body, conn_id)
                mail_from, rcpts = None, []
                if self.latency:
                    await asyncio.sleep(self.latency)
                if self._held.is_set():
                    with self.lock:
                        self.waiting += 1
                    while self._held.is_set():
                        await asyncio.sleep(0.01)
                    with self.lock:
                        self.waiting -= 1
                fault = self._fault(Stage.EOD, got.rcpts)
                if fault is None or fault.startswith("2"):
                    with self.lock:
                        self.accepted.append(got)
                    await say(fault if fault is not None else "250 2.0.0 queued")
                    continue
                if isinstance(fault, Action):  # read in full, never acknowledged
                    with self.lock:
                        self.unacked.append(got)
                if await self._act(fault, writer):
                    return
            elif verb == "RSET":
                mail_from, rcpts = None, []
                await say("250 2.0.0 ok")
            elif verb == "NOOP":
                await say("250 2.0.0 ok")
            elif verb == "QUIT":
                self.quits += 1
                await say("221 2.0.0 bye")
                return
            else:
                await say("502 5.5.2 command not recognized")


def _path(arg: str) -> str:
    """The address of `FROM:<a@b> SIZE=1` / `TO:<a@b>`."""
    _, _, rest = arg.partition(":")
    rest = rest.strip()
    if rest.startswith("<"):
        return rest[1 : rest.find(">")] if ">" in rest else rest[1:]
    return rest.split(" ", 1)[0]


async def _read_body(reader: asyncio.StreamReader, stop_after: int | None = None) -> bytes:
    """The message up to the lone dot, dot-unstuffed; with `stop_after`, only that many lines."""
    lines: list[bytes] = []
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionResetError("client closed during DATA")
        if line in (b".\r\n", b".\n"):
            return b"".join(lines)
        lines.append(line[1:] if line.startswith(b"..") else line)
        if stop_after is not None and len(lines) >= stop_after:
            return b"".join(lines)
