"""Regression on a fixed sample of real bounces (tests/bounces/fixtures, BSD-2-Clause, see NOTICE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sendwell.bounces import MessageKind, classify

FIXTURES = Path(__file__).parent / "fixtures"
CASES = [json.loads(line) for line in (FIXTURES / "expected.jsonl").read_text(encoding="utf-8").splitlines() if line]


def test_the_sample_covers_many_mta_families():
    assert len(CASES) >= 40
    assert len({c["mta"] for c in CASES}) >= 40


@pytest.mark.parametrize("case", CASES, ids=[f"{c['mta']}:{c['file'][:8]}" for c in CASES])
def test_classifier_matches_the_labelled_answer(case):
    report = classify((FIXTURES / case["file"]).read_bytes())
    found = [r.address for r in report.recipients]
    for address in case["recipients"]:
        assert address.lower() in found
    first = report.first
    assert first is not None
    per = case["per_recipient"]
    assert first.reason.value in {p["reason"] for p in per}
    assert first.hard in {p["hard"] for p in per}
    if case["reason"] == "feedback":
        assert report.kind is MessageKind.COMPLAINT
    elif case["reason"] == "vacation":
        assert report.kind is MessageKind.AUTOREPLY
    elif case["reason"] == "delivered":
        assert report.kind is MessageKind.DELIVERED
    else:
        assert report.is_bounce
