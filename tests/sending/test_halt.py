"""What pauses one campaign on its own (sending/halt.py): a message over the relay's SIZE, and a run of the same
refusal from its first transactions; what a relay is greeted with (sending/relay.helo_name)."""

from __future__ import annotations

import socket

import pytest

from sendwell.sending import outcome
from sendwell.sending.halt import SameRefusals, too_big
from sendwell.sending.outcome import Reply, Stage
from sendwell.sending.relay import helo_name

HELO_REFUSED = Reply(Stage.RCPT, 504, "5.5.2", "5.5.2 <vm>: Helo command rejected: need fully-qualified hostname")
ACCEPTED = Reply(Stage.EOD, 250, "2.0.0", "2.0.0 Ok: queued")
UNKNOWN = Reply(Stage.RCPT, 550, "5.1.1", "5.1.1 <x@example.org>: Recipient address rejected: User unknown")
BUSY = Reply(Stage.MAIL, 451, "4.3.0", "4.3.0 try later")


def feed(same: SameRefusals, replies: list[Reply], campaign: int = 1) -> list[str | None]:
    return [same.seen(campaign, r, outcome.classify(r)) for r in replies]


def test_twenty_same_refusals_from_the_start_pause_once_saying_the_answer():
    said = feed(SameRefusals(20), [HELO_REFUSED] * 25)
    assert said[:19] == [None] * 19 and said[20:] == [None] * 5
    assert "first 20 messages were all refused with the same answer" in said[19]
    assert "RCPT: 504 5.5.2 <vm>: Helo command rejected" in said[19]


@pytest.mark.parametrize("first", [ACCEPTED, UNKNOWN], ids=["a-message-went", "an-address-error"])
def test_a_delivery_or_an_address_error_first_means_the_refusals_are_about_recipients(first):
    assert feed(SameRefusals(3), [first, *[HELO_REFUSED] * 5]) == [None] * 6


def test_deferrals_neither_count_nor_break_the_run_and_campaigns_are_counted_apart():
    same = SameRefusals(3)
    assert feed(same, [HELO_REFUSED, BUSY, HELO_REFUSED]) == [None] * 3
    assert feed(same, [ACCEPTED], campaign=2) == [None]
    assert feed(same, [HELO_REFUSED])[0] is not None
    assert feed(SameRefusals(0), [HELO_REFUSED] * 30) == [None] * 30  # 0: never


def test_different_refusals_do_not_pause():
    other = Reply(Stage.EOD, 554, "5.7.1", "5.7.1 spam")
    assert feed(SameRefusals(2), [HELO_REFUSED, other, HELO_REFUSED, HELO_REFUSED]) == [None] * 4


def test_size_over_the_relays_limit_names_both():
    assert too_big(4000, 4000, "relay:25") is None and too_big(10**6, None, "relay:25") is None
    why = too_big(10_532, 4000, "relay:25")
    assert "10,532 bytes" in why and "at most 4,000" in why and "relay:25" in why


def test_helo_name_is_the_configured_one_else_a_fully_qualified_one_else_a_warning(monkeypatch):
    assert helo_name("mail.shop.example") == ("mail.shop.example", None)
    monkeypatch.setattr(socket, "getfqdn", lambda: "vm.shop.example")
    assert helo_name("") == ("vm.shop.example", None)
    monkeypatch.setattr(socket, "gethostname", lambda: "vm")
    for unqualified in ("localhost", "localhost.localdomain", "vm"):  # /etc/hosts: 127.0.0.1 localhost vm
        monkeypatch.setattr(socket, "getfqdn", lambda name=unqualified: name)
        name, warning = helo_name("")
        assert name == "vm" and "no fully qualified name" in warning and "[smtp] helo_name" in warning
