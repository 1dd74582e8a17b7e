"""The event loop a long asyncio run (the sending engine) goes on: uvloop when it is installed, else asyncio's own.

uvloop runs the loop, its timers and the socket transports in C. The sender is CPU-bound on a small machine
(its SMTP transactions, group commits and timers are loop callbacks), and on the sending bench uvloop took
5–15 % off the CPU per message (docs/performance.md). Nothing in sendwell needs it: `[sending] event_loop =
"asyncio"` (or a platform without uvloop) runs the same code on the standard loop, which the tests also cover.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory(choice: str = "auto") -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop factory for `choice` (config.EVENT_LOOPS; None: asyncio's default loop). Settings read from a file
    refuse "uvloop" without uvloop installed; settings built in code fall back to asyncio's loop."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # "uvloop" named without it installed is refused when the settings are read
        return None
    return uvloop.new_event_loop


def loop_name(choice: str = "auto") -> str:
    """What `choice` runs on here: "uvloop" or "asyncio"."""
    return "asyncio" if loop_factory(choice) is None else "uvloop"


def run(main: Coroutine[Any, Any, T], choice: str = "auto") -> T:
    """asyncio.run(main) on the loop `choice` names."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)
