"""The daily-limit chart says what tomorrow's limit will be and why, has axes a person can read, and carries the
same numbers as a table, in both languages. (The dashboard includes templates/_daily_limit.html.)"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from sendwell.config import LimitSettings
from sendwell.sending.usage import DayUsage, LimitToday
from sendwell.web.ui.charts import _ticks, daily_chart, outlook
from sendwell.web.ui.render import environment


def _limit(sent: int, errors: int, limit: int = 100) -> SimpleNamespace:
    """What the dashboard gets from usage.limit_report: today and the history, as the service's dataclasses."""
    rate = errors / (sent + errors) if sent + errors else 0.0
    today = LimitToday("2026-12-06", limit, sent + errors, limit - sent - errors, sent, errors, rate)
    history = [DayUsage("2026-12-06", limit, sent, errors, rate, 0)]
    return SimpleNamespace(today=today, history=history)


def _render(language: str, sent: int, errors: int) -> str:
    limit = _limit(sent, errors)
    return (
        environment(language)
        .get_template("_daily_limit.html")
        .render(
            limit=limit,
            chart=daily_chart(limit.history, "2026-12-06"),
            outlook=outlook(limit.today, LimitSettings(start=50, cap=1000)),
        )
    )


@pytest.mark.parametrize(
    ("sent", "errors", "tomorrow", "why"),
    [(60, 0, "200", "doubles"), (90, 10, "50", "halved"), (10, 0, "100", "stays the same")],
)
def test_tomorrows_limit_and_the_rule_that_sets_it(sent, errors, tomorrow, why) -> None:
    html = _render("en", sent, errors)
    found = re.search(r'id="limit-tomorrow">.*?<strong>([\d,]+)</strong>(.*?)</p>', html, re.S)
    assert found and found.group(1) == tomorrow and why in found.group(2)
    assert 'id="tomorrow-row"' in html


def test_axes_have_several_ticks_and_the_table_has_the_numbers() -> None:
    html = _render("en", 60, 3)
    assert len(re.findall(r'text-anchor="end">[\d,]+</text>', html)) >= 4  # left scale: counts
    assert len(re.findall(r"\d+%</text>", html)) >= 3  # right scale: error rate
    row = re.search(r'<tr><td>Dec 6, 2026</td><td class="num">100</td><td class="num">60</td><td class="num">3</td>'
                    r'<td class="num">4\.8%</td></tr>', html)  # fmt: skip
    assert row, html
    assert "right scale" in html and "left scale" in html  # the legend is words, not a line next to a number


def test_the_chart_in_vietnamese() -> None:
    html = _render("vi", 60, 0)
    assert "Giới hạn hàng ngày" in html and "Giới hạn ngày mai" in html and "gấp đôi" in html
    assert "Tomorrow" not in html


def test_ticks_are_round_numbers() -> None:
    assert _ticks(37) == [0, 10, 20, 30] and _ticks(1000)[-1] == 1000 and _ticks(0.034) == [0, 0.01, 0.02, 0.03]
