"""Tracking tokens: genuine ones decode, forged, altered, re-purposed or guessed ones never do."""

from __future__ import annotations

import hmac
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from sendwell.tracking import tokens

SECRET = "s3cret"
URLSAFE = string.ascii_letters + string.digits + "-_"


def test_genuine_tokens_decode_to_their_ids():
    assert tokens.decode_open(SECRET, tokens.open_token(SECRET, 7, 123456)) == (7, 123456)
    assert tokens.decode_click(SECRET, tokens.click_token(SECRET, 7, 123456, 3)) == (7, 123456, 3)
    big = 2**63 - 1
    assert tokens.decode_click(SECRET, tokens.click_token(SECRET, big, big, 0)) == (big, big, 0)


def test_tokens_are_url_safe_and_short():
    for t in (tokens.open_token(SECRET, 1, 1), tokens.click_token(SECRET, 10**9, 10**12, 40)):
        assert set(t) <= set(URLSAFE) and len(t) <= 40


def test_every_single_character_change_is_refused():
    token = tokens.click_token(SECRET, 12, 345, 2)
    for i in range(len(token)):
        for c in URLSAFE:
            if c != token[i]:
                forged = token[:i] + c + token[i + 1 :]
                assert tokens.decode_click(SECRET, forged) is None, forged


def test_another_secret_or_purpose_is_refused():
    click = tokens.click_token(SECRET, 1, 2, 0)
    opened = tokens.open_token(SECRET, 1, 2)
    assert tokens.decode_click("other", click) is None
    assert tokens.decode_open(SECRET, click) is None  # a click token is no pixel token
    assert tokens.decode_click(SECRET, opened) is None


def test_ids_cannot_be_read_or_walked():
    """Neighbouring recipients' tokens share nothing visible, and show no id in any spelling."""
    a, b = tokens.open_token(SECRET, 5, 1000), tokens.open_token(SECRET, 5, 1001)
    assert a[:4] != b[:4] and a[-4:] != b[-4:]
    assert "1000" not in a and "1001" not in b
    # The payload is masked: the same ids under another secret give unrelated bytes throughout.
    assert sum(x == y for x, y in zip(a, tokens.open_token("other", 5, 1000), strict=False)) < len(a) // 2


def test_non_canonical_spellings_and_junk_are_refused():
    token = tokens.open_token(SECRET, 1, 2)
    for junk in (
        "",
        "x",
        token + "=",
        token + "A",
        token.upper(),
        " " + token,
        token[:-1],
        "a" * 200,
        "../../etc/passwd",
        "1.2.abcdef",
    ):
        assert tokens.decode_open(SECRET, junk) is None, junk


def test_precomputed_hmac_is_hmac_sha256():
    key = b"k" * 32
    assert tokens._Hmac(key).digest(b"message") == hmac.digest(key, b"message", "sha256")


@settings(max_examples=300)
@given(st.text(alphabet=URLSAFE, min_size=0, max_size=60))
def test_random_tokens_never_decode(text):
    assert tokens.decode_open(SECRET, text) is None
    assert tokens.decode_click(SECRET, text) is None


def test_a_recipients_tokens_are_the_plain_ones():
    mine = tokens.RecipientTokens(SECRET, 3, 300)
    assert mine.open() == tokens.open_token(SECRET, 3, 300)
    assert [mine.click(i) for i in (0, 127, 128, 5000)] == [
        tokens.click_token(SECRET, 3, 300, i) for i in (0, 127, 128, 5000)
    ]
