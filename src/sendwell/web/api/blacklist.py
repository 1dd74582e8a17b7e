"""/api/v1/blacklist: add, bulk import (upload or pasted text), list, export, show with evidence, remove."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse

from sendwell import blacklist, campaigns, exports
from sendwell.errors import NotFound, UserError
from sendwell.model import BlacklistReason, ImportReport
from sendwell.web.api.common import Limit, Offset, Search, upload_name
from sendwell.web.api.schemas import (
    REASON_NAMES,
    Added,
    BlacklistAdd,
    BlacklistFromCampaign,
    BlacklistRemove,
    Page,
    ReportOut,
)
from sendwell.web.csvout import csv_response
from sendwell.web.errors import blame
from sendwell.web.security import TokenDep
from sendwell.web.state import EngineDep

router = APIRouter(prefix="/blacklist", tags=["black list"])


def _actor(token: Any) -> str:
    return f"api:{token.name}"[:200]  # the history's `actor` column holds 200 characters


@router.get("", response_model=Page[blacklist.BlacklistEntry])
def list_entries(
    search: Search = None,
    reason: Annotated[str | None, Query(json_schema_extra=REASON_NAMES)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    *,
    engine: EngineDep,
) -> Page[blacklist.BlacklistEntry]:
    """Entries, newest first."""
    return Page(
        total=blacklist.count(engine, reason, search=search),
        limit=limit,
        offset=offset,
        items=blacklist.list_entries(engine, reason=reason, search=search, limit=limit, offset=offset),
    )


@router.post("", response_model=ReportOut)
def add(body: BlacklistAdd, engine: EngineDep, token: TokenDep) -> ImportReport:
    """Blacklist addresses; the bad ones are reported by position, the good ones added."""
    return blacklist.add(engine, body.addresses, reason=body.reason, source="api", note=body.note, actor=_actor(token))


@router.post("/import", response_model=ReportOut)
def import_entries(
    file: UploadFile | None = File(None, description="CSV with an email column, or a list"),
    text: str | None = Form(None, description="Pasted addresses (one per line, or separated)"),
    reason: str = Form(BlacklistReason.MANUAL.value, json_schema_extra=REASON_NAMES),
    note: str = Form("", max_length=10_000),
    *,
    engine: EngineDep,
    token: TokenDep,
) -> ImportReport:
    """Blacklist every address of an uploaded file or of pasted text (give one of `file` or `text`)."""
    if (file is None) == (text is None):
        raise UserError("give either a file or pasted text", field="file" if file is None else "text", named=True)
    if file is not None:
        with blame("file"):
            return blacklist.import_file(
                engine, file.file, name=upload_name(file), reason=reason, note=note, actor=_actor(token)
            )
    with blame("text"):
        return blacklist.import_file(
            engine,
            io.BytesIO((text or "").encode("utf-8")),
            name="pasted",
            reason=reason,
            note=note,
            actor=_actor(token),
        )


@router.post("/from-campaign", response_model=Added)
def add_from_campaign(body: BlacklistFromCampaign, engine: EngineDep, token: TokenDep) -> dict[str, int]:
    """Blacklist every recipient of a campaign in the given statuses (e.g. every `error`)."""
    camp = campaigns.get_campaign(engine, body.campaign)
    return {"added": blacklist.add_from_campaign(engine, camp.id, body.statuses, note=body.note, actor=_actor(token))}


@router.post("/remove", response_model=ReportOut)
def remove_many(body: BlacklistRemove, engine: EngineDep, token: TokenDep) -> ImportReport:
    """Lift suppressions; the history keeps who removed them and why."""
    return blacklist.remove(engine, body.addresses, note=body.note, actor=_actor(token))


@router.get("/export.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
def export(engine: EngineDep) -> StreamingResponse:
    """The whole black list as CSV, streamed in address order."""
    return csv_response(exports.blacklist(engine))


@router.get("/{email}", response_model=blacklist.BlacklistRecord)
def show(email: str, engine: EngineDep) -> blacklist.BlacklistRecord:
    """The entry (if any), its history and the events kept as evidence."""
    with blame("email"):
        return blacklist.show(engine, email)


@router.delete("/{email}", response_model=ReportOut)
def remove(email: str, note: str = "", *, engine: EngineDep, token: TokenDep) -> ImportReport:
    with blame("email"):
        if blacklist.show(engine, email).entry is None:  # show() is a 404 when it never was on the list
            raise NotFound(f"{email}: not on the black list (any more)")
    return blacklist.remove(engine, [email], note=note, actor=_actor(token))
