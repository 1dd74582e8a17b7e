"""DKIM keys (generate, store 0600, index, DNS record) and a fast relaxed/relaxed signer (RFC 6376, RFC 8463).

dkimpy signs a 10 KB message in milliseconds (pure-Python RSA, re-parsing the key every time); this
signer parses the key once, caches the signature header's invariant tags per key and the `h=` list
per header layout, canonicalizes the body with a fast path for bodies that need no change, and
leaves the private-key operation to OpenSSL through `cryptography`. Its output is verified with
dkimpy in the tests. An RSA-2048 signature still costs ~0.75 ms of CPU (the modular exponentiation
depends on each message's hash, so nothing of it can be done once per campaign); Ed25519 costs ~0.05 ms.

Keys live as PEM files (mode 0600) in a directory (`--dir`, else the `[dkim] dir` setting) with an
index `keys.json` naming each key's domain, selector and algorithm.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from sendwell.errors import Hint, UserError

INDEX_NAME = "keys.json"
DEFAULT_DIR = "dkim"
DIR_ENV = "SENDWELL_DKIM_DIR"

# Signed when present, in this order (RFC 6376 §5.4.1 and the bulk-sender rules: List-Unsubscribe must
# be covered for one-click unsubscribe to count). From is signed once more than it occurs ("oversigned")
# so that nobody can add a second From: below the signature without breaking it.
SIGN_HEADERS: tuple[bytes, ...] = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)
OVERSIGN: tuple[bytes, ...] = (b"from",)
DNS_STRING_MAX = 255  # one character-string of a TXT record


class KeyState(StrEnum):
    """A key signs only once it is active: a second key for a domain waits until its record is published."""

    ACTIVE = "active"
    PENDING = "pending"  # generated while another key of its algorithm signs; `sendwell dkim activate` switches
    RETIRED = "retired"  # replaced by a newer key; keep its record published a few days for mail in flight


class Algorithm(StrEnum):
    RSA = "rsa"
    ED25519 = "ed25519"

    @property
    def tag(self) -> bytes:
        """The a= value of a signature with this key type."""
        return _A_TAG[self]


_A_TAG = {Algorithm.RSA: b"rsa-sha256", Algorithm.ED25519: b"ed25519-sha256"}


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One line of the key index: which domain and selector a private-key file signs for."""

    domain: str
    selector: str
    algorithm: Algorithm
    file: str  # relative to the key directory
    created: str  # ISO 8601, UTC
    state: KeyState = KeyState.ACTIVE

    @property
    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"


# --------------------------------------------------------------------------- key files and the index


def keys_dir(given: str | os.PathLike | None = None) -> Path:
    """The key directory: the one given (Settings.dkim.dir, which every caller passes), else ./dkim."""
    return Path(given) if given else Path(DEFAULT_DIR)


def load_index(directory: Path) -> list[KeyEntry]:
    path = directory / INDEX_NAME
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["keys"]
        return [
            KeyEntry(
                r["domain"],
                r["selector"],
                Algorithm(r["algorithm"]),
                r["file"],
                r["created"],
                KeyState(r.get("state", "active")),
            )
            for r in rows
        ]
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"{path}: not a sendwell DKIM key index ({err})") from None


def _save_index(directory: Path, entries: Iterable[KeyEntry]) -> None:
    path = directory / INDEX_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"keys": [asdict(e) for e in entries]}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _check_name(value: str, what: str) -> str:
    value = value.strip().rstrip(".").lower()
    labels = value.split(".")
    if not value or not all(_LABEL.match(label) or (what == "selector" and label == "_") for label in labels):
        raise UserError(f"{value!r}: not a valid DNS name (letters, digits, hyphens and dots)", field=what)
    if what == "domain" and len(labels) < 2:
        raise UserError(f"{value!r}: give the full domain, e.g. example.com", field="domain")
    return value


