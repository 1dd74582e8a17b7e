"""/api/v1/forms: subscription forms (create, list, show with the snippet, edit, delete, their consents), and
/api/v1/consents: the consents an address gave."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from sendwell.forms import snippet, store, subscribe
from sendwell.web.api.schemas import Deleted
from sendwell.web.state import EngineDep, SettingsDep

router = APIRouter(prefix="/forms", tags=["forms"])
consents_router = APIRouter(prefix="/consents", tags=["forms"])
FormRef = str  # a form's id or its name (an id wins)


class FormIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    segments: list[str] = Field(min_length=1, description="Segments a confirmed subscriber joins (names or ids)")
    fields: list[str] = Field(default_factory=list, description="Contact fields asked besides the address")
    double_opt_in: bool = True
    from_addr: str = Field("", max_length=400, description="Sender: 'Name <addr>'; empty: [forms] from_addr")
    slug: str | None = Field(None, max_length=64, description="The page is /f/SLUG (default: from the name)")
    consent_text: str | None = Field(None, max_length=2000)
    confirm_subject: str | None = Field(None, max_length=2000)
    confirm_body: str | None = Field(None, max_length=20_000, description="Jinja2 text with {{ confirm_url }}")


class FormEdit(BaseModel):
    """Only the fields given change; `segments` replaces the list."""

    name: str | None = Field(None, min_length=1, max_length=200)
    segments: list[str] | None = Field(None, min_length=1)
    fields: list[str] | None = None
    double_opt_in: bool | None = None
    from_addr: str | None = Field(None, max_length=400)
    slug: str | None = Field(None, max_length=64)
    consent_text: str | None = Field(None, max_length=2000)
    confirm_subject: str | None = Field(None, max_length=2000)
    confirm_body: str | None = Field(None, max_length=20_000)


class FormOut(BaseModel):
    id: int
    name: str
    slug: str
    from_addr: str
    fields: list[str]
    double_opt_in: bool
    consent_text: str
    confirm_subject: str
    confirm_body: str
    segments: list[str]
    pending: int
    confirmed: int
    created_at: datetime
    updated_at: datetime
    url: str = Field(description="The hosted page")
    snippet: str = Field(description="HTML to paste into any site; it posts to the hosted page")


class ConsentOut(BaseModel):
    id: int
    email: str
    form_id: int | None
    form_name: str
    segments: list[str]
    consent_text: str
    method: str
    submitted_at: datetime
    submitted_addr: str
    confirmed_at: datetime
    confirmed_addr: str


def _out(form: store.Form, request: Request, public_url: str) -> dict[str, Any]:
    base = public_url or str(request.base_url)
    return asdict(form) | {"url": snippet.form_url(form, base), "snippet": snippet.snippet(form, base)}


@router.get("", response_model=list[FormOut])
def list_forms(request: Request, engine: EngineDep, settings: SettingsDep) -> list[dict[str, Any]]:
    return [_out(f, request, settings.sending.public_url) for f in store.list_forms(engine)]


@router.post("", response_model=FormOut, status_code=201)
def create(body: FormIn, request: Request, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    fid = store.create(
        engine,
        body.name,
        body.segments,
        fields=body.fields,
        double_opt_in=body.double_opt_in,
        from_addr=body.from_addr,
        default_from=settings.forms.from_addr,
        slug=body.slug,
        consent_text=body.consent_text,
        confirm_subject=body.confirm_subject,
        confirm_body=body.confirm_body,
    )
    return _out(store.get(engine, fid), request, settings.sending.public_url)


@router.get("/{form}", response_model=FormOut)
def show(form: FormRef, request: Request, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    return _out(store.get(engine, form), request, settings.sending.public_url)


@router.patch("/{form}", response_model=FormOut)
def edit(form: FormRef, body: FormEdit, request: Request, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    given = body.model_dump(exclude_unset=True)
    changed = store.edit(
        engine,
        form,
        default_from=settings.forms.from_addr,
        segment_names=given.pop("segments", None),
        new_name=given.pop("name", None),
        **given,
    )
    return _out(changed, request, settings.sending.public_url)


@router.delete("/{form}", response_model=Deleted)
def delete(form: FormRef, engine: EngineDep) -> dict[str, int]:
    """Delete the form and its pending subscriptions; the consents it collected stay."""
    store.delete(engine, form)
    return {"deleted": 1}


@router.get("/{form}/consents", response_model=list[ConsentOut])
def form_consents(form: FormRef, limit: int = Query(100, ge=1, le=1000), *, engine: EngineDep) -> list[dict[str, Any]]:
    """The latest consents the form collected, newest first."""
    return store.recent_consents(engine, form, limit)


@consents_router.get("", response_model=list[ConsentOut])
def consents_of(email: str = Query(..., max_length=320), *, engine: EngineDep) -> list[dict[str, Any]]:
    """Every consent an address gave (time, client address, form, the exact text agreed to), newest first."""
    return subscribe.consents_of(engine, email)
