"""Opaque signed tokens for the pixel and the click links: they name a recipient (and a link) without showing either.

A token is base64url(tag ‖ payload ⊕ mask): the payload packs the campaign id, the recipient id and,
for a click, the link index as varints; the tag is HMAC-SHA256 over a purpose byte and the payload,
cut to 96 bits; the mask is HMAC-SHA256 of the tag under a second key (a synthetic-IV construction).
So a token cannot be forged (the tag), an open token cannot serve as a click token (the purpose
byte), and ids cannot be read or enumerated (the mask hides the sequential numbers and the list size).
Keys are derived from the installation secret apart from the VERP and unsubscribe signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from functools import lru_cache

TAG_BYTES = 12  # 96 bits: an online guesser needs ~2^95 requests
_MAX_ID = (1 << 63) - 1  # BIGINT
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{18,64}$")  # cheap refusal before any decoding
_OPEN, _CLICK = b"o", b"c"


class _Hmac:
    """HMAC-SHA256 (RFC 2104) with both padded keys hashed once: a token costs two `hashlib` copies,
    a third of `hmac.new(...).copy()` (a message with 20 links makes 40 of these)."""

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes) -> None:
        block = key.ljust(64, b"\0")  # keys here are 32-byte digests, shorter than the block
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digest(self, message: bytes) -> bytes:
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@lru_cache(maxsize=8)
def _keys(secret: str) -> tuple[_Hmac, _Hmac]:
    root = secret.encode()
    return (
        _Hmac(hmac.digest(root, b"sendwell tracking tag v1", "sha256")),
        _Hmac(hmac.digest(root, b"sendwell tracking mask v1", "sha256")),
    )


def _varints(numbers: tuple[int, ...]) -> bytes:
    out = bytearray()
    for n in numbers:
        if not 0 <= n <= _MAX_ID:
            raise ValueError(f"tracking token: id {n} out of range")
        while n >= 0x80:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
    return bytes(out)


def _unvarints(data: bytes) -> tuple[int, ...] | None:
    numbers, n, shift = [], 0, 0
    for b in data:
        n |= (b & 0x7F) << shift
        shift += 7
        if shift > 63:
            return None
        if not b & 0x80:
            numbers.append(n)
            n, shift = 0, 0
    return tuple(numbers) if shift == 0 else None


def _mask(secret: str, tag: bytes, payload: bytes) -> bytes:
    stream = _keys(secret)[1].digest(tag)[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(payload), "big")


def _tag(secret: str, purpose: bytes, payload: bytes) -> bytes:
    return _keys(secret)[0].digest(purpose + payload)[:TAG_BYTES]


def _seal(secret: str, purpose: bytes, payload: bytes) -> str:
    tag = _tag(secret, purpose, payload)
    return base64.urlsafe_b64encode(tag + _mask(secret, tag, payload)).rstrip(b"=").decode("ascii")


def _encode(secret: str, purpose: bytes, numbers: tuple[int, ...]) -> str:
    return _seal(secret, purpose, _varints(numbers))


def _decode(secret: str, purpose: bytes, token: str, count: int) -> tuple[int, ...] | None:
    if not isinstance(token, str) or not _SHAPE.match(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    # Refuse other spellings of the same bytes (stray low bits in the last character): one token, one string.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token or len(raw) <= TAG_BYTES:
        return None
    tag, masked = raw[:TAG_BYTES], raw[TAG_BYTES:]
    if len(masked) > 32:
        return None
    payload = _mask(secret, tag, masked)
    if not hmac.compare_digest(tag, _tag(secret, purpose, payload)):
        return None
    numbers = _unvarints(payload)
    return numbers if numbers is not None and len(numbers) == count else None


def open_token(secret: str, campaign_id: int, recipient_id: int) -> str:
    return _encode(secret, _OPEN, (campaign_id, recipient_id))


def click_token(secret: str, campaign_id: int, recipient_id: int, link: int) -> str:
    return _encode(secret, _CLICK, (campaign_id, recipient_id, link))


class RecipientTokens:
    """One recipient's tokens, the shared part packed once (a message asks for one per link)."""

    __slots__ = ("secret", "prefix")

    def __init__(self, secret: str, campaign_id: int, recipient_id: int) -> None:
        self.secret, self.prefix = secret, _varints((campaign_id, recipient_id))

    def open(self) -> str:
        return _seal(self.secret, _OPEN, self.prefix)

    def click(self, link: int) -> str:
        return _seal(self.secret, _CLICK, self.prefix + (bytes((link,)) if 0 <= link < 0x80 else _varints((link,))))


def decode_open(secret: str, token: str) -> tuple[int, int] | None:
    """(campaign id, recipient id) for a genuine pixel token, else None."""
    got = _decode(secret, _OPEN, token, 2)
    return (got[0], got[1]) if got else None


def decode_click(secret: str, token: str) -> tuple[int, int, int] | None:
    """(campaign id, recipient id, link index) for a genuine click token, else None."""
    got = _decode(secret, _CLICK, token, 3)
    return (got[0], got[1], got[2]) if got else None
