"""What every command group shares: the context object, output helpers and input opening."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from sendwell.config import Settings
from sendwell.errors import UserError

if TYPE_CHECKING:  # sqlalchemy costs ~0.4 s to import: only commands that use the database pay it
    from sqlalchemy import Engine

console = Console()
err_console = Console(stderr=True)


@dataclass
class Context:
    settings: Settings
    config_path: str | None = None

    @cached_property
    def engine(self) -> Engine:
        from sendwell.db.engine import open_database

        return open_database(self.settings.database.url)


def ctx_obj(ctx: typer.Context) -> Context:
    return ctx.ensure_object(Context)


def warn_exposed_secrets(obj: Context) -> None:
    """At the start of `serve` and `send`: say which secret files others may read."""
    from sendwell.secretfiles import exposed

    for warning in exposed(obj.settings, obj.config_path):
        err_console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)


def _jsonable(value: Any) -> Any:
    """What json cannot write itself: a service's dataclass as its fields, anything else (times) as text."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_jsonable, ensure_ascii=False, indent=None) + "\n")


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
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


MapOpt = Annotated[
    str | None,
    typer.Option("--map", help='Columns to fields: "E-Mail=email,Vorname=first_name" (FIELD - leaves one out)'),
]
MapFileOpt = Annotated[str | None, typer.Option("--map-file", help="File of COLUMN=FIELD lines (# comments)")]


def column_mapping(spec: str | None, path: str | None) -> dict[str, str] | None:
    """--map "Header=field,…" and --map-file FILE as one mapping (the flag's pairs win)."""
    from sendwell.columns import parse_mapping

    mapping: dict[str, str] = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise UserError(f"{path}: no such file", field="map_file")
        mapping.update(parse_mapping(p.read_text(encoding="utf-8-sig"), source=path))
    if spec:
        mapping.update(parse_mapping(spec))
    return mapping or None


def read_text_file(option: str, path: str | Path | None, *, stdin: bool = False) -> str | None:
    """The UTF-8 text of the file an option names (None when not given; '-' is stdin where `stdin`)."""
    if path is None:
        return None
    if stdin and str(path) == "-":
        return sys.stdin.read()
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{option} {path}: no such file")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"{option} {path}: not UTF-8 text (byte {err.start})") from None


def text_input(data: str) -> IO[bytes]:
    return io.BytesIO(data.encode("utf-8"))


PROGRESS_MIN_BYTES = 256 * 1024  # a few thousand rows


@contextmanager
def byte_progress(name: str, path: str, label: str) -> Iterator[Any]:
    """A progress bar over the bytes of a file (when it is big enough to be worth one)."""
    size = Path(path).stat().st_size if path != "-" and Path(path).is_file() else 0
    if size < PROGRESS_MIN_BYTES:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{label} {name}", total=size)
        yield lambda n: progress.advance(task, n)


def show_report(report: Any, as_json: bool, noun: str, *, verb: str = "imported") -> None:
    """Print an ImportReport: counts, then every rejected line (to stderr), then suppressed ones."""
    if as_json:
        print_json(report.as_dict())
        return
    good = report.read - len(report.rejected)
    merged = f", {report.merged} already there (merged)" if report.merged else ""
    console.print(f"{report.read} read, {good} good: {report.imported} {noun} {verb}{merged}", highlight=False)
    if report.blacklisted:
        console.print(f"[yellow]{report.blacklisted} address(es) are on the black list and stay suppressed[/yellow]")
        for r in report.suppressed[:20]:
            console.print(f"  line {r.line}: {r.text} ({r.reason})", highlight=False, markup=False)
        if len(report.suppressed) > 20:
            console.print(f"  … and {report.blacklisted - 20} more (use --json for all)")
    remarks = [(w.line, w.reason) for w in getattr(report, "warnings", ())]
    remarks += [(d.line, f"{d.text} repeats line {d.first_line}") for d in getattr(report, "duplicates", ())]
    for line, remark in sorted(remarks)[:20]:
        err_console.print(f"[yellow]line {line}:[/yellow] {remark}", highlight=False)
    if len(remarks) > 20:
        err_console.print(f"  … and {len(remarks) - 20} more warning(s) (use --json for all)")
    if report.rejected:
        err_console.print(f"[red]{len(report.rejected)} line(s) rejected:[/red]")
        for r in report.rejected:
            err_console.print(f"  line {r.line}: {r.text!r}: {r.reason}", highlight=False, markup=False)


def _value(row: Any, column: str) -> Any:
    return row.get(column) if isinstance(row, Mapping) else getattr(row, column, None)


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]00:?00)?$")


def cell(value: Any) -> str:
    """A value as a person reads it: nothing for None, lists joined, fields as `name=value`, times to the second
    in UTC (`2026-12-06 13:05:09`), never a Python repr."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(cell(v) for v in value)
    text = str(value)
    found = _STAMP.match(text)
    return f"{found.group(1)} {found.group(2)}" if found else text


def table(rows: Iterable[Any], columns: list[str], title: str | None = None) -> None:
    """Rows (mappings, or a service's dataclasses) as a table of `columns`."""
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*(Text(cell(_value(r, c))) for c in columns))  # Text: a "[b]" in a name is not markup
    console.print(t)


def write_export(export: Any, output: str) -> int:
    """Write a sendwell.exports.Export as CSV to FILE or '-' (stdout); the number of rows."""
    from sendwell import csvfile

    with output_text(output) as out:
        return csvfile.write(export.rows, export.columns, out)


@contextmanager
def output_text(output: str) -> Iterator[IO[str]]:
    """A text stream for FILE, or stdout for '-'; CSV-friendly (no newline translation)."""
    if output == "-":
        yield sys.stdout
        return
    try:
        fh = open(output, "w", newline="", encoding="utf-8")  # noqa: SIM115
    except OSError as err:
        raise UserError(f"{output}: cannot write ({err.strerror})") from None
    with fh:
        yield fh
