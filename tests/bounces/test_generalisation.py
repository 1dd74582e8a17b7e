"""What the rules are worth without the family-specific layouts: the fixtures scored on the generic path alone
and leave-one-out per format module (docs/bounces.md has the same tables for the whole shared corpus)."""

from __future__ import annotations

from pathlib import Path

from sendwell.bounces import evaluate
from sendwell.bounces.formats import FORMATS

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_generic_path_alone_keeps_the_issue_floors(capsys):
    cases = evaluate.load(FIXTURES)
    whole, generic = evaluate.score(cases), evaluate.score(cases, ())
    with capsys.disabled():
        print(f"\nbounce fixtures  n recip hard reason\nall formats     {whole.row()}\ngeneric only    {generic.row()}")
    assert generic.recipient >= 0.95 and generic.hard >= 0.92 and generic.reason >= 0.80
    assert whole.hard >= generic.hard and whole.reason >= generic.reason


def test_leave_one_out_scores_each_module_on_its_own_emails(capsys):
    cases = evaluate.load(FIXTURES)
    rows = evaluate.leave_one_out(cases)
    with capsys.disabled():
        for name, with_it, without in rows:
            print(f"{name:14s} {with_it.row()} | without: {without.row()}")
    names = {name for name, _, _ in rows}
    assert names <= {evaluate.module_name(m) for m in FORMATS}
    assert {"postfix", "sendmail", "exim"} <= names  # the families with most fixtures are measured
    # Switching a module off is real: SES's JSON-in-text notifications name no recipient the generic path finds.
    by_name = {name: (with_it, without) for name, with_it, without in rows}
    assert by_name["amazonses"][0].recipient == 1.0 and by_name["amazonses"][1].recipient < 1.0
