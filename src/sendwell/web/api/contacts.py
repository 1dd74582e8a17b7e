"""/api/v1/contacts: import by upload, list with search and paging, export, show, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import StreamingResponse

from sendwell import contacts, exports
from sendwell.columns import parse_mapping
from sendwell.model import OnDuplicate
from sendwell.web.api.common import Limit, Offset, Search, upload_name
from sendwell.web.api.schemas import Deleted, Page, ReportOut
from sendwell.web.csvout import csv_response
from sendwell.web.errors import blame
from sendwell.web.state import EngineDep

router = APIRouter(prefix="/contacts", tags=["contacts"])


@router.post("/import", response_model=ReportOut)
def import_contacts(
    file: UploadFile = File(..., description="CSV with an email column, or a plain list"),
    map: str | None = Form(None, description='Columns to fields: "E-Mail=email,Vorname=first_name" (`-`: left out)'),
    on_duplicate: OnDuplicate = Form(OnDuplicate.MERGE, description="A row repeating an earlier line's address"),
    *,
    engine: EngineDep,
) -> dict[str, Any]:
    """Import contacts from a file (read from its spooled copy, never whole in memory); bad lines are reported,
    rows kept with a missing or extra column are warned about, and repeated addresses name both lines."""
    mapping = parse_mapping(map) if map else None
    with blame("file"):
        return contacts.import_contacts(
            engine, file.file, name=upload_name(file), mapping=mapping, on_duplicate=on_duplicate
        ).as_dict()


@router.get("", response_model=Page)
def list_contacts(
    search: Search = None, limit: Limit = 100, offset: Offset = 0, *, engine: EngineDep
) -> dict[str, Any]:
    return {
        "total": contacts.count(engine, search),
        "limit": limit,
        "offset": offset,
        "items": contacts.list_contacts(engine, search=search, limit=limit, offset=offset),
    }


@router.get("/export.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
def export_contacts(engine: EngineDep) -> StreamingResponse:
    """Every contact as CSV, streamed: the address as written, then one column per field."""
    return csv_response(exports.contacts(engine))


@router.get("/{email}")
def show_contact(email: str, engine: EngineDep) -> dict[str, Any]:
    with blame("email"):
        return contacts.get_contact(engine, email)


@router.delete("/{email}", response_model=Deleted)
def delete_contact(email: str, engine: EngineDep) -> dict[str, int]:
    with blame("email"):
        contacts.get_contact(engine, email)  # 404 for an unknown address
        return {"deleted": contacts.remove_contacts(engine, [email])}
