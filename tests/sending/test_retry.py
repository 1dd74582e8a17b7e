"""The retry schedule, without a database: one function for deferred recipients and for relay back-off."""

from datetime import UTC, datetime, timedelta

import pytest

from sendwell.sending import retry

SCHEDULE = (2, 5, 15, 60)
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("step", "wait"), [(0, 2), (1, 5), (2, 15), (3, 60), (4, 60), (99, 60), (-1, 2)])
def test_each_step_waits_its_entry_and_the_last_repeats(step, wait):
    assert retry.delay(SCHEDULE, step) == wait


def test_an_empty_schedule_still_waits_a_minute():
    assert retry.delay((), 0) == 60.0
    assert retry.delay((), 7) == 60.0


def test_next_try_follows_the_schedule_by_attempts_made():
    assert retry.next_try(SCHEDULE, 72, attempts=0, queued_at=T0, now=T0) == T0 + timedelta(seconds=2)
    later = T0 + timedelta(minutes=10)
    assert retry.next_try(SCHEDULE, 72, attempts=2, queued_at=T0, now=later) == later + timedelta(seconds=15)


def test_a_retry_past_the_horizon_gives_the_recipient_up():
    horizon = 1.0  # hour
    just_inside = T0 + timedelta(hours=1) - timedelta(seconds=61)
    assert retry.next_try(SCHEDULE, horizon, attempts=5, queued_at=T0, now=just_inside) is not None
    past = T0 + timedelta(hours=1) - timedelta(seconds=59)
    assert retry.next_try(SCHEDULE, horizon, attempts=5, queued_at=T0, now=past) is None
