"""Parse, normalize and split addresses: one normalization used everywhere (pure, no I/O).

email-validator judges the syntax (RFC 5321 + RFC 6531, no DNS). It costs ~20 µs a call, so the
domain half is validated once per distinct domain and plain ASCII local parts take a regex fast path;
anything unusual goes through email-validator whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from sendwell.model import Address

# RFC 5321 dot-atom over ASCII atext: the common case, checked without email-validator.
_ASCII_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
# RFC 6761/6762/7686 special-use names never receive public mail.
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_TLD_OK = re.compile(r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\Z")


class AddressError(ValueError):
    """The text is not an address we may send to; str(err) says why, for a person."""


@lru_cache(maxsize=200_000)
def _domain(raw_domain: str) -> str:
    """Validate a domain once and return its lower-case ASCII (IDNA) form, or raise AddressError."""
    if not raw_domain:
        raise AddressError("missing domain after '@'")
    if raw_domain.startswith("["):
        raise AddressError("IP address literals are not accepted")
    try:
        info = validate_email("a@" + raw_domain, check_deliverability=False, allow_smtputf8=True,
                              allow_quoted_local=False, allow_domain_literal=False,
                              allow_display_name=False, globally_deliverable=True)
    except EmailNotValidError as err:
        raise AddressError(_reason(err)) from None
    ascii_domain = (info.ascii_domain or info.domain).lower()
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        raise AddressError("the domain needs a dot (e.g. example.com)")
    tld = labels[-1]
    if tld in _SPECIAL_USE_TLDS:
        raise AddressError(f"'.{tld}' is a special-use name that receives no public mail")
    if not _TLD_OK.match(tld):
        raise AddressError(f"'.{tld}' is not a valid top-level domain")
    return ascii_domain


def _reason(err: EmailNotValidError) -> str:
    text = str(err).strip()
    return text[0].lower() + text[1:] if text else "invalid address"


def parse_address(text: str) -> Address:
    """Return the normalized Address for `text` (judged as given: no trimming), or raise AddressError."""
    if not text:
        raise AddressError("empty address")
    local, at, raw_domain = text.rpartition("@")
    if not at:
        raise AddressError("no '@' in address")
    if not local:
        raise AddressError("missing local part before '@'")
    domain = _domain(raw_domain)
    if local.isascii() and _ASCII_LOCAL.match(local) and len(local) <= 64:
        key_local = local.lower()
    else:
        try:
            info = validate_email(text, check_deliverability=False, allow_smtputf8=True,
                                  allow_quoted_local=False, allow_domain_literal=False,
                                  allow_display_name=False)
        except EmailNotValidError as err:
            raise AddressError(_reason(err)) from None
        key_local = info.local_part.lower()
    key = f"{key_local}@{domain}"
    if len(key.encode()) > 254 or len(text.encode()) > 254:
        raise AddressError("address longer than 254 octets")
    return Address(key=key, display=text, domain=domain)


def normalize(text: str) -> str:
    """The comparison key of an address (raises AddressError)."""
    return parse_address(text.strip()).key


# --- pasted lists ---------------------------------------------------------------------------------

_ANGLE = re.compile(r"<([^<>]*)>")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_SEPARATORS = re.compile(r"[,;\s]+")


def tokens_of_line(line: str) -> list[str]:
    """Address candidates in one pasted line.

    Handles `Name <addr>`, `"Last, First" <addr>`, and lists separated by commas, semicolons,
    spaces or tabs. Words without '@' beside an address (a name column pasted from a spreadsheet)
    are ignored; a non-empty line with no candidate at all yields its whole text, so the caller
    can report it.
    """
    line = line.strip().lstrip("\ufeff")
    if not line:
        return []
    found: list[str] = []
    if "<" in line:
        found.extend(m.strip() for m in _ANGLE.findall(line) if m.strip())
        line = _ANGLE.sub(" ", line)
    line = _QUOTED.sub(" ", line)
    for word in _SEPARATORS.split(line):
        word = word.strip().strip("'\"()[]")
        if word.lower().startswith("mailto:"):
            word = word[7:]
        if "@" in word:
            found.append(word)
    if not found:
        return [line.strip()]
    return found


def iter_pasted(lines: Iterable[str], first_line: int = 1) -> Iterator[tuple[int, str]]:
    """Yield (line number, candidate) for every candidate of every line."""
    for number, line in enumerate(lines, start=first_line):
        for token in tokens_of_line(line):
            yield number, token
