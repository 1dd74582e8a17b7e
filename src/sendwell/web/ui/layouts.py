"""Layout template pages (the templates a campaign's body is set into): the list, and one page to create or edit
a template with a code editor for its HTML and a live preview beside it. The preview is a form post into a
sandboxed frame (the page's own preview button, pressed by editor.js after a pause in typing), answered with the
frame's strict policy: the page works without JavaScript."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from sendwell import templates
from sendwell.errors import UserError
from sendwell.translations import N_
from sendwell.web.state import EngineDep
from sendwell.web.ui.forms import form_error, see_other, service_message
from sendwell.web.ui.notices import flash
from sendwell.web.ui.preview import FRAME_HEADERS
from sendwell.web.ui.render import gettext, language_of, render

router = APIRouter(prefix="/templates")
LABELS = {"name": N_("Name"), "html": "HTML", "text": N_("Plain text")}


@router.get("")
def templates_page(request: Request, engine: EngineDep) -> Response:
    return render(request, "templates.html", templates=templates.list_templates(engine))


def _form(
    request: Request,
    values: dict[str, Any],
    *,
    template: templates.Template | None = None,
    status: int = 200,
    error: str | None = None,
    field: str | None = None,
    saved: bool = False,
) -> Response:
    return render(
        request,
        "template_form.html",
        status=status,
        values=values,
        layout=template,
        error=error,
        field=field,
        saved=saved,
    )


@router.get("/new")
def new_form(request: Request, engine: EngineDep, start: str = Query("simple", max_length=200)) -> Response:
    """A new template, started from a built-in (or any) one."""
    try:
        t = templates.get_template(engine, start)
    except UserError:
        t = templates.get_template(engine, "simple")
    return _form(request, {"name": "", "html": t.html, "text": t.text or "", "start": t.name})


@router.post("/new")
def create(
    request: Request,
    name: str = Form("", max_length=200),
    html: str = Form(""),
    text: str = Form(""),
    *,
    engine: EngineDep,
) -> Response:
    values = {"name": name, "html": html, "text": text, "start": "simple"}
    try:
        t = templates.create_template(engine, name, html, text if text.strip() else None)
    except UserError as err:
        message, field = form_error(err, LABELS, gettext(request))
        return _form(request, values, status=400, error=message, field=field)
    return see_other(f"/templates/edit?name={quote(t.name)}&notice=saved")


@router.get("/edit")
def edit_form(request: Request, engine: EngineDep, name: str = Query(..., max_length=200)) -> Response:
    t = templates.get_template(engine, name)
    values = {"name": t.name, "html": t.html, "text": t.text or ""}
    # `notice=saved` only picks the page's own "Saved." line: no text comes from the URL
    return _form(request, values, template=t, saved=request.query_params.get("notice") == "saved")


@router.post("/edit")
def edit(
    request: Request,
    original: str = Form(..., max_length=200),
    name: str = Form("", max_length=200),
    html: str = Form(""),
    text: str = Form(""),
    *,
    engine: EngineDep,
) -> Response:
    values = {"name": name, "html": html, "text": text}
    try:
        t = templates.edit_template(
            engine, original, name=name, html=html, text=text if text.strip() else None, generated_text=not text.strip()
        )
    except UserError as err:
        message, field = form_error(err, LABELS, gettext(request))
        return _form(
            request, values, template=templates.get_template(engine, original), status=400, error=message, field=field
        )
    return see_other(f"/templates/edit?name={quote(t.name)}&notice=saved")


@router.post("/delete")
def delete(request: Request, original: str = Form(..., max_length=200), *, engine: EngineDep) -> Response:
    try:
        built_in = templates.get_template(engine, original).built_in
        templates.delete_template(engine, original)
    except UserError as err:  # shown on the list, where the button was
        message = service_message(gettext(request), err)
        return render(request, "templates.html", status=400, templates=templates.list_templates(engine), error=message)
    flash(request, "template_restored" if built_in else "template_deleted", name=original)
    return see_other("/templates")


def _frame(request: Request, html: str, text: str | None) -> HTMLResponse:
    try:
        shown = templates.render(html, text or None, language=language_of(request)).html  # the reader's words
    except UserError as err:  # a template being typed is often broken for a moment: say why in the frame
        shown = f"<pre>{escape(service_message(gettext(request), err))}</pre>"
    return HTMLResponse(shown, headers=FRAME_HEADERS)


@router.get("/preview.html", response_class=HTMLResponse)
def saved_frame(request: Request, engine: EngineDep, name: str = Query(..., max_length=200)) -> Response:
    """A saved template with the sample body and fields, for the edit page's frame when it opens."""
    t = templates.get_template(engine, name)
    return _frame(request, t.html, t.text)


@router.post("/preview.html", response_class=HTMLResponse)
def draft_frame(request: Request, html: str = Form(""), text: str = Form("")) -> Response:
    """The template as typed (not saved), for the frame beside the editor; errors are shown in the frame."""
    if not html.strip():
        return HTMLResponse(f"<p>{escape(gettext(request).gettext('(no HTML yet)'))}</p>", headers=FRAME_HEADERS)
    return _frame(request, html, text)
