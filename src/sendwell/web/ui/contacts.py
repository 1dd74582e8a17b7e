"""Contacts pages: import (with a preview of the first rows and a field per column), list with filters, export
what is shown, act on chosen rows or on all matching (after a confirmation stating the count), verify with a
progress display, and one contact with its history, edit and delete. Every POST answers with a redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import blacklist, contactbulk, contactquery, contacts, exports, jobs, readers
from sendwell.columns import EMAIL, HEADER_NAMES, SKIP, default_field, field_name
from sendwell.contactbulk import Action, Selection
from sendwell.contactquery import ContactFilter
from sendwell.errors import UserError
from sendwell.forms.subscribe import consents_of
from sendwell.model import BlacklistReason, OnDuplicate
from sendwell.segments import list_segments
from sendwell.translations import N_
from sendwell.web.api.common import upload_name
from sendwell.web.csvout import csv_response
from sendwell.web.security import UserDep
from sendwell.web.state import EngineDep, SettingsDep, get_settings
from sendwell.web.ui.forms import actor, form_error, given, see_other
from sendwell.web.ui.notices import flash
from sendwell.web.ui.render import Pager, gettext, render
from sendwell.web.ui.uploads import uploads_of

router = APIRouter(prefix="/contacts")

PREVIEW_ROWS = 5
LABELS = {
    "search": N_("Address"),
    "field": N_("Field"),
    "value": N_("Value"),
    "verdict": N_("Verdict"),
    "blacklisted": N_("Black list"),
    "segment": N_("Segment"),
    "emails": N_("Selection"),
    "action": N_("Action"),
    "reason": N_("Reason"),
    "map": N_("Columns"),
    "file": N_("File"),
    "fields": N_("Fields"),
    "segments": N_("Segments"),
    "on_duplicate": N_("Duplicates"),
}
ACTIONS = {  # the pages translate these (N_ marks them for the catalogue)
    Action.ADD_TO_SEGMENT: N_("Add to segment"),
    Action.REMOVE_FROM_SEGMENT: N_("Remove from segment"),
    Action.BLACKLIST: N_("Blacklist"),
    Action.VERIFY: N_("Verify"),
    Action.DELETE: N_("Delete"),
}
Text = Annotated[str, Query(max_length=320)]


def _filter(q: str = "", field: str = "", value: str = "", verdict: str = "", blacklisted: str = "", segment: str = ""):
    return ContactFilter(q, field, value, verdict, blacklisted, segment)


def _params(flt: ContactFilter) -> dict[str, str]:
    """The filter as the page's query string spells it (`q` for the address)."""
    params = flt.as_params()
    if "search" in params:
        params["q"] = params.pop("search")
    return params


def _back(flt: ContactFilter, **extra: str) -> str:
    query = urlencode({**_params(flt), **{k: v for k, v in extra.items() if v}})
    return "/contacts" + ("?" + query if query else "")


def _back_with_error(request: Request, base: str, err: UserError) -> Response:
    """Back to the form the request came from: the message travels in the session (no URL can put words in the
    error box), the field to outline in the query string (a name the page only compares)."""
    message, field = form_error(err, LABELS, gettext(request))
    flash(request, "error", message=message)
    sep = "&" if "?" in base else "?"
    return see_other(base + (sep + urlencode({"error_field": field}) if field else ""))


@router.get("")
def contacts_page(
    request: Request,
    q: Text = "",
    field: Text = "",
    value: Annotated[str, Query(max_length=1000)] = "",
    verdict: Text = "",
    blacklisted: Text = "",
    segment: Annotated[str, Query(max_length=200)] = "",
    page: int = Query(1, ge=1, le=10**9),
    *,
    engine: EngineDep,
) -> Response:
    flt = _filter(q, field, value, verdict, blacklisted, segment)
    error = None
    error_field = request.query_params.get("error_field")
    try:
        pager = Pager(page, contactquery.count(engine, flt))
        rows = contactquery.page(engine, flt, limit=pager.size, offset=pager.offset)
    except UserError as err:
        error, error_field = form_error(err, LABELS, gettext(request))
        flt = ContactFilter()
        pager = Pager(1, contactquery.count(engine, flt))
        rows = contactquery.page(engine, flt, limit=pager.size, offset=pager.offset)
    return render(
        request,
        "contacts.html",
        status=200,
        rows=rows,
        pager=pager,
        q=flt.search,
        flt=flt,
        params=_params(flt),
        export_query=urlencode(_params(flt)),
        filtered=bool(flt.as_params()),
        field_names=contactquery.field_names(engine),
        verdicts=contactquery.VERDICTS,
        blacklist_choices=contactquery.BLACKLISTED,
        segments=[s.name for s in list_segments(engine)],
        actions=ACTIONS,
        reasons=[r.value for r in BlacklistReason],
        error=error,
        error_field=error_field,
    )


@router.get("/export.csv")
def export(
    q: Text = "",
    field: Text = "",
    value: Annotated[str, Query(max_length=1000)] = "",
    verdict: Text = "",
    blacklisted: Text = "",
    segment: Annotated[str, Query(max_length=200)] = "",
    *,
    engine: EngineDep,
) -> Response:
    """The contacts the page's filters match (every contact without a filter)."""
    flt = _filter(q, field, value, verdict, blacklisted, segment)
    with engine.connect() as conn:
        flt.conditions(conn)  # a bad filter is an error page before the first byte of the file
    return csv_response(exports.contacts(engine, flt))


# --- import ------------------------------------------------------------------------------------------


@router.post("/import")
async def import_contacts(request: Request, engine: EngineDep) -> Response:
    """Import at once (`Import`), or keep the file for a preview of its columns (`Preview columns…`)."""
    form = await request.form()
    file = form.get("file")
    if file is None or isinstance(file, str) or not given(file):  # type: ignore[arg-type]
        return _back_with_error(request, "/contacts", UserError("choose a CSV or list file to import", field="file"))
    uploads = uploads_of(request)
    token = uploads.keep(upload_name(file), file.file)  # type: ignore[arg-type]
    if form.get("preview"):
        return see_other(f"/contacts/import/{token}")
    return _run_import(request, engine, token, None, OnDuplicate.MERGE)


def _run_import(
    request: Request, engine: Engine, token: str, mapping: dict[str, str] | None, on_duplicate: str
) -> Response:
    order = contacts.name_order_of(get_settings(request))
    uploads = uploads_of(request)
    name, path = uploads.path(token)
    try:
        with path.open("rb") as stream:
            report = contacts.import_contacts(
                engine, stream, name=name, mapping=mapping, on_duplicate=on_duplicate, name_order=order
            )
    except UserError as err:
        if mapping is None:
            uploads.drop(token)
            return _back_with_error(request, "/contacts", err.blamed_on("file") if err.field is None else err)
        return _back_with_error(request, f"/contacts/import/{token}", err)
    uploads.drop(token)
    uploads.report(token, report)
    return see_other(f"/contacts/import/{token}/report")


@router.get("/import/{token}")
def import_preview(request: Request, token: str, engine: EngineDep) -> Response:
    """The first rows of the kept file, with the field each column fills (the defaults chosen) to change."""
    name, path = uploads_of(request).path(token)
    with path.open("rb") as stream:
        sample = stream.read(readers.SAMPLE_BYTES)
    headers, rows = readers.sample_rows(sample, PREVIEW_ROWS)
    # A header row (a column is named, not an address) even when no column has a name we know for addresses.
    table = readers.is_table(sample) or (len(headers) > 1 and not any("@" in h for h in headers))
    if not table:
        headers, rows = [], [[line] for line in sample.decode("utf-8", "replace").splitlines()[:PREVIEW_ROWS]]
    known = sorted({*HEADER_NAMES, *contactquery.field_names(engine)} - {EMAIL})
    columns = [
        {
            "header": h,
            "chosen": default_field(h),
            "own": field_name(h),
            "cells": [r[i] if i < len(r) else "" for r in rows],
        }
        for i, h in enumerate(headers)
    ]
    return render(
        request,
        "contacts_import.html",
        token=token,
        name=name,
        table=table,
        columns=columns,
        rows=rows,
        known=known,
        skip=SKIP,
        policies=[p.value for p in OnDuplicate],
        error=None,
        error_field=request.query_params.get("error_field"),
    )


