"""Score the classifier on a labelled corpus (a folder of .eml files and expected.jsonl, the format of
../shared/bounces and tests/bounces/fixtures), whole and with family-specific layouts switched off.

The scoring rules are those of the shared scorer: a recipient counts when the expected address is
among the predicted ones; hard and reason count when they equal those of any expected recipient.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from sendwell.bounces.classify import classify
from sendwell.bounces.formats import FORMATS
from sendwell.bounces.report import BounceReport


@dataclass(frozen=True)
class Case:
    path: Path
    expected: dict


@dataclass(frozen=True)
class Score:
    emails: int
    recipient: float  # recall over expected addresses
    hard: float
    reason: float

    def row(self) -> str:
        return f"{self.emails:4d}  {self.recipient:.3f}  {self.hard:.3f}  {self.reason:.3f}"


def load(folder: Path) -> list[Case]:
    lines = (folder / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    return [Case(folder / e["file"], e) for e in (json.loads(line) for line in lines if line.strip())]


def score(cases: Sequence[Case], formats: Sequence[ModuleType] | None = None) -> Score:
    return _score([(case, classify(case.path.read_bytes(), formats)) for case in cases])


def _score(judged: Sequence[tuple[Case, BounceReport]]) -> Score:
    found = wanted = hard = reason = 0
    for case, report in judged:
        data = report.as_dict()
        got = {a.lower() for a in data["recipients"]}
        wanted += len(case.expected["recipients"])
        found += sum(a.lower() in got for a in case.expected["recipients"])
        per = case.expected["per_recipient"]
        hard += any(bool(data["hard"]) == p["hard"] for p in per)
        reason += any((data["reason"] or "") == p["reason"] for p in per)
    n = max(len(judged), 1)
    return Score(len(judged), found / max(wanted, 1), hard / n, reason / n)


def module_name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[1]


def leave_one_out(cases: Sequence[Case]) -> list[tuple[str, Score, Score]]:
    """For each format module: its emails (those it recognizes with every module on), scored with it and
    without it, so the second figure is what the generic path and the other modules make of that family."""
    by_format: dict[str, list[tuple[Case, BounceReport]]] = {}
    for case in cases:  # classified once with every module: that pass is also the "with it" score
        report = classify(case.path.read_bytes())
        by_format.setdefault(report.format, []).append((case, report))
    rows = []
    for module in FORMATS:
        name = module_name(module)
        mine = by_format.get(name, [])
        if mine:
            others = [m for m in FORMATS if m is not module]
            rows.append((name, _score(mine), score([case for case, _ in mine], others)))
    return rows