def generate_key(
    domain: str,
    selector: str,
    algorithm: Algorithm = Algorithm.RSA,
    *,
    bits: int = 2048,
    directory: str | os.PathLike | None = None,
) -> KeyEntry:
    """Create a key pair, write the private key (0600) and add it to the index; refuses to overwrite."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    domain, selector = _check_name(domain, "domain"), _check_name(selector, "selector")
    if algorithm is Algorithm.RSA and not 1024 <= bits <= 4096:
        raise UserError(
            f"{bits}: use 2048 (1024 is the minimum receivers accept, 4096 the useful maximum)", field="bits"
        )
    folder = keys_dir(directory)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    entries = load_index(folder)
    if any(e.domain == domain and e.selector == selector for e in entries):
        raise UserError(
            f"{domain}: a key with selector {selector!r} already exists in {folder}; "
            "choose another selector (rotate by publishing the new one first)"
        )
    if algorithm is Algorithm.RSA:
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    else:
        key = ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    name = f"{domain}.{selector}.{algorithm.value}.pem"
    # O_EXCL + mode 0600 at creation: the key is never readable by others, not even for an instant.
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    # The first key of its algorithm signs at once (unsigned mail has nothing to lose); a further one
    # would break every signature until its record is published, so it waits for `dkim activate`.
    signing = any(e.domain == domain and e.algorithm is algorithm and e.state is KeyState.ACTIVE for e in entries)
    entry = KeyEntry(
        domain,
        selector,
        algorithm,
        name,
        datetime.now(UTC).replace(microsecond=0).isoformat(),
        KeyState.PENDING if signing else KeyState.ACTIVE,
    )
    _save_index(folder, [*entries, entry])
    clear_cache()
    return entry


def activate_key(domain: str, selector: str, directory: str | os.PathLike | None = None) -> KeyEntry:
    """Sign with this key from now on; the key it replaces (same domain and algorithm) becomes retired."""
    from dataclasses import replace

    folder = keys_dir(directory)
    domain, entries = domain.lower().rstrip("."), load_index(folder)
    target = next((e for e in entries if e.domain == domain and e.selector == selector), None)
    if target is None:
        raise UserError(f"{domain}: no DKIM key with selector {selector!r} in {folder}", hint=Hint.LIST_DKIM_KEYS)
    updated = []
    for e in entries:
        if e is target:
            e = replace(e, state=KeyState.ACTIVE)
        elif e.domain == domain and e.algorithm is target.algorithm and e.state is KeyState.ACTIVE:
            e = replace(e, state=KeyState.RETIRED)
        updated.append(e)
    _save_index(folder, updated)
    clear_cache()
    return replace(target, state=KeyState.ACTIVE)


def load_private_key(directory: Path, entry: KeyEntry) -> Any:
    from cryptography.hazmat.primitives import serialization

    path = directory / entry.file
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise UserError(f"{path}: DKIM key file missing (listed in {directory / INDEX_NAME})") from None
    except ValueError as err:
        raise UserError(f"{path}: not a PEM private key ({err})") from None


def public_key_b64(private_key: Any) -> str:
    """The p= value: SubjectPublicKeyInfo DER for RSA (RFC 6376), the raw 32 bytes for Ed25519 (RFC 8463)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pub = private_key.public_key()
    if isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raw = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(raw).decode("ascii")


def txt_value(algorithm: Algorithm, public_b64: str) -> str:
    return f"v=DKIM1; k={algorithm.value}; p={public_b64}"


def split_txt(value: str, size: int = DNS_STRING_MAX) -> list[str]:
    """A TXT value as the character-strings of at most 255 bytes that DNS needs (resolvers join them)."""
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]


def zone_line(entry: KeyEntry, value: str) -> str:
    """The record as a zone-file line: the name, then the value split into quoted 255-byte strings."""
    strings = " ".join(f'"{s}"' for s in split_txt(value))
    return f"{entry.dns_name}. 3600 IN TXT ( {strings} )"


def dns_record(directory: Path, entry: KeyEntry) -> tuple[str, str]:
    """(name, value) of the TXT record to publish for a stored key."""
    return entry.dns_name, txt_value(entry.algorithm, public_key_b64(load_private_key(directory, entry)))


