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
from sendwell.web.state import EngineDep
from sendwell.web.ui.forms import form_error, see_other
from sendwell.web.ui.preview import FRAME_HEADERS
from sendwell.web.ui.render import render

router = APIRouter(prefix="/templates")
LABELS = {"name": "Name", "html": "HTML", "text": "Plain text"}


@router.get("")
def templates_page(request: Request, engine: EngineDep) -> Response:
    notice = request.query_params.get("notice")
    error = request.query_params.get("error")
    return render(request, "templates.html", templates=templates.list_templates(engine), notice=notice, error=error)


def _form(
    request: Request,
    values: dict[str, Any],
    *,
    template: templates.Template | None = None,
    status: int = 200,
    error: str | None = None,
    field: str | None = None,
    notice: str | None = None,
) -> Response:
    return render(
        request,
        "template_form.html",
        status=status,
        values=values,
        layout=template,
        error=error,
        field=field,
        notice=notice,
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
        message, field = form_error(err, LABELS)
        return _form(request, values, status=400, error=message, field=field)
    return see_other(f"/templates/edit?name={quote(t.name)}&notice=saved")


@router.get("/edit")
def edit_form(request: Request, engine: EngineDep, name: str = Query(..., max_length=200)) -> Response:
    t = templates.get_template(engine, name)
    values = {"name": t.name, "html": t.html, "text": t.text or ""}
    notice = "Saved." if request.query_params.get("notice") == "saved" else None
    return _form(request, values, template=t, notice=notice)


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
        message, field = form_error(err, LABELS)
        return _form(
            request, values, template=templates.get_template(engine, original), status=400, error=message, field=field
        )
    return see_other(f"/templates/edit?name={quote(t.name)}&notice=saved")


@router.post("/delete")
def delete(original: str = Form(..., max_length=200), *, engine: EngineDep) -> Response:
    try:
        templates.delete_template(engine, original)
    except UserError as err:
        return see_other(f"/templates?error={quote(str(err))}")
    return see_other(f"/templates?notice={quote(f'Template {original!r} deleted.')}")


def _frame(html: str, text: str | None) -> HTMLResponse:
    try:
        shown = templates.render(html, text or None).html
    except UserError as err:  # a template being typed is often broken for a moment: say why in the frame
        shown = f"<pre>{escape(str(err))}</pre>"
    return HTMLResponse(shown, headers=FRAME_HEADERS)


@router.get("/preview.html", response_class=HTMLResponse)
def saved_frame(engine: EngineDep, name: str = Query(..., max_length=200)) -> Response:
    """A saved template with the sample body and fields, for the edit page's frame when it opens."""
    t = templates.get_template(engine, name)
    return _frame(t.html, t.text)


@router.post("/preview.html", response_class=HTMLResponse)
def draft_frame(html: str = Form(""), text: str = Form("")) -> Response:
    """The template as typed (not saved), for the frame beside the editor; errors are shown in the frame."""
    if not html.strip():
        return HTMLResponse("<p>(no HTML yet)</p>", headers=FRAME_HEADERS)
    return _frame(html, text)
