"""What one send run did and why it stopped: counts by status, the stop reason and the warnings to show."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunReport:
    """What one run did and why it stopped."""

    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("sent", "error", "deferred", "failed", "skipped"), 0)
    )
    stopped: str = ""  # done | idle | limit | breaker | paused | server | interrupted | error
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    server_problem: str | None = None
