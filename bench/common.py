"""Shared bits of the benchmarks: result tables and JSON output."""

from __future__ import annotations

import json
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load() -> str:
    """The 1/5/15-minute load averages, as `uptime` shows them: the machine is shared."""
    import os

    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def report(name: str, rows: list[dict], columns: list[str], extra: dict | None = None) -> None:
    """Print a table and write bench/results/<name>.json (with `extra` alongside the rows)."""
    widths = [max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns]
    print(" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(_fmt(r.get(c)).ljust(w) for c, w in zip(columns, widths, strict=True)))
    RESULTS.mkdir(exist_ok=True)
    out = {"machine": machine(), **(extra or {}), "rows": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2, default=str))


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)
