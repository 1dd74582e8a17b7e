"""The mail transactions of an open SMTP session, read and written on the socket directly.

aiosmtplib connects, greets, starts TLS and logs in; then `Wire` takes the transport over for the
MAIL/RCPT/DATA exchanges, which it writes pipelined and reads with one timer per wait. aiosmtplib's
own command path re-parses every address, takes a lock and wraps each answer in `asyncio.wait_for`:
about 70 µs of CPU a message, more than half of what the whole relay step costs here.
"""

from __future__ import annotations

import asyncio
from collections import deque

MAX_ANSWER = 64 * 1024  # a server that sends more without ending its answer is not speaking SMTP


class ProtocolError(Exception):
    """The server's bytes are not an SMTP answer."""


class Wire(asyncio.Protocol):
    """Answers as (code, text) in arrival order; `read` waits for the next one with a timeout."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.loop = asyncio.get_running_loop()
        self.buffer = bytearray()
        self.lines: list[str] = []  # the lines of a multi-line answer so far
        self.answers: deque[tuple[int, str]] = deque()
        self.error: BaseException | None = None  # why the session is over
        self.waiter: asyncio.Future[None] | None = None
        transport.set_protocol(self)

    # -- asyncio.Protocol --------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        start = 0
        while (end := self.buffer.find(b"\n", start)) >= 0:
            line = bytes(self.buffer[start:end]).rstrip(b"\r")
            start = end + 1
            code = line[:3]
            if not (code.isdigit() and line[3:4] in (b"", b" ", b"-")):
                self._fail(ProtocolError(f"not an SMTP answer: {line[:200]!r}"))
                return
            self.lines.append(line[4:].decode("utf-8", "replace").strip())
            if line[3:4] != b"-":
                self.answers.append((int(code), "\n".join(self.lines)))
                self.lines = []
        del self.buffer[:start]
        if len(self.buffer) > MAX_ANSWER or len(self.lines) > 1000:
            self._fail(ProtocolError("answer too long"))
        elif self.answers and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def eof_received(self) -> bool:
        self._fail(ConnectionResetError("the server closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionResetError("the connection was closed"))

    def _fail(self, err: BaseException) -> None:
        if self.error is None:
            self.error = err
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.error)
        if not self.transport.is_closing():
            self.transport.abort()

    # -- use ---------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.error is not None

    def write(self, *parts: bytes) -> None:
        """`parts` in one send (uvloop gathers them, no copy of a 10 KB body; asyncio's loop joins them)."""
        if self.error is not None:
            raise self.error
        self.transport.writelines(parts)

    async def read(self, timeout: float) -> tuple[int, str]:
        """The next answer; TimeoutError after `timeout` seconds without one."""
        if not self.answers:
            if self.error is not None:
                raise self.error
            waiter = self.waiter = self.loop.create_future()
            timer = self.loop.call_later(timeout, _expire, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self.waiter = None
        return self.answers.popleft()

    def close(self) -> None:
        self.error = self.error or ConnectionResetError("closed by us")
        self.transport.close()

    def abort(self) -> None:
        self.error = self.error or ConnectionResetError("aborted by us")
        self.transport.abort()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("no answer in time"))
