"""`sendwell demo`: the whole story on a local SQLite file against a simulated mail server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    out: Annotated[Path, typer.Option(help="Where the demo's database and exports go")] = Path("demo-out"),
) -> None:
    """Import a list with dead addresses, send, read bounces, blacklist, exclude, send again: zero repeated errors."""
    from sendwell.demo.story import run

    run(out)
