"""Group commit for the sending loop: every connection waits for its outcome's commit before it sends
again, and the outcomes that arrive while one commit is prepared share it (a commit costs more than a
message's rendering)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import overload

from sendwell.sending.store import Outcome


class GroupCommit:
    def __init__(self, write: Callable[[Sequence[Outcome]], Awaitable[None]], width: int) -> None:
        self.write, self.width = write, width  # width: connections, the most outcomes one commit can wait for
        self._pending: list[tuple[Outcome, asyncio.Future]] = []
        self._wake = asyncio.Event()
        self.closing = False
        # made in the loop it serves; kept, since Python 3.11's get_running_loop asks the kernel for the pid
        self._future = asyncio.get_running_loop().create_future

    async def record(self, done: Outcome) -> None:
        """Queue the outcome for the next commit and wait for it: the connection sends nothing until then."""
        fut = self._future()
        self._pending.append((done, fut))
        self._wake.set()
        await fut

    def close(self) -> None:
        """Commit what is pending, then end `run`."""
        self.closing = True
        self._wake.set()

    async def run(
        self, committed: Callable[[list[Outcome]], Awaitable[None]], failed: Callable[[Exception], None]
    ) -> None:
        """Commit batches until closed; `committed` sees each batch once it is, `failed` a commit's error
        (which the batch's connections get too)."""
        while True:
            await self._wake.wait()
            # Take loop turns while outcomes keep arriving (answers already on the sockets).
            seen = 0
            while len(self._pending) != seen and len(self._pending) < self.width:
                seen = len(self._pending)
                await asyncio.sleep(0)
            self._wake.clear()
            if not self._pending:
                if self.closing:
                    return
                continue
            batch = Batch(self)
            try:
                await self.write(batch)
            except Exception as err:  # hand the failure to every waiting connection
                for _, fut in batch.seal():
                    fut.set_exception(err)
                failed(err)
                continue
            taken = batch.taken or []  # a store that read nothing wrote nothing: those wait for the next commit
            for _, fut in taken:
                fut.set_result(None)
            if taken:
                await committed([done for done, _ in taken])


class Batch(Sequence[Outcome]):
    """The outcomes of one commit, taken from the pending ones when the store first reads them: the store reads
    them inside its transaction (SQLite: once it holds the write turn), so the outcomes that arrive while it waits
    for another process's turn join this commit instead of waiting for the next (fewer, larger commits)."""

    def __init__(self, commit: GroupCommit) -> None:
        self._commit = commit
        self.taken: list[tuple[Outcome, asyncio.Future]] | None = None
        self._items: list[Outcome] = []

    def seal(self) -> list[tuple[Outcome, asyncio.Future]]:
        if self.taken is None:
            self.taken, self._commit._pending = self._commit._pending, []
            self._items = [done for done, _ in self.taken]
        return self.taken

    def __len__(self) -> int:
        return len(self.seal())

    @overload
    def __getitem__(self, i: int) -> Outcome: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Outcome]: ...
    def __getitem__(self, i: int | slice) -> Outcome | Sequence[Outcome]:
        self.seal()
        return self._items[i]

    def __iter__(self) -> Iterator[Outcome]:
        self.seal()
        return iter(self._items)
