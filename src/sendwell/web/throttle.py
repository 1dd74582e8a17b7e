"""Slow down password guessing: after too many failed logins for one user name (or from one client address)
within a window, further attempts are refused for the rest of the window. Kept in memory, per process."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

WINDOW_SECONDS = 15 * 60
# key prefix → failures allowed in the window (an address may front several people, so it gets more)
LIMITS = {"user": 10, "addr": 50}


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        seen = self._failures.setdefault(key, deque())
        while seen and seen[0] <= now - WINDOW_SECONDS:
            seen.popleft()
        return seen

    def wait_seconds(self, keys: Iterable[str]) -> float:
        """0 when a login may be tried now, else how long until it may."""
        now = self.clock()
        with self._lock:
            waits = [seen[0] + WINDOW_SECONDS - now for key in keys
                     if len(seen := self._recent(key, now)) >= LIMITS[key.split(":", 1)[0]]]
        return max(waits, default=0.0)

    def failed(self, keys: Iterable[str]) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                if key.startswith("user:"):
                    self._failures.pop(key, None)


def keys_for(username: str, address: str | None) -> list[str]:
    return [f"user:{username.strip().lower()}", f"addr:{address or 'unknown'}"]