# --------------------------------------------------------------------------- choosing the key for a From domain


def domain_of(from_addr: str) -> str:
    from email.utils import parseaddr

    return parseaddr(from_addr)[1].rpartition("@")[2].strip().rstrip(".").lower()


def keys_for_domain(
    domain: str, entries: Sequence[KeyEntry], states: Iterable[KeyState] = (KeyState.ACTIVE,)
) -> list[KeyEntry]:
    """The newest active key of each algorithm for `domain`, else for its nearest parent domain.

    A parent's key (d=example.com on mail from news.example.com) still passes DMARC's default relaxed
    alignment, so it is used when the sub-domain has none of its own.
    """
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    wanted = frozenset(states)
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        found = [e for e in entries if e.domain == candidate and e.state in wanted]
        if found:
            newest: dict[Algorithm, KeyEntry] = {}
            for e in sorted(found, key=lambda e: e.created):
                newest[e.algorithm] = e
            return sorted(newest.values(), key=lambda e: e.algorithm is Algorithm.RSA)  # ed25519 first
    return []


def missing_key_warning(from_addr: str, directory: str | os.PathLike | None = None) -> str | None:
    """A sentence for the campaign send when its From domain has no DKIM key, else None."""
    domain = domain_of(from_addr)
    if not domain:
        return f"From address {from_addr!r} has no domain: messages cannot be DKIM-signed"
    folder = keys_dir(directory)
    if keys_for_domain(domain, load_index(folder)):
        return None
    return (
        f"no DKIM key for {domain} in {folder}: messages will go out unsigned and Gmail, Yahoo and "
        "Microsoft will reject or junk bulk mail; generate a key, publish its DNS record, then check the domain"
    )


# --------------------------------------------------------------------------- relaxed canonicalization

_WSP_RUN = re.compile(rb"[ \t]+")
_WSP_EOL = re.compile(rb"[ \t]+\r\n")
_FOLD = re.compile(rb"\r?\n")
_BARE_LF = re.compile(rb"(?<!\r)\n")
_HEADER_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+")  # printable, no colon (RFC 5322 ftext)


def relaxed_body(body: bytes) -> tuple[bytes, int]:
    """(canonical body, length to hash): the caller hashes body[:length] and then CRLF when length > 0.

    Returned that way so a 10 KB body is not copied once more just to cut its trailing empty lines.
    """
    # Most generated bodies need none of this; two-byte searches cost ~2 µs/KB, so b" \r" stands for b" \r\n".
    if b"\t" in body or b"  " in body or b" \r" in body:
        body = _WSP_RUN.sub(b" ", _WSP_EOL.sub(b"\r\n", body))
    end = len(body)
    while body.endswith(b"\r\n", 0, end):
        end -= 2
    return body, end


def relaxed_value(value: bytes) -> bytes:
    """A header value the relaxed way: unfolded, runs of blanks made one space, trimmed."""
    if b"\n" in value:
        value = _FOLD.sub(b"", value)
    if b"\t" in value or b"  " in value:
        value = _WSP_RUN.sub(b" ", value)
    return value.strip()


def split_message(message: bytes) -> tuple[list[tuple[bytes, bytes]], bytes, bytes]:
    """(headers as [(lower-case name, raw value)], the header block, the body) of a CRLF message."""
    cut = message.find(b"\r\n\r\n")
    if cut < 0:
        head, body = (message[:-2], b"") if message.endswith(b"\r\n") else (message, b"")
    else:
        head, body = message[:cut], message[cut + 4 :]
    headers: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b"\r\n" + line)
            continue
        name, colon, value = line.partition(b":")
        name = name.rstrip(b" \t")
        if not colon or not name or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"not a header line: {line[:60]!r}")
        headers.append((name.lower(), value))
    return headers, head, body


