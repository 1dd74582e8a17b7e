"""Black list pages: paste or upload addresses, list and search, show an entry with history and evidence, remove."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import blacklist, exports
from sendwell.errors import UserError
from sendwell.model import BlacklistReason
from sendwell.web.csvout import csv_response
from sendwell.web.security import UserDep
from sendwell.web.state import EngineDep
from sendwell.web.ui.forms import actor, pasted_or_file, see_other, service_message
from sendwell.web.ui.notices import flash
from sendwell.web.ui.render import Pager, gettext, render

router = APIRouter(prefix="/blacklist")


def _page(
    request: Request, engine: Engine, q: str = "", reason: str = "", page: int = 1, status: int = 200, **extra: Any
) -> Response:
    pager = Pager(page, blacklist.count(engine, reason or None, search=q or None))
    rows = blacklist.list_entries(
        engine, reason=reason or None, search=q or None, limit=pager.size, offset=pager.offset
    )
    return render(
        request,
        "blacklist.html",
        status=status,
        rows=rows,
        pager=pager,
        q=q,
        reason=reason,
        reasons=[r.value for r in BlacklistReason],
        **{"report": None, "error": None, "form": {}, "field": None, **extra},
    )


@router.get("")
def blacklist_page(
    request: Request,
    q: str = Query("", max_length=320),
    reason: str = Query("", max_length=100),
    page: int = Query(1, ge=1, le=10**9),
    *,
    engine: EngineDep,
) -> Response:
    # "any reason" sends reason= (empty); an unknown name is shown as a message above the list, not a 400 page
    try:
        chosen = blacklist.parse_reason(reason).value if reason.strip() else ""
    except UserError as err:
        return _page(request, engine, q, "", page, status=400, error=service_message(gettext(request), err))
    return _page(request, engine, q, chosen, page)


@router.post("/add")
def add(
    request: Request,
    text: str = Form(""),
    file: UploadFile | None = File(None),
    note: str = Form("", max_length=10_000),
    *,
    engine: EngineDep,
    user: UserDep,
) -> Response:
    """Paste a list or upload a file: both go through the same import (CSV with an email column, or a list)."""
    form = {"text": text, "note": note}
    try:
        name, stream = pasted_or_file(text, file)
        report = blacklist.import_file(engine, stream, name=f"{name} (web)", note=note, actor=actor(user))
    except UserError as err:
        return _page(
            request,
            engine,
            status=400,
            error=service_message(gettext(request), err),
            field=err.field or "text",
            form=form,
        )
    if report.rejected:  # the lines to correct stay in the box, next to the reasons they were refused
        kept = "\n".join(r.text for r in report.rejected)
        return _page(
            request, engine, report=report, report_noun="addresses blacklisted", form={"text": kept, "note": note}
        )
    flash(request, "blacklist_import", read=report.read, added=report.imported, merged=report.merged)
    return see_other("/blacklist")


@router.get("/export.csv")
def export(engine: EngineDep) -> Response:
    return csv_response(exports.blacklist(engine))


@router.get("/entry")
def entry(request: Request, email: str = Query(..., max_length=320), *, engine: EngineDep) -> Response:
    return render(request, "blacklist_entry.html", data=blacklist.show(engine, email), error=None)


@router.post("/remove")
def remove(
    email: str = Form(..., max_length=320), note: str = Form("", max_length=10_000), *, engine: EngineDep, user: UserDep
) -> Response:
    report = blacklist.remove(engine, [email], note=note, actor=actor(user))
    if report.rejected:
        raise UserError(f"{email}: {report.rejected[0].reason}")
    return see_other(f"/blacklist/entry?email={quote(email)}")
