"""The one CSV writer of every export (CLI, API, UI, demo): cells a spreadsheet would run as formulas are
neutralised, and imports read such cells back as they were; pure.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula (or becomes one) in
Excel, LibreOffice and Google Sheets: a contact field `=HYPERLINK(...)` or `@SUM(...)` would run when the
export is opened. Such a cell is written with a single quote in front (OWASP's rule), which spreadsheets
show as text. Two kinds of value are left alone or given back whole:

- a plain number (`-12`, `+3.5`, `-1,000.25`: sign, digits, `.` and `,` only) cannot call anything and is
  written as is, so amounts and scores stay numbers;
- the quote is reversible: a value that already starts with quotes before one of those characters gets one
  more, and `restore` (used by every CSV import) removes exactly one. An address such as `-joe@example.com`
  is exported as `'-joe@example.com` and imported again as `-joe@example.com`, never as another address.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import IO, Any

CHUNK_ROWS = 1000  # rows per streamed chunk: an export of millions never sits in memory
_FORMULA = re.compile(r"'*[=+\-@\t\r]")  # what a spreadsheet reads as a formula, behind any quotes already there
_NUMBER = re.compile(r"[+-]?[0-9][0-9.,]*\Z")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")
_to_json = json.JSONEncoder(ensure_ascii=False).encode  # built once: json.dumps(...) rebuilds it per call
_NESTED = (dict, list)


def neutralise(text: str) -> str:
    """The text as a cell a spreadsheet shows and never runs."""
    if text and _FORMULA.match(text) and not _NUMBER.match(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    """The value `neutralise` was given: one leading quote less before a formula character (import side)."""
    return text[1:] if text[:1] == "'" and _QUOTED.match(text) else text


def cell(value: Any) -> str:
    """A value as CSV cell text: nothing for None, JSON for a nested value, ISO 8601 (UTC) for a time."""
    if value is None:
        return ""
    if value.__class__ in _NESTED:
        text = _to_json(value)
    elif isinstance(value, datetime):
        text = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    else:
        text = str(value)
    return neutralise(text)


def chunks(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> Iterator[str]:
    """The CSV text, header first, a chunk of CHUNK_ROWS rows at a time (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(c) for c in columns])
    batch: list[list[str]] = []
    for row in rows:
        batch.append([cell(row.get(c)) for c in columns])
        if len(batch) == CHUNK_ROWS:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


def write(rows: Iterable[Mapping[str, Any]], columns: list[str], out: IO[str]) -> int:
    """Write the CSV to a text stream (opened with newline=""); the number of rows written."""
    writer = csv.writer(out)
    writer.writerow([neutralise(c) for c in columns])
    n = 0
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
        n += 1
    return n
