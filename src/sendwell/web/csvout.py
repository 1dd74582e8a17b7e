"""Stream rows as CSV, a chunk of rows at a time, so an export of millions never sits in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.responses import StreamingResponse

CHUNK_ROWS = 1000
_to_json = json.JSONEncoder(ensure_ascii=False).encode  # built once: json.dumps(...) rebuilds it per call
_NESTED = (dict, list)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if value.__class__ in _NESTED:
        return _to_json(value)
    return value


def csv_chunks(rows: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    batch: list[list[Any]] = []
    for row in rows:
        batch.append([_cell(row.get(c)) for c in columns])
        if len(batch) == CHUNK_ROWS:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


def csv_response(rows: Iterable[dict[str, Any]], columns: list[str], filename: str) -> StreamingResponse:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename) or "export.csv"
    return StreamingResponse(csv_chunks(rows, columns), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{safe}"'})
