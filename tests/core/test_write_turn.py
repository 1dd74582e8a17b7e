"""Senders on one SQLite file take turns at writing (db/engine.py): a process whose turn is taken waits for it in
the kernel, not by polling from its event loop, on either loop (asyncio's own and uvloop)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from sendwell.db.engine import end_write_turn, make_engine, take_write_turn
from sendwell.sending import eventloop


@pytest.fixture(params=["asyncio", "uvloop"])
def loop(request) -> str:
    """The event loop the test runs on (sending/eventloop.py)."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop", reason="uvloop is not installed (pip install uvloop)")
    return request.param


@pytest.fixture
def taken(tmp_path) -> Iterator[tuple[Engine, str, int]]:
    """A SQLite ledger whose write turn another process holds: (engine, path, the holder's file: an open
    file description of its own, as another process's would be)."""
    path = str(tmp_path / "ledger.db")
    engine = make_engine(path)
    other = os.open(path + "-writers", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    yield engine, path, other
    os.close(other)
    engine.dispose()


def test_a_taken_turn_is_waited_for_without_spinning_and_given_when_free(taken, loop):
    engine, path, other = taken

    async def main() -> tuple[int | None, float, float, bool]:
        cpu = time.process_time()
        task = asyncio.create_task(take_write_turn(engine))
        for _ in range(40):  # the loop keeps running while the turn is taken: 0.4 s of its own timers
            await asyncio.sleep(0.01)
        waited_cpu = time.process_time() - cpu
        early = task.done()
        released = time.monotonic()
        fcntl.flock(other, fcntl.LOCK_UN)
        fd = await asyncio.wait_for(task, 10)
        return fd, waited_cpu, time.monotonic() - released, early

    fd, waited_cpu, after_release, early = eventloop.run(main(), loop)
    try:
        assert not early, "the turn was given while another process held it"
        assert fd is not None
        # a poll from the loop spun (uvloop) the whole 0.4 s: waiting in the kernel costs next to nothing
        assert waited_cpu < 0.2, f"{waited_cpu:.3f} s of CPU while waiting 0.4 s"
        assert after_release < 5
        # held now by this process: another description cannot take it
        probe = os.open(path + "-writers", os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(probe)
    finally:
        end_write_turn(fd)


def test_a_turn_never_freed_is_given_up_after_the_patience(taken, loop):
    engine, _, _ = taken
    started = time.monotonic()
    assert eventloop.run(take_write_turn(engine, patience=0.3), loop) is None  # SQLite's own lock decides then
    assert time.monotonic() - started >= 0.3


def test_every_coroutine_waiting_for_the_turn_gets_it_once_it_is_free(taken, loop):
    engine, _, other = taken
    order: list[int] = []

    async def writer(k: int) -> None:
        fd = await take_write_turn(engine)
        order.append(k)  # nothing awaited while the turn is held, as in the send store
        end_write_turn(fd)

    async def main() -> None:
        tasks = [asyncio.create_task(writer(k)) for k in range(3)]
        await asyncio.sleep(0.1)
        assert order == []
        fcntl.flock(other, fcntl.LOCK_UN)
        await asyncio.wait_for(asyncio.gather(*tasks), 10)

    eventloop.run(main(), loop)
    assert sorted(order) == [0, 1, 2]
