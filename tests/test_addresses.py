"""The one address policy and normalization (sendwell.addresses), table-driven plus a property test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sendwell.addresses import AddressError, iter_pasted, normalize, parse_address, tokens_of_line

ACCEPT = [
    ("Ann.Lee@Example.COM", "ann.lee@example.com", "example.com"),
    ("user+tag/dept=x@iana.org", "user+tag/dept=x@iana.org", "iana.org"),
    ("müller@möller.de", "müller@xn--mller-jua.de", "xn--mller-jua.de"),
    ("юзер@екзампл.ком", "юзер@xn--80ajglhfv.xn--j1aef", "xn--80ajglhfv.xn--j1aef"),
    ("😀@gmail.com", "😀@gmail.com", "gmail.com"),
    ("somename@ｇｍａｉｌ.com", "somename@gmail.com", "gmail.com"),  # full-width maps to ASCII (UTS-46)
    ("x@my-domain.thisisminekthx", "x@my-domain.thisisminekthx", "my-domain.thisisminekthx"),  # TLD not judged
    ("x@mail.example.org", "x@mail.example.org", "mail.example.org"),  # example.* stands in for real domains
    ("x@a.xn--p1ai", "x@a.xn--p1ai", "a.xn--p1ai"),
    ("a" * 64 + "@example.com", "a" * 64 + "@example.com", "example.com"),
]

REJECT = [
    ("", "empty"),
    ("ann.example.com", "no '@'"),
    ("@example.com", "before '@'"),
    ("ann@", "after '@'"),
    (" ann@example.com", "white space"),
    ("ann@example.com ", "white space"),
    ("ann\t@example.com", "control"),
    ('"ann"@example.com', "'\"'"),
    ("ann(comment)@example.com", "'('"),
    ("Ann <ann@example.com>", "white space"),
    ("<ann@example.com>", "'<'"),
    ("ann@[192.0.2.1]", "'['"),
    ("ann@@example.com", "more than one '@'"),
    ("ann..lee@example.com", "period"),
    (".ann@example.com", "period"),
    ("ann.@example.com", "period"),
    ("ann@localhost", "period"),
    ("ann@io", "period"),
    ("ann@192.0.2.1", "top-level"),
    ("ann@a.co-uk", "top-level"),
    ("ann@a.x123", "top-level"),
    ("z@co.c", "top-level"),
    ("ann@xn--zz.com", "IDNA"),
    ("ann@example.test", "special-use"),
    ("ann@router.local", "special-use"),
    ("ann@hidden.onion", "special-use"),
    ("ann@1.in-addr.arpa", "special-use"),
    ("ann@example.invalid", "special-use"),
    ("ann\u200b@example.com", "unsafe"),  # zero-width space
    ("ann\u202e@example.com", "unsafe"),  # bidi override
    ("\ue000@example.com", "unsafe"),  # private use
    ("ann@exam\u00a0ple.com", "unsafe"),  # no-break space
    ("\u0300ann@example.com", "combining"),
    ("ann.\u0300b@example.com", "combining"),  # at the start of the second atom
    ("<\u0338me@example.com", "'<'"),  # NFC would absorb the '<' into U+226E
    ("a" * 65 + "@example.com", "64"),
    ("é" * 33 + "@example.com", "64"),  # 33 characters but 66 octets
    ("ann@" + "a" * 64 + ".com", "too many"),
    ("ann@" + ".".join(["abcdefghi"] * 25) + ".com", "long"),
    ("a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".com", "254"),
    ("ann@-example.com", "hyphen"),
    ("ann@exa_mple.com", "invalid characters"),
]


@pytest.mark.parametrize(("text", "key", "domain"), ACCEPT)
def test_accepted_and_normalized(text, key, domain):
    address = parse_address(text)
    assert (address.key, address.domain, address.display) == (key, domain, text)


@pytest.mark.parametrize(("text", "why"), REJECT, ids=[ascii(t)[:40] for t, _ in REJECT])
def test_rejected_with_a_reason(text, why):
    with pytest.raises(AddressError) as err:
        parse_address(text)
    assert why.lower() in str(err.value).lower()


def test_the_key_of_an_accepted_address_is_itself_accepted():
    text = "İ" * 30 + "@example.com"  # lower-casing İ takes 3 octets instead of 2
    assert parse_address(parse_address(text).key).key == parse_address(text).key


def test_a_domain_judged_once_is_judged_the_same_again():
    for _ in range(2):
        with pytest.raises(AddressError, match="special-use"):
            parse_address("x@a.test")
        assert parse_address("x@Example.com").domain == "example.com"


def test_normalize_trims_but_parse_judges_as_given():
    assert normalize("  Ann@Example.com ") == "ann@example.com"
    with pytest.raises(AddressError):
        parse_address("  Ann@Example.com ")


def test_pasted_lines():
    assert tokens_of_line('"Lee, Ann" <ann@example.com>, bob@example.org; mailto:cy@example.net') == [
        "ann@example.com",
        "bob@example.org",
        "cy@example.net",
    ]
    assert tokens_of_line("no address here") == ["no address here"]
    assert list(iter_pasted(["a@example.com b@example.com", "", "c@example.com"])) == [
        (1, "a@example.com"),
        (1, "b@example.com"),
        (3, "c@example.com"),
    ]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_parse_address_never_raises_anything_but_address_error(text):
    try:
        address = parse_address(text)
    except AddressError:
        return
    assert address.key == address.key.lower() and "@" in address.key and address.domain.isascii()


ADDRESS_LIKE = st.builds(
    lambda a, b, c: f"{a}@{b}.{c}",
    st.text(min_size=1, max_size=30),
    st.text(min_size=1, max_size=30),
    st.text(min_size=1, max_size=8),
)


@settings(max_examples=400, deadline=None)
@given(ADDRESS_LIKE)
def test_address_like_text_never_raises_anything_but_address_error(text):
    try:
        address = parse_address(text)
    except AddressError:
        return
    # Whatever is accepted is stable: its normalized form parses to itself.
    assert parse_address(address.key).key == address.key
