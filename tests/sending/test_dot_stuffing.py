"""Dot-stuffing (RFC 5321 4.5.2): `relay.dot_line` finds a line that starts with "." as the plain search does;
through a real SMTP server (aiosmtpd, which takes the dots off again) such a message arrives as it was written."""

from __future__ import annotations

import asyncio
import random

import pytest

from sendwell.sending.outcome import Stage
from sendwell.sending.relay import Connection, Relay, dot_line

from .smtpd import ScriptedServer


def plain(data: bytes) -> bool:
    return data.startswith(b".") or b"\r\n." in data


@pytest.mark.parametrize("seed", range(200))
def test_dot_line_agrees_with_the_plain_search(seed):
    rnd = random.Random(seed)
    pieces = [b"a", b"b.c", b".", b"\r\n", b"\r\n.", b"xyz"]
    weights = [5, 3, 1, 4, 0.05, 3]
    data = b"".join(rnd.choices(pieces, weights, k=rnd.randrange(0, 400)))
    assert dot_line(data) is plain(data), data


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b".",
        b".start\r\n",
        b"no dots\r\n",
        b"mid.dle\r\nline.\r\n",
        b"a\r\n.b",
        b"a.b\r\n" * 40 + b".late\r\n",
        b"a.b\r\n" * 40,
        b"a.b\r\n" * 31 + b".just in\r\n",
    ],
)
def test_dot_line_cases(data):
    assert dot_line(data) is plain(data)


def test_a_message_with_dotted_lines_arrives_as_written():
    body = b"".join(b"line %d: www.example.org\r\n" % i for i in range(40))
    data = b"Subject: dots\r\nFrom: a@example.org\r\n\r\n" + body + b".hidden\r\n..two\r\n.\r\nend.\r\n"
    with ScriptedServer() as server:
        relay = Relay(url=server.url, host="127.0.0.1", port=server.port, security="plain")

        async def send() -> tuple:
            conn = Connection(relay, timeout=5.0)
            assert await conn.open() is None
            try:
                return await conn.send("a@example.org", "b@example.org", data, crlf=True)
            finally:
                await conn.close()

        reply = asyncio.run(send())
        assert (reply.stage, reply.code) == (Stage.EOD, 250), reply
        assert [a.data for a in server.accepted] == [data]
