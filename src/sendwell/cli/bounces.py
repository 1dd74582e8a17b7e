"""`sendwell bounces …`: the group, assembled here: classify (below), ingest (cli/ingest.py), watch (cli/watch.py).

`sendwell bounces classify` with only file arguments never reaches this module: cli/entry.py runs it before Typer loads.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sendwell.cli.ingest import ingest
from sendwell.cli.watch import watch

app = typer.Typer(help="Read bounces, complaints and auto-replies.", no_args_is_help=True)


@app.command("classify")
def classify_command(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Message files; none: read one path per line from stdin")
    ] = None,
    details: Annotated[
        bool, typer.Option("--details", help="Add every recipient's diagnostic and the original message's headers")
    ] = False,
) -> None:
    """Print one JSON line per message file: {"file", "kind", "recipients", "status", "reason", "hard"}."""
    from sendwell.cli.classify_files import classify_files

    if classify_files(paths or [], details):
        raise typer.Exit(1)


app.command("ingest")(ingest)
app.command("watch")(watch)
