"""Segment pages: create from a pasted list or a file, show, add or remove members, export, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import exports, segments
from sendwell.errors import UserError
from sendwell.model import ImportReport
from sendwell.readers import read_text
from sendwell.web.csvout import csv_response
from sendwell.web.state import EngineDep
from sendwell.web.ui.forms import pasted_or_file, see_other, service_message
from sendwell.web.ui.notices import flash
from sendwell.web.ui.render import Pager, gettext, render

router = APIRouter(prefix="/segments")


def _list(request: Request, engine: Engine, status: int = 200, **extra: Any) -> Response:
    return render(
        request,
        "segments.html",
        status=status,
        segments=segments.list_segments(engine),
        **{"error": None, "form": {}, "field": None, **extra},
    )


def _show(request: Request, engine: Engine, sid: int, page: int = 1, status: int = 200, **extra: Any) -> Response:
    name = segments.name_of(engine, sid)
    total = segments.show(engine, name, limit=1).members
    pager = Pager(page, total)
    data = segments.show(engine, name, limit=pager.size, offset=pager.offset)
    return render(
        request,
        "segment.html",
        status=status,
        seg=data,
        pager=pager,
        **{"report": None, "error": None, "form": {}, "field": None, **extra},
    )


def _name(engine: Engine, sid: int) -> str:
    return segments.name_of(engine, sid)  # NotFound (a 404 page) for an unknown id


@router.get("")
def segments_page(request: Request, engine: EngineDep) -> Response:
    return _list(request, engine)


@router.post("")
def create(
    request: Request,
    name: str = Form(..., max_length=200),
    description: str = Form("", max_length=10_000),
    text: str = Form(""),
    file: UploadFile | None = File(None),
    *,
    engine: EngineDep,
) -> Response:
    """A new segment, filled from the pasted custom recipient list and/or the uploaded file."""
    form = {"name": name, "description": description, "text": text}
    try:
        source = pasted_or_file(text, file, required=False)
        sid = segments.create(engine, name, description)
    except UserError as err:
        return _list(
            request,
            engine,
            status=400,
            error=service_message(gettext(request), err),
            form=form,
            field=err.field or "name",
        )
    if source is not None:
        try:
            report = segments.import_members(engine, name.strip(), source[1], source_name=source[0])
        except UserError as err:
            return _refused(request, engine, sid, err, text)
        return _added(request, engine, sid, report)
    flash(request, "segment_created", members=0)
    return see_other(f"/segments/{sid}")


def _refused(request: Request, engine: Engine, sid: int, err: UserError, text: str) -> Response:
    """Members refused as a whole (an unreadable file, say): the segment's page with the error and the text kept."""
    error = service_message(gettext(request), err)
    return _show(request, engine, sid, status=400, error=error, field="text", form={"text": text})


def _added(request: Request, engine: Engine, sid: int, report: ImportReport) -> Response:
    """Members added: a notice after a redirect, or the page with the refused lines kept in the box."""
    if report.rejected:
        kept = "\n".join(r.text for r in report.rejected)
        return _show(request, engine, sid, report=report, form={"text": kept})
    flash(
        request,
        "members_added",
        read=report.read,
        added=report.imported,
        merged=report.merged,
        blacklisted=report.blacklisted,
    )
    return see_other(f"/segments/{sid}")


@router.get("/{sid}")
def show(request: Request, sid: int, page: int = Query(1, ge=1, le=10**9), *, engine: EngineDep) -> Response:
    return _show(request, engine, sid, page)


@router.post("/{sid}/add")
def add(
    request: Request, sid: int, text: str = Form(""), file: UploadFile | None = File(None), *, engine: EngineDep
) -> Response:
    name = _name(engine, sid)
    try:
        source_name, stream = pasted_or_file(text, file)
        report = segments.import_members(engine, name, stream, source_name=source_name)
    except UserError as err:
        return _refused(request, engine, sid, err, text)
    return _added(request, engine, sid, report)


@router.post("/{sid}/remove")
def remove(request: Request, sid: int, text: str = Form(...), *, engine: EngineDep) -> Response:
    name = _name(engine, sid)
    addresses = [row.text for row in read_text(text)]
    report = segments.remove(engine, name, addresses)
    if report.rejected:
        return _show(request, engine, sid, report=report, report_noun="members removed")
    flash(request, "members_removed", removed=report.imported)
    return see_other(f"/segments/{sid}")


@router.post("/{sid}/public")
def public(request: Request, sid: int, public: str = Form(...), *, engine: EngineDep) -> Response:
    """List the segment on the preference page behind the unsubscribe link, or take it off."""
    from sendwell.forms import preferences

    preferences.set_public(engine, _name(engine, sid), public == "1")
    return see_other(f"/segments/{sid}")  # the page says where it is listed now


@router.get("/{sid}/export.csv")
def export(sid: int, engine: EngineDep) -> Response:
    return csv_response(exports.segment(engine, _name(engine, sid)))


@router.post("/{sid}/delete")
def delete(sid: int, engine: EngineDep) -> Response:
    segments.delete(engine, _name(engine, sid))
    return see_other("/segments")
