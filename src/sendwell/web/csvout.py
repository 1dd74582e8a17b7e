"""An export as a streamed CSV download: what it holds comes from sendwell.exports, the text from sendwell.csvfile."""

from __future__ import annotations

from fastapi.responses import StreamingResponse

from sendwell import csvfile
from sendwell.exports import Export


def csv_response(export: Export) -> StreamingResponse:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in export.filename) or "export.csv"
    return StreamingResponse(
        csvfile.chunks(export.rows, export.columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )
