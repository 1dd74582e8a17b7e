"""Group commit for the sending loop: every connection waits for its outcome's commit before it sends
again, and the outcomes that arrive while one commit is prepared share it (a commit costs more than a
message's rendering)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sendwell.sending.store import Outcome


class GroupCommit:
    def __init__(self, write: Callable[[list[Outcome]], Awaitable[None]], width: int) -> None:
        self.write, self.width = write, width  # width: connections, the most outcomes one commit can wait for
        self._pending: list[tuple[Outcome, asyncio.Future]] = []
        self._wake = asyncio.Event()
        self.closing = False

    async def record(self, done: Outcome) -> None:
        """Queue the outcome for the next commit and wait for it: the connection sends nothing until then."""
        fut = asyncio.get_running_loop().create_future()
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
            batch, self._pending = self._pending, []
            if not batch:
                if self.closing:
                    return
                continue
            try:
                await self.write([done for done, _ in batch])
            except Exception as err:  # hand the failure to every waiting connection
                for _, fut in batch:
                    fut.set_exception(err)
                failed(err)
                continue
            for _, fut in batch:
                fut.set_result(None)
            await committed([done for done, _ in batch])
