"""A real DNS server for tests: UDP on 127.0.0.1 and a free port, answering from a zone dict with dnspython.

    zone = {"example.com": {"MX": ["10 mx.example.com."], "TXT": ["v=spf1 -all"]},
            "mx.example.com": {"A": ["192.0.2.1"]}}
    with ZoneServer(zone) as dns: resolver = dns.resolver()

TXT values are given as one string and served split into 255-byte character-strings, as a real zone
would hold a long DKIM key. A name absent from the zone answers NXDOMAIN; a present name without the
asked type answers NOERROR with no records. Names listed in `servfail` answer SERVFAIL.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

Zone = dict[str, dict[str, list[str]]]


def txt_rdata(value: str) -> str:
    """A TXT value as dnspython rdata text: quoted 255-byte strings."""
    chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


class ZoneServer:
    def __init__(self, zone: Zone, *, servfail: Iterable[str] = ()) -> None:
        self.zone = {name.lower().rstrip("."): records for name, records in zone.items()}
        self.servfail = {n.lower().rstrip(".") for n in servfail}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        q = query.question[0]
        name = q.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(q.rdtype)
        self.queries.append((name, rdtype))
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name not in self.zone:
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            values = self.zone[name].get(rdtype, [])
            if values:
                texts = [txt_rdata(v) for v in values] if rdtype == "TXT" else values
                rrset = dns.rrset.from_text_list(q.name, 300, dns.rdataclass.IN, q.rdtype, texts)
                response.answer.append(rrset)
        return response.to_wire()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                wire, peer = self.sock.recvfrom(65535)
            except OSError:
                continue
            try:
                self.sock.sendto(self._answer(wire), peer)
            except Exception:  # a malformed query must not kill the test server
                continue

    def resolver(self, timeout: float = 2.0) -> dns.resolver.Resolver:
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ["127.0.0.1"]
        r.port = self.port
        r.timeout = r.lifetime = timeout
        r.cache = None
        return r

    def txt(self, name: bytes | str, timeout: float = 5) -> bytes | None:
        """A dkimpy `dnsfunc`: the TXT record at `name`, strings joined, or None."""
        text = name.decode() if isinstance(name, bytes) else name
        try:
            answer = self.resolver(timeout).resolve(text, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(answer[0].strings)

    def __enter__(self) -> ZoneServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()