@router.post("/import/{token}")
async def import_mapped(request: Request, token: str, engine: EngineDep) -> Response:
    """Import the kept file with the fields chosen on the preview (col_0, col_1, … by column)."""
    form = await request.form()
    name, path = uploads_of(request).path(token)
    with path.open("rb") as stream:
        headers, _ = readers.sample_rows(stream.read(readers.SAMPLE_BYTES), 0)
    mapping: dict[str, str] | None = None
    if headers and any(f"col_{i}" in form for i in range(len(headers))):
        mapping = {}
        for i, header in enumerate(headers):
            target = str(form.get(f"col_{i}", "")).strip()
            if target:
                mapping[header] = target
        if EMAIL not in mapping.values():
            err = UserError("choose the column that holds the addresses (email)", field="map")
            return _back_with_error(request, f"/contacts/import/{token}", err)
    return _run_import(request, engine, token, mapping, str(form.get("on_duplicate", OnDuplicate.MERGE.value)))


@router.get("/import/{token}/report")
def import_report(request: Request, token: str, engine: EngineDep) -> Response:
    report = uploads_of(request).report(token)
    return _list_page_with(request, engine, report=report, report_noun="contacts imported")


def _list_page_with(request: Request, engine: Engine, **extra: Any) -> Response:
    flt = ContactFilter()
    pager = Pager(1, contactquery.count(engine, flt))
    return render(
        request,
        "contacts.html",
        rows=contactquery.page(engine, flt, limit=pager.size, offset=0),
        pager=pager,
        q="",
        flt=flt,
        params={},
        export_query="",
        filtered=False,
        field_names=contactquery.field_names(engine),
        verdicts=contactquery.VERDICTS,
        blacklist_choices=contactquery.BLACKLISTED,
        segments=[s.name for s in list_segments(engine)],
        actions=ACTIONS,
        reasons=[r.value for r in BlacklistReason],
        error_field=None,
        **extra,
    )


# --- bulk actions and verification --------------------------------------------------------------------


def _selection(params: Any) -> tuple[Selection, ContactFilter]:
    flt = _filter(*(str(params.get(k, "")) for k in ("q", "field", "value", "verdict", "blacklisted", "segment")))
    everything = params.get("all") == "1"
    return Selection(tuple(str(e) for e in params.getlist("emails")), flt, everything), flt


@router.get("/bulk")
def bulk_confirm(request: Request, engine: EngineDep) -> Response:
    """What the chosen action will do and to how many contacts, with the button that does it."""
    params = request.query_params
    selection, flt = _selection(params)
    target = str(params.get("target_segment", ""))
    reason = str(params.get("reason", "manual"))
    try:
        action = contactbulk.parse_action(str(params.get("action", "")))
        if action in contactbulk.NEEDS_SEGMENT and not target:
            raise UserError("choose a segment", field="segment")
        if action is Action.BLACKLIST:
            blacklist.parse_reason(reason)
        n = contactbulk.count(engine, selection)
    except UserError as err:
        return _back_with_error(request, _back(flt), err)
    if n == 0:
        return _back_with_error(request, _back(flt), UserError("no contact is selected", field="emails"))
    return render(
        request,
        "contacts_bulk.html",
        action=action.value,
        label=ACTIONS[action],
        count=n,
        target=target,
        reason=reason,
        note=str(params.get("note", "")),
        dns=params.get("dns") == "1",
        emails=list(selection.addresses),
        everything=selection.everything,
        params=_params(flt),
        back=_back(flt),
    )


