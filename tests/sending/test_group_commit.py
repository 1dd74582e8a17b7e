"""GroupCommit: a commit takes the outcomes that arrived until its transaction reads them (SQLite: once it
holds the write turn), and each connection waits for the commit holding its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import pytest

from sendwell.sending.commit import GroupCommit
from sendwell.sending.store import Outcome


def _outcome(n: int) -> Outcome:
    return cast(Outcome, n)  # the commit never looks inside an outcome


def test_outcomes_arriving_during_the_turn_wait_join_the_commit() -> None:
    async def main() -> tuple[list[list[Any]], list[list[Any]]]:
        turn = asyncio.Event()
        written: list[list[Any]] = []

        async def write(batch: Sequence[Outcome]) -> None:
            await turn.wait()  # another process holds the write turn
            written.append(list(batch))  # read inside the transaction

        commits = GroupCommit(write, width=4)
        seen: list[list[Any]] = []

        async def committed(batch: list[Outcome]) -> None:
            seen.append(list(batch))

        recorder = asyncio.create_task(commits.run(committed, lambda err: None))
        first = asyncio.create_task(commits.record(_outcome(1)))
        for _ in range(5):
            await asyncio.sleep(0)
        later = [asyncio.create_task(commits.record(_outcome(n))) for n in (2, 3)]
        await asyncio.sleep(0.01)
        assert not first.done()  # nothing committed yet: the connection still waits
        turn.set()
        await asyncio.gather(first, *later)
        commits.close()
        await recorder
        return written, seen

    written, seen = asyncio.run(main())
    assert written == [[1, 2, 3]]
    assert seen == [[1, 2, 3]]


def test_a_failed_commit_fails_every_outcome_it_held() -> None:
    async def main() -> list[Exception]:
        async def write(batch: Sequence[Outcome]) -> None:
            raise RuntimeError("disk full")

        failures: list[Exception] = []

        async def committed(batch: list[Outcome]) -> None:
            raise AssertionError("nothing was committed")

        commits = GroupCommit(write, width=2)
        recorder = asyncio.create_task(commits.run(committed, failures.append))
        with pytest.raises(RuntimeError, match="disk full"):
            await commits.record(_outcome(1))
        commits.close()
        await recorder
        return failures

    assert [str(e) for e in asyncio.run(main())] == ["disk full"]
