"""/api/v1/contacts: import by upload, list and export with filters, show with history, edit, delete, bulk actions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine

from sendwell import contactbulk, contactquery, contacts, exports
from sendwell.columns import parse_mapping
from sendwell.model import OnDuplicate
from sendwell.web.api.common import Limit, Offset, Search, upload_name
from sendwell.web.api.schemas import BulkIn, BulkOut, ContactEdit, ContactOut, Deleted, Page, ReportOut
from sendwell.web.csvout import csv_response
from sendwell.web.errors import blame
from sendwell.web.security import TokenDep
from sendwell.web.state import EngineDep, SettingsDep

router = APIRouter(prefix="/contacts", tags=["contacts"])


@router.post("/import", response_model=ReportOut)
def import_contacts(
    file: UploadFile = File(..., description="CSV with an email column, or a plain list"),
    map: str | None = Form(None, description='Columns to fields: "E-Mail=email,Vorname=first_name" (`-`: left out)'),
    on_duplicate: OnDuplicate = Form(OnDuplicate.MERGE, description="A row repeating an earlier line's address"),
    *,
    engine: EngineDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Import contacts from a file (read from its spooled copy, never whole in memory); bad lines are reported,
    rows kept with a missing or extra column are warned about, and repeated addresses name both lines."""
    mapping = parse_mapping(map) if map else None
    with blame("file"):
        return contacts.import_contacts(
            engine,
            file.file,
            name=upload_name(file),
            mapping=mapping,
            on_duplicate=on_duplicate,
            name_order=contacts.name_order_of(settings),
        ).as_dict()


def contact_filter(
    search: Search = None,
    field: Annotated[str, Query(max_length=200, description="A field's name")] = "",
    value: Annotated[str, Query(max_length=1000, description="Part of that field's value (none: it is set)")] = "",
    verdict: Annotated[str, Query(description="valid, risky, invalid, unknown or unchecked")] = "",
    blacklisted: Annotated[str, Query(description="yes, no, or a black-list reason")] = "",
    segment: Annotated[str, Query(max_length=200, description="A segment's name")] = "",
) -> contactquery.ContactFilter:
    return contactquery.ContactFilter(search or "", field, value, verdict, blacklisted, segment)


FilterDep = Annotated[contactquery.ContactFilter, Depends(contact_filter)]


@router.get("", response_model=Page)
def list_contacts(matching: FilterDep, limit: Limit = 100, offset: Offset = 0, *, engine: EngineDep) -> dict[str, Any]:
    """The contacts a filter matches (by address, field value, verdict, black-list status, segment), paged."""
    return {
        "total": contactquery.count(engine, matching),
        "limit": limit,
        "offset": offset,
        "items": contactquery.page(engine, matching, limit=limit, offset=offset),
    }


@router.get("/export.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
def export_contacts(matching: FilterDep, engine: EngineDep) -> StreamingResponse:
    """The contacts a filter matches (all by default) as CSV, streamed: the address as written, then one column
    per field."""
    with engine.connect() as conn:
        matching.conditions(conn)  # a bad filter is a 400 before the first byte of the export
    return csv_response(exports.contacts(engine, matching))


@router.post("/bulk", response_model=BulkOut)
def bulk(body: BulkIn, engine: EngineDep, settings: SettingsDep, token: TokenDep) -> dict[str, Any]:
    """Act on the chosen contacts or on all a filter matches: add to / remove from a segment, blacklist with a
    reason, verify (synchronously), delete."""
    selection = contactbulk.Selection(
        tuple(body.emails),
        contactquery.ContactFilter(**body.filter.model_dump()) if body.filter else contactquery.ContactFilter(),
        body.all_matching,
    )
    return contactbulk.apply(
        engine,
        selection,
        body.action,
        segment=body.segment,
        reason=body.reason,
        note=body.note,
        actor=f"api:{token.name}"[:200],
        source="api",
        settings=settings,
        dns=body.dns,
    )


def _with_history(engine: Engine, contact: contacts.Contact) -> dict[str, Any]:
    return asdict(contact) | asdict(contactquery.history(engine, contact.email))


@router.get("/{email}", response_model=ContactOut)
def show_contact(email: str, engine: EngineDep) -> dict[str, Any]:
    """The contact, its fields, verdict, black-list entry, and its history: campaigns (with its status there),
    events, black-list changes, segments."""
    with blame("email"):
        contact = contacts.get_contact(engine, email)
    return _with_history(engine, contact)


@router.patch("/{email}", response_model=ContactOut)
def edit_contact(email: str, body: ContactEdit, engine: EngineDep) -> dict[str, Any]:
    """Replace its fields (and, when given, its segments); the contact as `GET` shows it."""
    with blame("email"):
        contactbulk.update_contact(engine, email, body.fields, body.segments)
        contact = contacts.get_contact(engine, email)
    return _with_history(engine, contact)


@router.delete("/{email}", response_model=Deleted)
def delete_contact(email: str, engine: EngineDep) -> dict[str, int]:
    with blame("email"):
        contacts.get_contact(engine, email)  # 404 for an unknown address
        return {"deleted": contacts.remove_contacts(engine, [email])}
