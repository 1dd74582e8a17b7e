"""`sendwell doctor`: the installation's set-up check (formatting only: the checks are in sendwell.setupcheck)."""

from __future__ import annotations

from typing import Annotated

import typer

from sendwell.cli.common import console, ctx_obj, print_json
from sendwell.cli.errors import command

_STYLE = {"ok": ("green", "ok   "), "warn": ("yellow", "warn "), "error": ("red", "error")}


def doctor(
    ctx: typer.Context,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each relay")] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON")] = False,
) -> None:
    """Check the set-up: public_url, the bounce domain's MX, DKIM keys for the From domains in use, the relays,
    a running worker.

    Exits with 1 when there is an error to fix, 0 otherwise (warnings included).
    """
    from sendwell.setupcheck import check_setup

    obj = ctx_obj(ctx)
    report = check_setup(obj.engine, obj.settings, relay_timeout=timeout)
    if as_json:
        print_json(report.as_dict())
    else:
        for f in report.findings:
            color, label = _STYLE[f.level.value]
            console.print(f"[{color}]{label}[/{color}] {f.topic.value:<10} ", end="", highlight=False)
            console.print(f.message, markup=False, highlight=False, soft_wrap=True)
            if f.fix and f.level.value != "ok":
                step = f" (`{command(f.hint, f.target)}`)" if f.hint else ""
                console.print(f"{'':17}fix: {f.fix}{step}", markup=False, highlight=False, soft_wrap=True)
        n = {lv: sum(1 for f in report.findings if f.level.value == lv) for lv in ("error", "warn", "ok")}
        console.print(f"{n['error']} error(s), {n['warn']} warning(s), {n['ok']} ok", highlight=False)
    if report.worst.value == "error":
        raise typer.Exit(1)
