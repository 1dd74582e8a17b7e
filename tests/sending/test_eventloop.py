"""The sender's event loop (sending/eventloop.py): uvloop when installed, asyncio's own when asked or without it.

The fault tests (tests/faults) meet every fault on both loops; here, a whole campaign's statuses come out the
same on each, and the setting picks the loop it names."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import select

from sendwell.config import ConfigError, load_settings
from sendwell.db.schema import recipients
from sendwell.sending import eventloop
from sendwell.sending.engine import send

from .conftest import sender_settings
from .smtpd import Script
from factories import started_campaign

try:
    import uvloop
except ImportError:  # the tests that need it skip; asyncio's loop is still tested
    uvloop = None
needs_uvloop = pytest.mark.skipif(uvloop is None, reason="uvloop is not installed (pip install uvloop)")


async def _running_loop() -> type:
    return type(asyncio.get_running_loop())


@needs_uvloop
@pytest.mark.parametrize(("choice", "expected"), [("auto", "uvloop"), ("uvloop", "uvloop"), ("asyncio", "asyncio")])
def test_the_setting_picks_the_loop(choice, expected):
    loop_type = eventloop.run(_running_loop(), choice)
    assert (loop_type is uvloop.Loop) == (expected == "uvloop")
    assert eventloop.loop_name(choice) == expected


@pytest.mark.parametrize("choice", ["asyncio", pytest.param("uvloop", marks=needs_uvloop)])
def test_a_campaign_ends_alike_on_either_loop(engine, server, choice):
    server.script = Script(
        rcpt={"dead@x.org": "550 5.1.1 no such user", "grey@x.org": "451 4.7.1 greylisted"},
        eod={"big@x.org": "552 5.3.4 message too big"},
    )
    addrs = [f"ok{i}@x.org" for i in range(30)] + ["dead@x.org", "grey@x.org", "big@x.org"]
    cid = started_campaign(engine, addrs)
    settings = sender_settings(server.url, retry_schedule=(3600,), connections=4)
    settings = replace(settings, sending=replace(settings.sending, event_loop=choice))
    report = send(engine, settings, [cid], linger=0.5)
    with engine.connect() as conn:
        rows = conn.execute(select(recipients).where(recipients.c.campaign_id == cid))
        got = {r.email: (r.status, r.kind) for r in rows}
    assert got == {
        **{f"ok{i}@x.org": ("sent", None) for i in range(30)},
        "dead@x.org": ("error", "recipient"),
        "grey@x.org": ("deferred", "throttled"),
        "big@x.org": ("failed", "policy"),
    }
    assert report.counts["sent"] == 30
    assert server.counts() == {f"ok{i}@x.org": 1 for i in range(30)}


def test_an_unknown_loop_is_refused_naming_the_setting(tmp_path):
    cfg = tmp_path / "sendwell.toml"
    cfg.write_text('[sending]\nevent_loop = "fastest"\n')
    with pytest.raises(ConfigError, match=r"\[sending\] event_loop: 'fastest' is not one of auto, uvloop, asyncio"):
        load_settings(cfg)
