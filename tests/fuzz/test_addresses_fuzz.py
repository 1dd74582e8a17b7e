"""Address normalization on hostile input: only AddressError, and the key is a fixed point.

The key is what the black list, the contacts table and the ledger compare on; if parsing a key
gave another key, an address could be blacklisted under one spelling and mailed under the other.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendwell.addresses import AddressError, normalize, parse_address

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that stress normalization: case pairs that change length or composition (İ, ß, K
# Kelvin, Å Angstrom), combining marks, full-width forms, dots and hyphens, IDNA-special dots.
TRICKY = list("aAzZ09.-_+=!#$%&'*/?^`{|}~") + [
    "İ",
    "ı",
    "ß",
    "ẞ",
    "\u212a",
    "\u212b",
    "Å",
    "A\u030a",
    "é",
    "e\u0301",
    "ǅ",
    "ﬁ",
    "Ａ",
    "ｚ",
    "\u0345",
    "ς",
    "Σ",
    "\u3002",
    "\uff0e",
    "ä",
    "ö",
    "ü",
    "ł",
    "日本",
    "xn--",
    "\u200d",
    "\u00ad",
    "ſ",
]
LOCAL = st.lists(st.sampled_from(TRICKY), min_size=1, max_size=12).map("".join)
LABEL = st.lists(
    st.sampled_from(TRICKY[:12] + ["ä", "ö", "ü", "é", "日本", "xn--", "ß", "İ", "\u212a", "-"]),
    min_size=1,
    max_size=10,
).map("".join)
ADDRESS = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    LOCAL,
    st.lists(LABEL, min_size=1, max_size=3).map(".".join),
    st.sampled_from(["org", "COM", "de", "xn--p1ai", "рф", "ORG", "Org"]),
)


def _accepted(text: str):
    try:
        return parse_address(text)
    except AddressError as err:
        assert str(err), "an AddressError says why"
        return None


@FUZZ
@given(ADDRESS)
def test_key_is_a_fixed_point_and_only_address_error_is_raised(text):
    a = _accepted(text)
    if a is None:
        return
    again = parse_address(a.key)
    assert again.key == a.key
    assert again.domain == a.domain
    assert a.key.endswith("@" + a.domain) and a.domain.isascii() and a.domain == a.domain.lower()
    assert normalize("  " + text + "\t") == a.key


@FUZZ
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300))
def test_any_text_raises_only_address_error(text):
    a = _accepted(text)
    if a is not None:
        assert parse_address(a.key).key == a.key


@FUZZ
@given(st.binary(max_size=120))
def test_decoded_bytes_raise_only_address_error(raw):
    for encoding in ("utf-8", "latin-1"):
        a = _accepted(raw.decode(encoding, "replace"))
        if a is not None:
            assert parse_address(a.key).key == a.key


@FUZZ
@given(ADDRESS)
def test_spellings_that_differ_only_in_case_share_one_key(text):
    a = _accepted(text)
    b = _accepted(text.upper())
    if a is not None and b is not None and text.isascii():
        assert a.key == b.key
