"""A small DNS server on 127.0.0.1 answering from a zone dict, for tests, benches and demos (no internet).

Zone: {"name": {"MX": [(10, "mx.name")], "A": ["127.0.0.1"], "AAAA": [...], "CNAME": "other"}, or the
strings "timeout" (never answered) and "servfail"}. A name missing from the zone is NXDOMAIN; a name
without records of the asked type answers NOERROR with no records. `resolve` may replace the dict
lookup (a function of the lower-case name) for generated zones.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

Entry = Mapping[str, Any] | str
_SILENT = b""


def _question(wire: bytes) -> tuple[str, str]:
    """(lower-case name, type) of a query's first question, read straight from the packet."""
    labels, i = [], 12
    while wire[i]:
        labels.append(wire[i + 1 : i + 1 + wire[i]].decode("ascii", "replace").lower())
        i += 1 + wire[i]
    rdtype = dns.rdatatype.RdataType.make(int.from_bytes(wire[i + 1 : i + 3], "big"))
    return ".".join(labels), dns.rdatatype.to_text(rdtype)


class LocalDnsServer:
    """Run with `with LocalDnsServer(zone) as server:` and point a resolver at 127.0.0.1:server.port."""

    def __init__(
        self,
        zone: Mapping[str, Entry] | None = None,
        *,
        resolve: Callable[[str], Entry | None] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        ttl: int = 300,
        release_at: int = 0,
    ) -> None:
        zone = {k.lower().rstrip("."): v for k, v in (zone or {}).items()}
        self.resolve = resolve or zone.get
        self.host, self.port, self.delay, self.ttl = host, port, delay, ttl
        # Hold every reply until this many queries wait at once: proves a client's concurrency
        # without depending on timing.
        self.release_at = release_at
        self._held: list[tuple[bytes, tuple[str, int]]] = []
        self.queries: Counter[tuple[str, str]] = Counter()
        self._replies: dict[bytes, bytes] = {}
        self._rdatas: dict[tuple[str, str], list] = {}
        self.pending = 0
        self.max_pending = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._transport: asyncio.DatagramTransport | None = None

    # --- answering ---------------------------------------------------------------------------------
    def answer(self, wire: bytes) -> bytes | None:
        """The reply to one query packet (None: stay silent, like a server that timed out)."""
        # Replies depend only on the question (and the client's EDNS options): build each once with
        # dnspython, then reuse its bytes with the new query id. Keeps the server out of the way of
        # clients that keep hundreds of queries in flight.
        name, rdtype = _question(wire)
        self.queries[(name, rdtype)] += 1
        key = wire[2:]
        cached = self._replies.get(key)
        if cached is None:
            cached = self._build(wire)
            if len(self._replies) < 100_000:
                self._replies[key] = cached
        return None if cached is _SILENT else wire[:2] + cached[2:]

    def _build(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        entry = self.resolve(question.name.to_text(omit_final_dot=True).lower())
        if entry == "timeout":
            return _SILENT
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if entry is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif isinstance(entry, str):  # "servfail" (a "timeout" was answered above)
            response.set_rcode(dns.rcode.SERVFAIL)
        else:
            for rrset in self._records(question.name, dns.rdatatype.to_text(question.rdtype), entry):
                response.answer.append(rrset)
        return response.to_wire()

    def _records(self, qname: dns.name.Name, rdtype: str, entry: Mapping[str, Any]) -> list[dns.rrset.RRset]:
        if "CNAME" in entry and rdtype != "CNAME":
            target = entry["CNAME"].rstrip(".") + "."
            out = [dns.rrset.from_text(qname, self.ttl, "IN", "CNAME", target)]
            follow = self.resolve(target.rstrip(".").lower())
            if isinstance(follow, Mapping):
                out += self._records(dns.name.from_text(target), rdtype, follow)
            return out
        values = entry.get(rdtype)
        if not values:
            return []
        key = (rdtype, repr(values))
        rdatas = self._rdatas.get(key)
        if rdatas is None:  # parsing record text is the slow part of answering: once per distinct record set
            if rdtype == "MX":
                texts = [f"{pref} {host.rstrip('.') + '.' if host != '.' else '.'}" for pref, host in values]
            else:
                texts = [str(v) for v in values]
            rdatas = list(dns.rrset.from_text(qname, self.ttl, "IN", rdtype, *texts))
            self._rdatas[key] = rdatas
        return [dns.rrset.from_rdata_list(qname, self.ttl, rdatas)]

    # --- serving -----------------------------------------------------------------------------------
    def start(self) -> LocalDnsServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="local-dns", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the local DNS server did not start")
        return self

    def _serve(self, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        server = self

        class Protocol(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                server._transport = transport  # type: ignore[assignment]

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                try:
                    reply = server.answer(data)
                except (
                    ValueError,
                    IndexError,
                    dns.exception.DNSException,
                ):  # a malformed packet must not stop the server
                    return
                if reply is None:
                    return
                if server.release_at:
                    server._hold(reply, addr)
                elif server.delay:
                    server.pending += 1
                    server.max_pending = max(server.max_pending, server.pending)
                    loop.call_later(server.delay, server._send, reply, addr)
                else:
                    server._send(reply, addr, pending=False)

        async def open_endpoint() -> None:
            await loop.create_datagram_endpoint(Protocol, local_addr=(self.host, self.port))
            self.port = self._transport.get_extra_info("sockname")[1]  # type: ignore[union-attr]

        loop.run_until_complete(open_endpoint())
        ready.set()
        loop.run_forever()
        self._transport.close()  # type: ignore[union-attr]
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    def _hold(self, reply: bytes, addr: tuple[str, int]) -> None:
        self._held.append((reply, addr))
        self.pending += 1
        self.max_pending = max(self.max_pending, self.pending)
        if self.pending >= self.release_at:
            self.release_at = 0
            held, self._held = self._held, []
            for waiting_reply, waiting_addr in held:
                self._send(waiting_reply, waiting_addr)

    def _send(self, reply: bytes, addr: tuple[str, int], pending: bool = True) -> None:
        if pending:
            self.pending -= 1
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(reply, addr)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def __enter__(self) -> LocalDnsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
