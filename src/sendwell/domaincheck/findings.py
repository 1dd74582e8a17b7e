"""What a domain check reports: findings with a level, a fix in plain words and the steps it points to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sendwell.errors import Hint


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    ERROR = "error"


_RANK = {Level.OK: 0, Level.WARN: 1, Level.ERROR: 2}


class Check(StrEnum):
    """Which part of the set-up a finding is about (the order the report shows them in)."""

    MX = "mx"
    SPF = "spf"
    BOUNCE_SPF = "bounce_spf"
    RELAY = "relay"
    DKIM = "dkim"
    DMARC = "dmarc"
    ALIGNMENT = "alignment"
    RDNS = "rdns"
    BOUNCE_MX = "bounce_mx"


@dataclass(frozen=True, slots=True)
class Step:
    """A next step a fix points to, and the key it acts on; the CLI says it as a command, others as the hint's words."""

    hint: Hint
    domain: str
    selector: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"hint": self.hint.value, "domain": self.domain, "selector": self.selector}


@dataclass(frozen=True, slots=True)
class Finding:
    check: Check
    level: Level
    message: str  # what was found, one sentence
    fix: str = ""  # what to do, in plain words ("" when nothing)
    detail: dict[str, Any] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()  # the steps the fix names, in order

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check.value,
            "level": self.level.value,
            "message": self.message,
            "fix": self.fix,
            "steps": [s.as_dict() for s in self.steps],
            "detail": self.detail,
        }


@dataclass(slots=True)
class Report:
    domain: str
    findings: list[Finding] = field(default_factory=list)

    def add(
        self, check: Check, level: Level, message: str, fix: str = "", *, steps: tuple[Step, ...] = (), **detail: Any
    ) -> Finding:
        f = Finding(check, level, message, fix, detail, steps)
        self.findings.append(f)
        return f

    @property
    def worst(self) -> Level:
        return max((f.level for f in self.findings), key=_RANK.__getitem__, default=Level.OK)

    def of(self, check: Check) -> list[Finding]:
        return [f for f in self.findings if f.check is check]

    def as_dict(self) -> dict[str, Any]:
        counts = {level.value: sum(f.level is level for f in self.findings) for level in Level}
        return {
            "domain": self.domain,
            "worst": self.worst.value,
            "counts": counts,
            "findings": [f.as_dict() for f in self.findings],
        }
