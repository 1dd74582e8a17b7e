"""`sendwell bounces ingest` (registered by cli/bounces.py): read bounces, complaints and mailto unsubscribes;
act on them."""

from __future__ import annotations

from typing import Annotated

import typer

from sendwell.cli.common import console, ctx_obj, err_console, print_json

EX_TEMPFAIL = 75  # sysexits.h


def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[str],
        typer.Argument(
            help=".eml files, mbox files, Maildirs, or - (one message on stdin, as an MTA pipe delivers it)"
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Process bounce messages: mark recipients, blacklist dead addresses, record complaints."""
    from sqlalchemy.exc import DBAPIError

    from sendwell.bounces import ingest as service

    obj = ctx_obj(ctx)
    try:
        summary = service.ingest(obj.engine, obj.settings, paths)
    except DBAPIError as err:
        # EX_TEMPFAIL: an MTA delivering through a pipe keeps the message and retries later
        err_console.print(f"error: database unavailable, try again later: {err.orig}", highlight=False, markup=False)
        raise typer.Exit(EX_TEMPFAIL) from None
    if as_json:
        print_json(summary.as_dict())
        return
    kinds = ", ".join(f"{n} {k}" for k, n in summary.kinds.most_common()) or "none"
    console.print(f"{summary.messages} message(s): {kinds}", highlight=False)
    console.print(
        f"{summary.errors_marked} recipient(s) marked error, {summary.blacklisted} address(es) "
        f"blacklisted, {summary.unmatched} unmatched (kept), {summary.duplicates} already processed",
        highlight=False,
    )
    for p in summary.problems:
        err_console.print(f"[yellow]warning:[/yellow] {p}", highlight=False, markup=False)
