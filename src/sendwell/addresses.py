"""Parse, normalize and split addresses: the one syntax policy and normalization used everywhere (pure).

The policy (docs/verify.md) is "may a careful bulk sender put this string, as given, in RCPT TO on the
public internet?": RFC 5321 dot-atom local parts with RFC 6531 UTF-8, at a host name of two or more
labels. email-validator judges the grammar (we write none of our own); a few stricter rules are checked
on the raw input first (no white space, specials, quoting, literals, special-use names, octet limits).
email-validator costs ~20-60 µs a call, so the domain half is judged once per distinct domain and the
local part goes through email-validator's own local-part check, whose ASCII dot-atom path is one regex.
The common case (an ASCII dot-atom at a domain already judged) is settled by one precompiled regex built
from that same email-validator pattern, and yields exactly what the full path would.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from enum import StrEnum

from email_validator import EmailNotValidError
from email_validator.rfc_constants import DOT_ATOM_TEXT as _ASCII_DOT_ATOM
from email_validator.syntax import validate_email_domain_name, validate_email_local_part

from sendwell.model import Address

MAX_LOCAL_OCTETS = 64  # RFC 5321 4.5.3.1.1
MAX_ADDRESS_OCTETS = 254  # RFC 5321 4.5.3.1.3 (path minus the angle brackets), RFC 3696 erratum 1690

# RFC 6761/6762/7686 special-use names never receive public mail (`example.*` is a fine stand-in).
SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})

# Rejected in the raw input wherever they stand, even where Unicode normalization would absorb them
# (`<` + U+0338 composes to `≮`): white space, ASCII controls, and the RFC 5322 specials that only
# quoting, comments, literals or display names use.
_RAW_FORBIDDEN = re.compile(r'[\x00-\x20\x7f()<>\[\]\\,;:"]')
# Unicode categories that are never part of an address: controls, format (bidi, zero-width),
# surrogates, private use, unassigned, and every kind of space or line separator.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
_TLD_OK = re.compile(r"[a-z]{2,63}\Z")

# The fast path: email-validator's ASCII dot-atom (its own pattern, not a copy) of at most 64 octets, one '@',
# and a domain of printable ASCII without the characters _RAW_FORBIDDEN refuses. Whatever it matches, the
# full path would take the same branches (no raw-rule error, one '@', the dot-atom shortcut), so both give
# the same Address once the domain has been judged; anything else goes the full way.
assert _ASCII_DOT_ATOM.pattern.endswith(r"\Z"), "email-validator's dot-atom pattern changed shape"
FAST_ADDRESS = re.compile(r"(?=[^@]{1,64}@)(" + _ASCII_DOT_ATOM.pattern[:-2] + r")@([!#-\'*+\-./0-9=?A-Z^-~]+)\Z")


class AddressError(ValueError):
    """The text is not an address we may send to; str(err) says why, for a person."""


def _reason(err: EmailNotValidError) -> str:
    text = str(err).strip().rstrip(".")
    return text[0].lower() + text[1:] if text else "invalid address"


def _check_raw(text: str) -> None:
    """The rules judged on the string as given, before any normalization."""
    bad = _RAW_FORBIDDEN.search(text)
    if bad:
        char = bad.group()
        what = "white space" if char == " " else "a control character" if char < " " or char == "\x7f" else f"'{char}'"
        raise AddressError(f"{what} is not allowed in an address (no quoting, comments, literals or names)")
    if not text.isascii():
        for char in text:
            if char >= "\x80" and unicodedata.category(char) in _UNSAFE_CATEGORIES:
                raise AddressError(f"unsafe character U+{ord(char):04X} in address")


# --- domain: judged once per distinct spelling -----------------------------------------------------

_DOMAIN_CACHE: dict[str, str | AddressError] = {}
_DOMAIN_CACHE_MAX = 500_000


def _judge_domain(raw_domain: str) -> str:
    if not raw_domain:
        raise AddressError("missing domain after '@'")
    try:
        info = validate_email_domain_name(raw_domain, test_environment=False, globally_deliverable=True)
    except EmailNotValidError as err:
        raise AddressError(_reason(err)) from None
    ascii_domain = info["ascii_domain"].lower()
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        raise AddressError("the domain needs a dot (e.g. example.com)")
    tld = labels[-1]
    if tld in SPECIAL_USE_TLDS:
        raise AddressError(f"'.{tld}' is a special-use name that receives no public mail")
    if tld.startswith("xn--"):
        _check_a_label(tld)
    elif not _TLD_OK.match(tld):
        raise AddressError(f"'.{tld}' is not a valid top-level domain (letters only, 2 or more)")
    return ascii_domain


def _check_a_label(label: str) -> None:
    import idna  # only for the rare punycode TLD

    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError) as err:
        raise AddressError(f"'.{label}' is not a valid internationalized top-level domain ({err})") from None


def known_domain(raw_domain: str) -> str | None:
    """The ASCII form of a domain already judged valid, else None (not judged yet, or refused): no work done."""
    cached = _DOMAIN_CACHE.get(raw_domain)
    return cached if cached.__class__ is str else None


def ascii_domain(raw_domain: str) -> str:
    """The lower-case ASCII (IDNA) form of a domain, judged by the policy; raises AddressError."""
    cached = _DOMAIN_CACHE.get(raw_domain)
    if cached is None:
        try:
            cached = _judge_domain(raw_domain)
        except AddressError as err:
            cached = err
        if len(_DOMAIN_CACHE) >= _DOMAIN_CACHE_MAX:
            _DOMAIN_CACHE.clear()  # a run over millions of distinct domains: start over, stay bounded
        _DOMAIN_CACHE[raw_domain] = cached
    if isinstance(cached, AddressError):
        raise AddressError(str(cached))
    return cached


# --- local part ------------------------------------------------------------------------------------


def _local_key(local: str) -> str:
    """The comparison form of a local part (NFC, lower-cased), or raise AddressError."""
    if _ASCII_DOT_ATOM.match(local):  # the common case; email-validator would take the same path
        if len(local) > MAX_LOCAL_OCTETS:
            raise AddressError(f"the part before '@' is longer than {MAX_LOCAL_OCTETS} octets")
        return local.lower()
    try:
        validate_email_local_part(local, allow_smtputf8=True, quoted_local_part=False, strict=True)
        nfc = unicodedata.normalize("NFC", local)
        if nfc != local:
            validate_email_local_part(nfc, allow_smtputf8=True, quoted_local_part=False, strict=True)
    except EmailNotValidError as err:
        raise AddressError(_reason(err)) from None
    for form in (local, nfc):
        if len(form.encode()) > MAX_LOCAL_OCTETS:
            raise AddressError(f"the part before '@' is longer than {MAX_LOCAL_OCTETS} octets (UTF-8)")
        for atom in form.split("."):
            # A combining mark opening an atom would combine with the dot before it.
            if unicodedata.category(atom[0])[0] == "M":
                raise AddressError(f"an atom cannot start with the combining mark U+{ord(atom[0]):04X}")
    key = nfc.lower()
    # Lower-casing can lengthen a few letters (İ -> i + U+0307); the key must stay a valid local part.
    return key if len(key.encode()) <= MAX_LOCAL_OCTETS else nfc


def parse_address(text: str) -> Address:
    """Return the normalized Address for `text` (judged as given: no trimming), or raise AddressError."""
    fast = FAST_ADDRESS.match(text)
    if fast is not None:
        local, raw_domain = fast.groups()
        domain = _DOMAIN_CACHE.get(raw_domain)
        if domain.__class__ is str:
            key = f"{local.lower()}@{domain}"
            if len(key) <= MAX_ADDRESS_OCTETS:
                return Address(key, text, domain)
    return full_parse(text)


def full_parse(text: str) -> Address:
    """parse_address without its fast path: every rule in order (the reference the fast path is tested against)."""
    if not text:
        raise AddressError("empty address")
    ascii_text = text.isascii()
    if not ascii_text or _RAW_FORBIDDEN.search(text):
        _check_raw(text)
    local, at, raw_domain = text.partition("@")
    if not at:
        raise AddressError("no '@' in address")
    if "@" in raw_domain:
        raise AddressError("more than one '@' (quoted local parts are not accepted)")
    if not local:
        raise AddressError("missing local part before '@'")
    domain = _DOMAIN_CACHE.get(raw_domain)
    if domain is None or domain.__class__ is not str:
        domain = ascii_domain(raw_domain)
    if ascii_text and len(local) <= MAX_LOCAL_OCTETS and _ASCII_DOT_ATOM.match(local):
        key = f"{local.lower()}@{domain}"  # the common case, settled by email-validator's own dot-atom regex
    else:
        key = f"{_local_key(local)}@{domain}"
    # As given, NFC-normalized, and with the A-label domain that a server without SMTPUTF8 would need.
    if len(key) > MAX_ADDRESS_OCTETS or not ascii_text:
        for form in (text, unicodedata.normalize("NFC", text), key):
            if len(form.encode()) > MAX_ADDRESS_OCTETS:
                raise AddressError(f"address longer than {MAX_ADDRESS_OCTETS} octets")
    return Address(key=key, display=text, domain=domain)


def is_valid(text: str) -> bool:
    try:
        parse_address(text)
    except AddressError:
        return False
    return True


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


# --- a name with its address in one cell ----------------------------------------------------------

_NAMED = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^<>"]*?))\s*<([^<>]*)>\s*\Z')


def split_named(text: str) -> tuple[str, str] | None:
    """`Gina Lopez <gina@example.es>` or `"Lopez, Gina" <gina@example.es>` as (name, address as written);
    None for any other text (a bare address goes through parse_address as it is)."""
    match = _NAMED.match(text)
    if match is None:
        return None
    quoted, plain, address = match.groups()
    name = quoted.replace('\\"', '"').replace("\\\\", "\\") if quoted is not None else plain
    return name.strip(), address.strip()


class NameOrder(StrEnum):
    """How a full name is written: which word is the given name `{{ first_name }}` greets by."""

    GIVEN_FIRST = "given-first"  # Gina Maria Lopez: the last word is the family name
    FAMILY_FIRST = "family-first"  # Nguyễn Văn An (Vietnamese, also Chinese, Japanese, Korean, Hungarian)


def name_parts(name: str, order: NameOrder = NameOrder.GIVEN_FIRST) -> tuple[str, str]:
    """(first name, last name) of a display name. `Lopez, Gina` is last-comma-first in either order. Given
    first, the last word is the last name (`Gina Maria Lopez` -> `Gina Maria`, `Lopez`); family first, the last
    word is the given name and the words before it the last name, the middle name with the family name as
    Vietnamese forms write "họ và tên đệm" apart from "tên" (`Nguyễn Văn An` -> `An`, `Nguyễn Văn`): a greeting
    says "Chào An". A single word is a first name."""
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    words = name.split()
    if len(words) < 2:
        return (words[0] if words else ""), ""
    if order is NameOrder.FAMILY_FIRST:
        return words[-1], " ".join(words[:-1])
    return " ".join(words[:-1]), words[-1]
