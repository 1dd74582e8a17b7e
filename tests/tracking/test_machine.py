"""The machine-hit rules, pure: who fetched the image or followed the link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sendwell.tracking.machine import Hit, Why, is_burst, judge

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HOUR_AGO = NOW - timedelta(hours=1)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"


@pytest.mark.parametrize(
    ("agent", "ip", "why"),
    [
        (IPHONE, "198.51.100.7", None),  # Apple Mail without Privacy Protection: a person
        (
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
            "66.249.84.1",
            None,
        ),  # Gmail fetches when the person opens the message
        ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", "98.137.1.1", None),
        ("Mozilla/5.0", "198.51.100.7", Why.APPLE_PROXY),
        (IPHONE, "17.58.63.120", Why.APPLE_PROXY),
        (IPHONE, "2620:149:a44::1", Why.APPLE_PROXY),
        (IPHONE, "::ffff:17.1.2.3", Why.APPLE_PROXY),
        (IPHONE, "not an address", None),
        ("", "198.51.100.7", Why.NO_AGENT),
        (None, None, Why.NO_AGENT),
        ("Mozilla/5.0 (compatible; Barracuda Sentinel (EE))", "203.0.113.5", Why.SCANNER_AGENT),
        ("python-requests/2.31.0", "203.0.113.5", Why.SCANNER_AGENT),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "66.249.66.1", Why.SCANNER_AGENT),
    ],
)
def test_agents_and_networks(agent, ip, why):
    assert judge(Hit.OPEN, agent, ip, NOW, HOUR_AGO) == why


def test_too_soon_after_delivery_differs_for_opens_and_clicks():
    desktop = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
    assert judge(Hit.OPEN, desktop, None, NOW, NOW - timedelta(seconds=5)) is Why.TOO_SOON
    assert judge(Hit.OPEN, desktop, None, NOW, NOW - timedelta(seconds=20)) is None
    assert judge(Hit.CLICK, desktop, None, NOW, NOW - timedelta(seconds=20)) is Why.TOO_SOON
    assert judge(Hit.CLICK, desktop, None, NOW, None) is None  # no send time known: no rule


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def test_bursts():
    assert is_burst([(at(0), 0), (at(4), 1), (at(9), 2)], 12)  # three links within 10 s
    assert not is_burst([(at(0), 0), (at(4), 1), (at(11), 2)], 12)
    assert not is_burst([(at(0), 0), (at(1), 0), (at(2), 0)], 12)  # one link three times: a person
    assert is_burst([(at(0), 0), (at(1), 1)], 2)  # every link of a two-link message within 3 s
    assert not is_burst([(at(0), 0), (at(5), 1)], 2)
    assert not is_burst([(at(0), 0)], 1) and not is_burst([], 3)
