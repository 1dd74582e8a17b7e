"""Geometry for the server-rendered SVG charts (statuses of a campaign, 30 days of the daily limit): numbers only,
the templates draw them, so every label goes through Jinja's escaping."""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from sendwell.config import LimitSettings
from sendwell.sending.limit import DayStats, tomorrow
from sendwell.sending.usage import DayUsage, LimitToday

STATUS_COLOURS = {
    "queued": "#9aa5b8",
    "sent": "#2e8b57",
    "deferred": "#d9a400",
    "error": "#c0392b",
    "failed": "#8e44ad",
    "skipped": "#7f8c8d",
    "read": "#1f78b4",
    "clicked": "#0b4f8a",
}
BAR_WIDTH = 420  # px for the largest status count


def status_bars(by_status: dict[str, int]) -> list[dict[str, Any]]:
    """One horizontal bar per status, longest for the largest count."""
    top = max(by_status.values(), default=0) or 1
    return [
        {
            "status": s,
            "count": n,
            "y": i * 26,
            "width": round(BAR_WIDTH * n / top, 1),
            "colour": STATUS_COLOURS.get(s, "#555"),
        }
        for i, (s, n) in enumerate(by_status.items())
    ]


def daily_chart(
    history: list[DayUsage], today: str, days: int = 30, width: int = 720, height: int = 200
) -> dict[str, Any]:
    """Bars of sent (green) and address errors (red) per day, the limit as a line, the error rate on its own scale."""
    by_day: dict[str, dict[str, Any]] = {h.day: asdict(h) for h in history}
    last = date.fromisoformat(today)
    span = [(last - timedelta(days=days - 1 - i)).isoformat() for i in range(days)]
    rows = [by_day.get(d, {"day": d, "limit": None, "sent": 0, "address_errors": 0, "error_rate": 0.0}) for d in span]
    top = max([r["sent"] + r["address_errors"] for r in rows] + [r["limit"] or 0 for r in rows] + [1])
    top_rate = max([r["error_rate"] for r in rows] + [0.1])
    step = width / days

    def y(v: float) -> float:
        return round(height - height * v / top, 1)

    bars, limit_points, rate_points = [], [], []
    for i, r in enumerate(rows):
        x = round(i * step + 2, 1)
        sent_y, err_y = y(r["sent"]), y(r["sent"] + r["address_errors"])
        bars.append(
            {
                "day": r["day"],
                "x": x,
                "w": round(step - 4, 1),
                "sent": r["sent"],
                "errors": r["address_errors"],
                "sent_y": sent_y,
                "sent_h": round(height - sent_y, 1),
                "err_y": err_y,
                "err_h": round(sent_y - err_y, 1),
                "limit": r["limit"],
                "rate": r["error_rate"],
                "label": r["day"][5:] if i % 5 == 0 or i == days - 1 else "",
            }
        )
        if r["limit"] is not None:  # a step per day, so a single day's limit still shows
            limit_points += [f"{round(i * step, 1)},{y(r['limit'])}", f"{round((i + 1) * step, 1)},{y(r['limit'])}"]
        if r["sent"] + r["address_errors"]:  # no rate on a day without sending (not a 0% day)
            rate_points.append(
                {"x": round(i * step + step / 2, 1), "y": round(height - height * r["error_rate"] / top_rate, 1)}
            )
    return {
        "ticks": [{"value": v, "y": y(v)} for v in _ticks(top)],
        "rate_ticks": [{"value": v, "y": round(height - height * v / top_rate, 1)} for v in _ticks(top_rate, 4)],
        "rows": [r for r in rows if r["limit"] is not None or r["sent"] or r["address_errors"]],
        "bars": bars,
        "limit_points": " ".join(limit_points),
        "rate_points": " ".join(f"{p['x']},{p['y']}" for p in rate_points),
        "rate_dots": rate_points,
        "width": width,
        "height": height,
        "top": top,
        "top_rate": top_rate,
    }


def _ticks(top: float, count: int = 5) -> list[float]:
    """About `count` round values from 0 to `top` for an axis (1, 2 or 5 times a power of ten apart)."""
    if top <= 0:
        return [0]
    raw = top / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if top >= count:  # counts of messages: whole numbers
        step = max(1.0, round(step))
    values, v = [], 0.0
    while v <= top + 1e-9:
        values.append(round(v, 6))
        v += step
    return values


def outlook(today: LimitToday, settings: LimitSettings) -> dict[str, Any]:
    """Tomorrow's limit if today ended now, and which growth rule sets it (an index into
    sending.limit.GROWTH; the dashboard words each rule in the reader's language)."""
    stats = DayStats(limit=today.limit, sent=today.sent, address_errors=today.address_errors)
    limit, rule = tomorrow(stats, settings)
    return {
        "limit": limit,
        "rule": rule,
        "start": settings.start,
        "cap": settings.cap,
        "grow_below": settings.grow_below,
        "shrink_above": settings.shrink_above,
    }
