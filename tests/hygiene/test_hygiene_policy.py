"""The hygiene policy table and the soft-bounce score (pure)."""

from datetime import UTC, datetime, timedelta

import pytest

from sendwell.config import BounceSettings
from sendwell.hygiene import BOUNCE_POLICY, AddressAction, Score, add_soft_bounce, decide_bounce
from sendwell.model import FailureKind, RecipientStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reason", "status", "hard", "status_after", "action"),
    [
        ("userunknown", "5.1.1", True, RecipientStatus.ERROR, AddressAction.SUPPRESS),
        ("hostunknown", "5.1.2", True, RecipientStatus.ERROR, AddressAction.SUPPRESS),
        ("notaccept", "4.0.0", False, RecipientStatus.FAILED, AddressAction.SCORE),
        ("mailboxfull", "4.2.2", False, RecipientStatus.FAILED, AddressAction.SCORE),
        ("spamdetected", "5.7.1", False, RecipientStatus.FAILED, AddressAction.NONE),
        ("blocked", "5.7.1", False, RecipientStatus.FAILED, AddressAction.NONE),
        ("policyviolation", "5.7.0", False, RecipientStatus.FAILED, AddressAction.NONE),
        ("expired", "4.4.7", False, RecipientStatus.FAILED, AddressAction.SCORE),
        ("vacation", "", False, None, AddressAction.NONE),
        ("something-new", "5.0.0", False, RecipientStatus.FAILED, AddressAction.SCORE),
    ],
)
def test_policy_table(reason, status, hard, status_after, action):
    d = decide_bounce(reason, status, hard)
    assert d.status == status_after and d.action == action


def test_spam_and_policy_rejections_never_blame_the_address():
    for reason, d in BOUNCE_POLICY.items():
        if d.kind is FailureKind.POLICY:
            assert d.action is AddressAction.NONE and d.status is not RecipientStatus.ERROR, reason


def test_soft_score_once_a_day_and_threshold_within_window():
    policy = BounceSettings()  # +0.5 a day, threshold 3 within 15 days, stale after 7
    s = Score(0.0, None, None)
    s, out = add_soft_bounce(s, T0, policy)
    s, out = add_soft_bounce(s, T0 + timedelta(hours=3), policy)  # same day: not counted again
    assert s.value == 0.5 and not out
    for day in range(1, 6):
        s, out = add_soft_bounce(s, T0 + timedelta(days=day), policy)
    assert s.value == 3.0 and out


def test_soft_score_goes_stale_after_a_quiet_week():
    policy = BounceSettings()
    s, _ = add_soft_bounce(Score(2.5, T0, T0), T0 + timedelta(days=8), policy)
    assert s.value == 0.5 and s.first_bounce_at == T0 + timedelta(days=8)


def test_threshold_outside_the_window_does_not_suppress():
    policy = BounceSettings(soft_stale_days=30)
    s = Score(2.5, T0, T0 + timedelta(days=14))
    s, out = add_soft_bounce(s, T0 + timedelta(days=16), policy)
    assert s.value == 3.0 and not out


def test_docs_list_every_reason_with_its_decision():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "hygiene.md").read_text()
    for reason, d in BOUNCE_POLICY.items():
        status = d.status.value if d.status else "—"
        assert f"| `{reason}` | {status} |" in doc, reason