@router.post("/bulk")
async def bulk(request: Request, engine: EngineDep, settings: SettingsDep, user: UserDep) -> Response:
    form = await request.form()
    selection, flt = _selection(form)
    action_name = str(form.get("action", ""))
    try:
        action = contactbulk.parse_action(action_name)
        if action is Action.VERIFY:
            return _start_verify(request, engine, settings, selection, flt, dns=form.get("dns") == "1")
        result = contactbulk.apply(
            engine,
            selection,
            action,
            segment=str(form.get("target_segment", "")),
            reason=str(form.get("reason", "manual")),
            note=str(form.get("note", "")),
            actor=actor(user),
            source="web",
        )
    except UserError as err:
        return _back_with_error(request, _back(flt), err)
    flash(request, "contacts_done", count=result["count"], action=action.value, segment=str(form.get("target_segment")))
    return see_other(_back(flt))


@router.post("/verify")
async def verify(request: Request, engine: EngineDep, settings: SettingsDep) -> Response:
    """Verify every contact the filters match (offline, or with DNS too) on a thread; the job's page follows it."""
    form = await request.form()
    _, flt = _selection(form)
    selection = Selection(matching=flt, everything=True)
    try:
        return _start_verify(request, engine, settings, selection, flt, dns=form.get("dns") == "1")
    except UserError as err:
        return _back_with_error(request, _back(flt), err)


def _start_verify(
    request: Request, engine: Engine, settings: Any, selection: Selection, flt: ContactFilter, *, dns: bool
) -> Response:
    n = contactbulk.count(engine, selection)  # a bad filter fails here, on the form, not in the job

    def work(progress: Callable[[int, int], None]) -> dict[str, Any]:
        return contactbulk.apply(engine, selection, Action.VERIFY, settings=settings, dns=dns, progress=progress)

    t = gettext(request)
    if dns:
        title = t.ngettext("Verifying %(num)d contact with DNS", "Verifying %(num)d contacts with DNS", n)
    else:
        title = t.ngettext("Verifying %(num)d contact offline", "Verifying %(num)d contacts offline", n)
    job_id = jobs.start(engine, "verify", title % {"num": n}, work, total=n)
    return see_other(f"/contacts/jobs/{job_id}?" + urlencode(_params(flt)))


def _job_context(request: Request, engine: Engine, job_id: str) -> dict[str, Any]:
    return {"job": jobs.get(engine, job_id), "back_query": urlencode(dict(request.query_params))}


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: str, engine: EngineDep) -> Response:
    return render(request, "contacts_job.html", **_job_context(request, engine, job_id))


@router.get("/jobs/{job_id}/progress")
def job_progress(request: Request, job_id: str, engine: EngineDep) -> Response:
    """The progress block alone, polled by htmx until the job ends."""
    return render(request, "_contacts_job.html", **_job_context(request, engine, job_id))


# --- one contact ---------------------------------------------------------------------------------------


@router.get("/show")
def show_contact(request: Request, email: str = Query(..., max_length=320), *, engine: EngineDep) -> Response:
    contact = contacts.get_contact(engine, email)
    return render(
        request,
        "contact.html",
        contact=contact,
        history=contactquery.history(engine, contact.email),
        consents=consents_of(engine, contact.email),
        all_segments=[s.name for s in list_segments(engine)],
        error=None,
        error_field=request.query_params.get("error_field"),
    )


@router.post("/edit")
async def edit_contact(request: Request, engine: EngineDep) -> Response:
    """Save the edit form: name_N/value_N pairs are the fields, `segments` the segments it stays in."""
    form = await request.form()
    email = str(form.get("email", ""))
    fields: dict[str, str] = {}
    n = 0
    while f"name_{n}" in form:
        name, value = str(form.get(f"name_{n}", "")), str(form.get(f"value_{n}", ""))
        if name.strip() or value.strip():
            fields[name] = value
        n += 1
    back = "/contacts/show?" + urlencode({"email": email})
    try:
        contactbulk.update_contact(engine, email, fields, [str(s) for s in form.getlist("segments")])
    except UserError as err:
        return _back_with_error(request, back, err)
    flash(request, "contact_saved")
    return see_other(back)


@router.post("/delete")
def delete_contact(
    request: Request, email: str = Form(..., max_length=320), *, engine: EngineDep, _user: UserDep
) -> Response:
    contact = contacts.get_contact(engine, email)
    contacts.remove_contacts(engine, [email])
    flash(request, "contact_deleted", email=contact.email)
    return see_other("/contacts")