# --------------------------------------------------------------------------- the signer


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A loaded private key with the tags that never change between its signatures."""

    domain: str
    selector: str
    algorithm: Algorithm
    private_key: Any

    @classmethod
    def from_entry(cls, directory: Path, entry: KeyEntry) -> SigningKey:
        return cls(entry.domain, entry.selector, entry.algorithm, load_private_key(directory, entry))

    @property
    def prefix(self) -> bytes:
        return (
            b"v=1; a="
            + self.algorithm.tag
            + b"; c=relaxed/relaxed; d="
            + self.domain.encode("ascii")
            + b"; s="
            + self.selector.encode("ascii")
            + b";"
        )


class Signer:
    """Signs messages for one From domain with one key per algorithm (Ed25519 and/or RSA).

    `sign(message)` returns the message with one DKIM-Signature header per key in front. Messages are
    expected with CRLF line ends (SMTP's); bare LFs are turned into CRLF first.
    """

    def __init__(
        self,
        keys: Sequence[SigningKey],
        *,
        sign_headers: Sequence[bytes] = SIGN_HEADERS,
        oversign: Sequence[bytes] = OVERSIGN,
        clock: Any = time.time,
    ) -> None:
        if not keys:
            raise ValueError("a Signer needs at least one key")
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        self.keys = tuple(keys)
        self._prefixes = [k.prefix for k in self.keys]
        self._wanted = frozenset(sign_headers)
        self._order = {name: i for i, name in enumerate(sign_headers)}
        self._oversign = tuple(oversign)
        self._clock = clock
        self._t = (-1, b"")
        self._rsa_args = (padding.PKCS1v15(), hashes.SHA256())

    @classmethod
    def for_from_domain(cls, domain: str, directory: str | os.PathLike | None = None) -> Signer | None:
        """The signer for mail From `domain` (or an address), or None when no key covers it."""
        if "@" in domain:
            domain = domain_of(domain)
        folder = keys_dir(directory).resolve()
        try:  # the index's mtime is part of the cache key: `dkim activate` in another process is seen at once
            stamp = (folder / INDEX_NAME).stat().st_mtime_ns
        except FileNotFoundError:
            stamp = 0
        return _signer_for(domain.lower().rstrip("."), str(folder), stamp)

    @property
    def domain(self) -> str:
        return self.keys[0].domain

    def _t_tag(self) -> bytes:
        now = int(self._clock())
        if self._t[0] != now:
            self._t = (now, b" t=" + str(now).encode("ascii") + b";")
        return self._t[1]

    @lru_cache(maxsize=64)  # noqa: B019 - one entry per header layout; a campaign has one or two
    def _h_tag(self, present: tuple[bytes, ...]) -> tuple[bytes, tuple[bytes, ...]]:
        names = tuple(sorted(set(present) & self._wanted, key=self._order.__getitem__)) + self._oversign
        return b" h=" + b":".join(names) + b";", names

    def signature_headers(self, message: bytes) -> list[bytes]:
        """The DKIM-Signature header lines (with CRLF) for a CRLF message, one per key."""
        headers, _, body = split_message(message)
        canon, end = relaxed_body(body)
        hasher = hashlib.sha256(memoryview(canon)[:end])
        if end:
            hasher.update(b"\r\n")
        bh = b" bh=" + base64.b64encode(hasher.digest()) + b";"
        h_tag, names = self._h_tag(tuple(name for name, _ in headers))
        # Each name in h= takes the bottom-most instance not yet taken (RFC 6376 §5.4.2); absent ones add nothing.
        by_name: dict[bytes, list[bytes]] = {}
        for name, value in headers:
            if name in self._wanted:
                by_name.setdefault(name, []).append(value)
        signed = [name + b":" + relaxed_value(by_name[name].pop()) + b"\r\n" for name in names if by_name.get(name)]
        head_data = b"".join(signed)
        tail = self._t_tag() + h_tag + bh + b" b="
        out = []
        for key, prefix in zip(self.keys, self._prefixes, strict=True):
            # The signature header is hashed in its relaxed form, b= empty, without the final CRLF; it is
            # written with folds that relaxed canonicalization turns back into exactly these single spaces.
            data = head_data + b"dkim-signature:" + prefix + tail
            if key.algorithm is Algorithm.RSA:
                sig = key.private_key.sign(data, *self._rsa_args)
            else:
                sig = key.private_key.sign(hashlib.sha256(data).digest())  # RFC 8463: Ed25519 over the hash
            b = base64.b64encode(sig)
            folded_b = b"\r\n\t".join(b[i : i + 72] for i in range(0, len(b), 72))
            out.append(
                b"DKIM-Signature: " + prefix + b"\r\n\t" + tail[1:].replace(b"; ", b";\r\n\t") + folded_b + b"\r\n"
            )
        return out

    def sign(self, message: bytes) -> bytes:
        """The message with its DKIM-Signature header(s) prepended."""
        message = crlf(message)
        return b"".join(self.signature_headers(message)) + message


@lru_cache(maxsize=256)
def _signer_for(domain: str, directory: str, stamp: int) -> Signer | None:
    folder = Path(directory)
    entries = keys_for_domain(domain, load_index(folder))
    if not entries:
        return None
    return Signer([SigningKey.from_entry(folder, e) for e in entries])


def clear_cache() -> None:
    """Forget loaded keys (after `dkim generate`, or in tests that change the key directory)."""
    _signer_for.cache_clear()


# --------------------------------------------------------------------------- signing on more cores

_pool_signer: Signer | None = None


def _pool_init(domain: str, directory: str) -> None:
    global _pool_signer
    _pool_signer = Signer.for_from_domain(domain, directory)


def _pool_sign(messages: list[bytes]) -> list[bytes]:
    assert _pool_signer is not None, "worker started without a key"
    return [b"".join(_pool_signer.signature_headers(m)) for m in messages]


def crlf(message: bytes) -> bytes:
    """The message with bare LFs made CRLF (what SMTP carries and what is signed)."""
    # Two one-byte counts cost half of one count of b"\r\n"; a lone CR only sends us the slow way, harmlessly.
    return _BARE_LF.sub(b"\r\n", message) if message.count(b"\n") != message.count(b"\r") else message


class SigningPool:
    """A From domain's signer run in worker processes, for batches of messages.

    An RSA-2048 signature costs ~1 ms of CPU and `cryptography` holds the GIL meanwhile, so one process
    signs ~1,000 messages a second; 3,000 a second need about three cores. Each worker loads the key
    itself (it is never pickled). Messages go in chunks: one task per message costs the parent more CPU
    than signing with Ed25519 inline, a chunk of 32 costs it ~30 µs per message.
    """

    def __init__(
        self, domain: str, directory: str | os.PathLike | None = None, *, processes: int | None = None, chunk: int = 32
    ) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        folder = str(keys_dir(directory).resolve())
        if Signer.for_from_domain(domain, folder) is None:
            raise UserError(f"{domain}: no DKIM key in {folder}")
        self.chunk = max(1, chunk)
        # spawn, not fork: the sending process has threads (the database one) that fork would copy mid-work
        self._pool = ProcessPoolExecutor(
            processes or os.cpu_count() or 1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_pool_init,
            initargs=(domain, folder),
        )

    def _chunks(self, messages: Sequence[bytes]) -> list[list[bytes]]:
        return [list(messages[i : i + self.chunk]) for i in range(0, len(messages), self.chunk)]

    def sign_many(self, messages: Sequence[bytes]) -> list[bytes]:
        messages = [crlf(m) for m in messages]
        headers = [h for part in self._pool.map(_pool_sign, self._chunks(messages)) for h in part]
        return [h + m for h, m in zip(headers, messages, strict=True)]

    async def sign_batch(self, messages: Sequence[bytes]) -> list[bytes]:
        """`sign_many` for an asyncio loop: the loop keeps running while the workers sign."""
        import asyncio

        loop = asyncio.get_running_loop()
        messages = [crlf(m) for m in messages]
        parts = await asyncio.gather(*(loop.run_in_executor(self._pool, _pool_sign, c) for c in self._chunks(messages)))
        return [h + m for h, m in zip((h for part in parts for h in part), messages, strict=True)]

    def close(self) -> None:
        self._pool.shutdown()

    def __enter__(self) -> SigningPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
