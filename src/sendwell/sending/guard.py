"""What pauses a run (pure): the breaker's two triggers, address errors over the last sends and the
complaint rate, judged by sending/limit.py's policy, and the warnings shown before they trip."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from sendwell.config import LimitSettings
from sendwell.model import FailureKind, RecipientStatus
from sendwell.sending import limit
from sendwell.sending.queue import Result
from sendwell.sending.store import Check

COMPLAINTS_EVERY = timedelta(seconds=30)  # a scan of events: not on every claim
COMPLAINTS_OVER = timedelta(days=7)


class Guard:
    """One run's view of the breaker; `warnings` is the run report's list, kept up to date."""

    def __init__(self, settings: LimitSettings, warnings: list[str]) -> None:
        self.settings, self.warnings = settings, warnings
        self.window: deque[bool] = deque(maxlen=max(1, settings.window_sends))  # the last sends: address error?
        self.tripped = False
        self._error_warning: int | None = None  # where the address-error warning is in `warnings`
        self._keyed: dict[str, int] = {}  # where each keyed warning is in `warnings`
        self._complaints_checked = datetime.min.replace(tzinfo=None)

    def warn(self, message: str | None, key: str | None = None) -> None:
        """Show `message` once; with a `key`, it replaces the warning given earlier under that key."""
        if not message or message in self.warnings:
            return
        if key is not None and key in self._keyed:
            self.warnings[self._keyed[key]] = message
            return
        if key is not None:
            self._keyed[key] = len(self.warnings)
        self.warnings.append(message)

    def complaints_since(self, now: datetime) -> datetime | None:
        """The start of the complaint window when the rate is due for a look, else None."""
        last = self._complaints_checked.replace(tzinfo=now.tzinfo)
        return now - COMPLAINTS_OVER if now >= last + COMPLAINTS_EVERY else None

    def checked(self, found: Check, now: datetime) -> tuple[str | None, bool]:
        """What the store found before a claim: (the breaker's reason, whether to trip it now for complaints)."""
        tripped, trip = found.breaker, False
        if self.tripped and not tripped:  # the operator resumed: start a fresh error window
            self.window.clear()
        if found.complaints is not None:
            self._complaints_checked = now
            judged = limit.judge_complaints(*found.complaints, self.settings)
            if judged.level is limit.Level.PAUSE and not tripped:
                tripped, trip = judged.message, True
            elif judged.level is limit.Level.WARN:
                self.warn(judged.message)
        self.tripped = tripped is not None
        return tripped, trip

    def counted(self, result: Result) -> None:
        """A recorded outcome: sends and refused addresses fill the error window."""
        if result.status is RecipientStatus.SENT or (
            result.status is RecipientStatus.ERROR and result.kind is FailureKind.RECIPIENT
        ):
            self.window.append(result.status is RecipientStatus.ERROR)

    def judge(self) -> str | None:
        """The breaker's reason when the address errors of the window trip it; a warning (one, kept up to date
        as its figures change with each send) when they come close."""
        judged = limit.judge_errors(list(self.window), self.settings)
        if judged.level is limit.Level.PAUSE:
            return judged.message
        if judged.level is limit.Level.WARN:
            if self._error_warning is None:
                self._error_warning = len(self.warnings)
                self.warnings.append(judged.message)
            else:
                self.warnings[self._error_warning] = judged.message
        return None
