"""Signed tokens naming one campaign recipient: the VERP bounce address and the unsubscribe link.

A token is `<campaign>.<recipient>.<signature>` in lower-case letters and digits only, because
some mail systems lower-case or mangle local parts; the signature is a truncated HMAC-SHA256 so a
forged bounce or unsubscribe request cannot name someone else's row.
"""

from __future__ import annotations

import hmac
import re
from functools import lru_cache
from typing import Any

SIG_CHARS = 20  # hex digits of the HMAC kept: 80 bits
_TOKEN = re.compile(r"^(\d+)\.(\d+)\.([0-9a-f]{" + str(SIG_CHARS) + r"})$")
BOUNCE_PREFIX = "bounces+"
UNSUBSCRIBE_PREFIX = "unsubscribe+"


@lru_cache(maxsize=8)
def _keyed(secret: str) -> Any:
    """HMAC-SHA256 with the secret's key blocks already hashed in: a copy per token skips that work. The C
    object inside hmac.HMAC when there is one (CPython's, OpenSSL or HACL*): its copy, update and hexdigest
    skip the wrapper's Python calls; the wrapper itself otherwise, which has the same three methods."""
    mac = hmac.new(secret.encode(), digestmod="sha256")
    return getattr(mac, "_hmac", None) or mac


def _sig(secret: str, purpose: str, campaign_id: int, recipient_id: int) -> str:
    # ~1 µs instead of hmac.digest's ~1.6, paid twice per message; the same digest (tested).
    mac = _keyed(secret).copy()
    mac.update(f"{purpose}:{campaign_id}:{recipient_id}".encode())
    return mac.hexdigest()[:SIG_CHARS]


def encode(secret: str, campaign_id: int, recipient_id: int, purpose: str = "bounce") -> str:
    return f"{campaign_id}.{recipient_id}.{_sig(secret, purpose, campaign_id, recipient_id)}"


def decode(secret: str, token: str, purpose: str = "bounce") -> tuple[int, int] | None:
    """(campaign id, recipient id) when the token is genuine, else None."""
    m = _TOKEN.match(token.strip().lower())
    if not m:
        return None
    cid, rid = int(m.group(1)), int(m.group(2))
    if not hmac.compare_digest(m.group(3), _sig(secret, purpose, cid, rid)):
        return None
    return cid, rid


def bounce_address(secret: str, campaign_id: int, recipient_id: int, domain: str) -> str:
    """The envelope sender (Return-Path) for one message: bounces+<token>@<bounce domain>."""
    return f"{BOUNCE_PREFIX}{encode(secret, campaign_id, recipient_id)}@{domain}"


def decode_address(secret: str, address: str) -> tuple[int, int] | None:
    """Find the recipient a bounce was addressed to (bounces+<token>@…), or None."""
    local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
    if not local.startswith(BOUNCE_PREFIX):
        return None
    return decode(secret, local[len(BOUNCE_PREFIX) :])


def unsubscribe_token(secret: str, campaign_id: int, recipient_id: int) -> str:
    return encode(secret, campaign_id, recipient_id, purpose="unsubscribe")


def decode_unsubscribe(secret: str, token: str) -> tuple[int, int] | None:
    return decode(secret, token, purpose="unsubscribe")


# Names that cannot receive mail from the internet: a bounce domain among them is not set up yet (the default
# is bounces.localhost.localdomain). `.test` and `.example` stay usable: test set-ups stand them in for real ones.
_UNREACHABLE_SUFFIXES = (".localdomain", ".localhost", ".local", ".invalid", ".internal")
UNSUBSCRIBE_SUBJECT = "unsubscribe "  # + token: the mailto: Subject when no bounce domain receives mail


def reachable_domain(domain: str) -> bool:
    """Whether mail to `domain` can arrive at all: not localhost, a reserved name, or a bare label."""
    d = domain.strip().lower().rstrip(".")
    return "." in d and not d.endswith(_UNREACHABLE_SUFFIXES) and d not in ("localhost", "localhost.localdomain")


def unsubscribe_in_subject(secret: str, subject: str) -> tuple[int, int] | None:
    """The recipient an unsubscribe request names in its Subject (`unsubscribe <token>`, a reply's `Re:` too)."""
    words = subject.strip().split()
    while words and words[0].lower().rstrip(":") in ("re", "aw", "sv", "fw", "fwd"):
        words = words[1:]
    if len(words) != 2 or words[0].lower() != UNSUBSCRIBE_SUBJECT.strip():
        return None
    return decode_unsubscribe(secret, words[1])
