"""Contacts pages: import by upload, list and search, show one, delete one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import contacts, exports
from sendwell.errors import UserError
from sendwell.web.api.common import upload_name
from sendwell.web.csvout import csv_response
from sendwell.web.security import UserDep
from sendwell.web.state import EngineDep
from sendwell.web.ui.forms import given, see_other
from sendwell.web.ui.render import Pager, render

router = APIRouter(prefix="/contacts")


def _page(request: Request, engine: Engine, q: str, page: int, status: int = 200, **extra: Any) -> Response:
    pager = Pager(page, contacts.count(engine, q or None))
    rows = contacts.list_contacts(engine, search=q or None, limit=pager.size, offset=pager.offset)
    return render(
        request, "contacts.html", status=status, rows=rows, pager=pager, q=q, **{"report": None, "error": None, **extra}
    )


@router.get("")
def contacts_page(
    request: Request, q: str = Query("", max_length=320), page: int = Query(1, ge=1, le=10**9), *, engine: EngineDep
) -> Response:
    return _page(request, engine, q, page)


@router.post("/import")
def import_contacts(request: Request, file: UploadFile | None = File(None), *, engine: EngineDep) -> Response:
    if file is None or not given(file):
        return _page(request, engine, "", 1, status=400, error="choose a CSV or list file to import")
    try:
        report = contacts.import_contacts(engine, file.file, name=upload_name(file))
    except UserError as err:
        return _page(request, engine, "", 1, status=400, error=str(err))
    return _page(request, engine, "", 1, report=report, report_noun="contacts imported")


@router.get("/export.csv")
def export(engine: EngineDep) -> Response:
    return csv_response(exports.contacts(engine))


@router.get("/show")
def show_contact(request: Request, email: str = Query(..., max_length=320), *, engine: EngineDep) -> Response:
    return render(request, "contact.html", contact=contacts.get_contact(engine, email))


@router.post("/delete")
def delete_contact(email: str = Form(..., max_length=320), *, engine: EngineDep, _user: UserDep) -> Response:
    contacts.get_contact(engine, email)
    contacts.remove_contacts(engine, [email])
    return see_other("/contacts")
