"""Subscription form pages: list and create, show (public link, snippet, latest consents), edit, delete."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import segments
from sendwell.errors import UserError
from sendwell.forms import snippet, store
from sendwell.translations import N_
from sendwell.web.state import EngineDep, web_state
from sendwell.web.ui.forms import form_error, see_other
from sendwell.web.ui.render import gettext, render

router = APIRouter(prefix="/forms")
LABELS = {
    "name": N_("Name"),
    "segments": N_("Segments"),
    "fields": N_("Fields"),
    "from_addr": N_("Sender"),
    "slug": N_("Page address"),
    "consent_text": N_("Consent text"),
    "confirm_subject": N_("Confirmation subject"),
    "confirm_body": N_("Confirmation body"),
}


def _base(request: Request) -> str:
    return web_state(request).settings.sending.public_url or str(request.base_url)


def _list(request: Request, engine: Engine, status: int = 200, **extra: Any) -> Response:
    return render(
        request,
        "subscription_forms.html",
        status=status,
        forms=store.list_forms(engine),
        segments=segments.list_segments(engine),
        **{"values": {}, "field": None, **extra},
    )


def _show(request: Request, engine: Engine, fid: int, status: int = 200, **extra: Any) -> Response:
    form = store.get(engine, fid)
    return render(
        request,
        "subscription_form.html",
        status=status,
        form=form,
        url=snippet.form_url(form, _base(request)),
        snippet=snippet.snippet(form, _base(request)),
        segments=segments.list_segments(engine),
        consents=store.recent_consents(engine, fid),
        **{"values": form, "field": None, "saved": False, **extra},
    )


async def _values(request: Request) -> dict[str, Any]:
    data = await request.form()
    text = {k: v for k, v in data.items() if isinstance(v, str)}
    return {
        "name": text.get("name", ""),
        "segments": [v for v in data.getlist("segments") if isinstance(v, str)],
        "fields": [text.get("fields", "")],
        "from_addr": text.get("from_addr", ""),
        "double_opt_in": text.get("double_opt_in") == "1",
        "slug": text.get("slug", ""),
        "consent_text": text.get("consent_text", ""),
        "confirm_subject": text.get("confirm_subject", ""),
        "confirm_body": text.get("confirm_body", ""),
    }


@router.get("")
def forms_page(request: Request, engine: EngineDep) -> Response:
    return _list(request, engine)


@router.post("")
async def create(request: Request, engine: EngineDep) -> Response:
    v = await _values(request)
    try:
        fid = store.create(
            engine,
            v["name"],
            v["segments"],
            fields=v["fields"],
            double_opt_in=v["double_opt_in"],
            from_addr=v["from_addr"],
            default_from=web_state(request).settings.forms.from_addr,
        )
    except UserError as err:
        message, field = form_error(err, LABELS, gettext(request))
        return _list(request, engine, status=400, error=message, field=field, values=v)
    return see_other(f"/forms/{fid}")


@router.get("/{fid}")
def show(request: Request, fid: int, engine: EngineDep) -> Response:
    # `notice=saved` only picks the page's own "Saved." line: no text comes from the URL
    return _show(request, engine, fid, saved=request.query_params.get("notice") == "saved")


@router.post("/{fid}")
async def edit(request: Request, fid: int, engine: EngineDep) -> Response:
    v = await _values(request)
    try:
        store.edit(
            engine,
            fid,
            default_from=web_state(request).settings.forms.from_addr,
            segment_names=v["segments"],
            new_name=v["name"],
            fields=v["fields"],
            double_opt_in=v["double_opt_in"],
            from_addr=v["from_addr"],
            slug=v["slug"],
            consent_text=v["consent_text"],
            confirm_subject=v["confirm_subject"],
            confirm_body=v["confirm_body"],
        )
    except UserError as err:
        message, field = form_error(err, LABELS, gettext(request))
        return _show(
            request, engine, fid, status=400, error=message, field=field, values=asdict(store.get(engine, fid)) | v
        )
    return see_other(f"/forms/{fid}?notice=saved")  # Post/Redirect/GET: a reload does not save again


@router.post("/{fid}/delete")
def delete(fid: int, engine: EngineDep) -> Response:
    store.delete(engine, fid)
    return see_other("/forms")
