"""The daily allowance and the circuit breaker as pure policy: tables of thresholds, no database.

Growth (applied when a new day starts, from the last day that has a record):
  error rate over `shrink_above` (5 %)                         → next limit = max(start, limit / 2)
  used ≥ half the limit and error rate under `grow_below` (2 %) → next limit = min(cap, limit × 2)
  anything else                                                 → keep the limit
Guard rails within a day, over the last `window_sends` (500) sends: an address-error rate over
`warn_error_rate` (5 %) warns and over `pause_error_rate` (10 %) pauses all sending until the
operator resumes it; the complaint rate warns at 0.1 % and pauses at 0.3 %. See docs/sending.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sendwell.config import LimitSettings


@dataclass(frozen=True, slots=True)
class DayStats:
    limit: int
    sent: int
    address_errors: int

    @property
    def used(self) -> int:
        return self.sent + self.address_errors

    @property
    def error_rate(self) -> float:
        return rate(self.address_errors, self.used)


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True, slots=True)
class GrowthRule:
    when: str  # as the docs say it
    test: Callable[[DayStats, LimitSettings], bool]
    apply: Callable[[int, LimitSettings], int]


GROWTH: tuple[GrowthRule, ...] = (
    GrowthRule(
        "address-error rate over shrink_above: halve, never below start",
        lambda d, s: d.error_rate > s.shrink_above,
        lambda n, s: max(s.start, n // 2),
    ),
    GrowthRule(
        "at least half the limit used and error rate under grow_below: double, up to cap",
        lambda d, s: d.used * 2 >= d.limit and d.error_rate < s.grow_below,
        lambda n, s: min(s.cap, n * 2),
    ),
    GrowthRule("otherwise: keep", lambda d, s: True, lambda n, s: n),
)


def next_limit(previous: DayStats | None, settings: LimitSettings) -> int:
    """The limit of a new day, from the last recorded day (the start value when there is none)."""
    if previous is None:
        return settings.start
    for rule in GROWTH:
        if rule.test(previous, settings):
            return max(settings.start, min(settings.cap, rule.apply(previous.limit, settings)))
    raise AssertionError("GROWTH ends with a catch-all rule")  # pragma: no cover


def tomorrow(today: DayStats, settings: LimitSettings) -> tuple[int, int]:
    """(the next day's limit if today ended now, the index in GROWTH of the rule that sets it): what the
    dashboard explains."""
    for i, rule in enumerate(GROWTH):
        if rule.test(today, settings):
            return max(settings.start, min(settings.cap, rule.apply(today.limit, settings))), i
    raise AssertionError("GROWTH ends with a catch-all rule")  # pragma: no cover


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    PAUSE = "pause"


@dataclass(frozen=True, slots=True)
class Judgement:
    level: Level
    rate: float
    message: str


def judge_errors(window: list[bool], settings: LimitSettings) -> Judgement:
    """Over the last `window_sends` sends (True = address error).

    Before the window is full, a rate over a few sends says little, but a count does: once the
    errors exceed a threshold times `window_sends`, the full window will be over that threshold
    whatever the next sends do, so a bad list trips the breaker within its first errors instead of
    after `window_sends` messages."""
    size = settings.window_sends
    recent = window[-size:]
    errors = sum(recent)
    r = rate(errors, len(recent))
    if len(recent) < size:
        floor = rate(errors, size)  # the lowest rate the full window can still end at
        return _level(
            floor,
            settings.warn_error_rate,
            settings.pause_error_rate,
            f"{errors} address errors in the first {len(recent)} sends (already {floor:.1%} of a {size}-send window)",
        )
    return _level(
        r,
        settings.warn_error_rate,
        settings.pause_error_rate,
        f"address-error rate {r:.1%} over the last {len(recent)} sends",
    )


def judge_complaints(complaints: int, sent: int, settings: LimitSettings) -> Judgement:
    """Complaints against messages sent in the same period; judged once `window_sends` were sent."""
    r = rate(complaints, sent)
    if sent < settings.window_sends:
        return Judgement(Level.OK, r, "")
    return _level(
        r,
        settings.warn_complaint_rate,
        settings.pause_complaint_rate,
        f"complaint rate {r:.2%} ({complaints} complaints for {sent} messages)",
    )


def _level(r: float, warn: float, pause: float, what: str) -> Judgement:
    if r > pause:
        return Judgement(
            Level.PAUSE, r, f"{what} is above {pause:.1%}: all sending paused; fix the list, then resume sending"
        )
    if r > warn:
        return Judgement(Level.WARN, r, f"{what} is above {warn:.1%}")
    return Judgement(Level.OK, r, "")


def day_of(now: datetime, settings: LimitSettings) -> str:
    """The calendar day (YYYY-MM-DD) in the configured time zone."""
    return now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()


def next_day_start(now: datetime, settings: LimitSettings, *, calendar: bool = False) -> datetime:
    """When the allowance is renewed: the next midnight in the zone (rolling: the next hour). `calendar`:
    the next midnight whatever the window (per-relay caps count calendar days)."""
    if settings.window == "rolling" and not calendar:
        return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    local = now.astimezone(ZoneInfo(settings.timezone))
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(now.tzinfo)
