"""VERP and unsubscribe tokens: round trip, tamper-proof, case-insensitive."""

from hypothesis import given
from hypothesis import strategies as st

from sendwell.sending import verp


@given(st.integers(1, 2**40), st.integers(1, 2**40))
def test_bounce_address_round_trips(cid, rid):
    addr = verp.bounce_address("k", cid, rid, "bounces.example")
    assert verp.decode_address("k", addr) == (cid, rid)
    assert verp.decode_address("k", addr.upper()) == (cid, rid)


def test_forged_or_foreign_tokens_are_refused():
    token = verp.encode("k", 3, 4)
    assert verp.decode("other-key", token) is None
    assert verp.decode("k", token.replace("3.4.", "3.5.")) is None
    assert verp.decode("k", "junk") is None
    assert verp.decode_unsubscribe("k", token) is None  # a bounce token is not an unsubscribe token
    assert verp.decode_address("k", "someone@example.com") is None
