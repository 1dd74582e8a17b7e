"""What every command group shares: the context object, output helpers and input opening."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console
from sqlalchemy import Engine

from sendwell.config import Settings
from sendwell.errors import UserError

console = Console()
err_console = Console(stderr=True)


@dataclass
class Context:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        from sendwell.db.engine import open_database

        return open_database(self.settings.database.url)


def ctx_obj(ctx: typer.Context) -> Context:
    return ctx.ensure_object(Context)  # type: ignore[return-value]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False, indent=None) + "\n")


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def open_input(path: str) -> Iterator[tuple[str, IO[bytes]]]:
    """Open FILE or '-' (stdin) in binary; yields (name for messages, stream)."""
    if path == "-":
        yield "<stdin>", sys.stdin.buffer
        return
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such file")
    if p.is_dir():
        raise UserError(f"{path}: is a directory, not a file")
    with p.open("rb") as fh:
        yield path, fh


def text_input(data: str) -> IO[bytes]:
    return io.BytesIO(data.encode("utf-8"))
