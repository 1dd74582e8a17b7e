"""What the API routers share: paging parameters, upload names, report shaping."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, UploadFile

Limit = Annotated[int, Query(ge=1, le=1000, description="Rows per page")]
Offset = Annotated[int, Query(ge=0, le=10**12, description="Rows to skip")]
Search = Annotated[str | None, Query(max_length=320, description="Part of the address")]
NAME_MAX = 100  # upload names end up in `source` columns; a hostile filename must not overflow them


def upload_name(upload: UploadFile) -> str:
    name = (upload.filename or "upload").replace("\r", " ").replace("\n", " ").replace("\x00", "")
    return name[:NAME_MAX] or "upload"
