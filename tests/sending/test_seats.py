"""How many connections a relay takes (sending/seats.py): learnt from a refusal at the greeting while other
connections work, a probe for one more every PROBE_AFTER seconds, growing back when the probe is let in."""

from __future__ import annotations

import asyncio

from sendwell.sending.outcome import Reply, Stage
from sendwell.sending.relay import Connection, Relay
from sendwell.sending.seats import PROBE_AFTER, Seats

RELAY = Relay(url="smtp://127.0.0.1:25", host="127.0.0.1", port=25, security="plain")
TOO_MANY = Reply(Stage.CONNECT, 421, "4.7.0", "4.7.0 mta.example.com Error: too many connections from 127.0.0.1")


class OpenSession:
    """Stands for the socket of a session that was greeted (Connection.is_open looks at `closed`)."""

    closed = False


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def opened(seats: Seats) -> Connection:
    conn = Connection(RELAY, timeout=1.0)
    seats.start(conn)
    conn.wire = OpenSession()  # type: ignore[assignment]
    seats.opened(conn)
    return conn


def refused(seats: Seats) -> int | None:
    conn = Connection(RELAY, timeout=1.0)
    seats.start(conn)
    seats.failed(conn)
    return asyncio.run(seats.limited(conn, TOO_MANY, timeout=0.1))


def test_a_refusal_while_others_work_limits_the_relay_then_one_more_is_probed_and_kept():
    clock = Clock()
    seats = Seats(wanted=4, clock=clock)
    first, _ = opened(seats), opened(seats)
    assert seats.free(RELAY)
    assert refused(seats) == 2  # the third was turned away: the relay takes two
    assert not seats.free(RELAY, take=True)
    clock.now += PROBE_AFTER
    assert seats.free(RELAY) and seats.free(RELAY, take=True)  # one probe, taken
    assert not seats.free(RELAY, take=True)  # and only one
    opened(seats)  # the probe was let in: the relay now takes three
    assert seats.allowed[RELAY] == 3
    first.wire = None  # a connection closed: a seat is free again
    assert seats.free(RELAY)


def test_a_refusal_with_no_other_connection_working_is_a_relay_problem_not_a_limit():
    seats = Seats(wanted=4, clock=Clock())
    assert refused(seats) is None
    assert RELAY not in seats.allowed and seats.free(RELAY)
    after_rcpt = Connection(RELAY, timeout=1.0)
    opened(seats)
    assert asyncio.run(seats.limited(after_rcpt, Reply(Stage.MAIL, 421, "4.3.2", "busy"), timeout=0.1)) is None
