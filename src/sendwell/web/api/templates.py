"""/api/v1/templates: layouts around a campaign's `{{ content }}`: list, create, show, edit, delete, preview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sendwell import templates
from sendwell.web.api.schemas import Deleted, TemplateDraft, TemplateEdit, TemplateIn, TemplateOut, TemplateRendered
from sendwell.web.state import EngineDep

router = APIRouter(prefix="/templates", tags=["templates"])
TemplateRef = str  # a template's id or its name (an id wins)


@router.get("", response_model=list[TemplateOut])
def list_templates(engine: EngineDep) -> list[dict[str, Any]]:
    """Every template, the built-in ones too, with the campaigns that use each."""
    return [t.as_dict() for t in templates.list_templates(engine)]


@router.post("", response_model=TemplateOut, status_code=201)
def create(body: TemplateIn, engine: EngineDep) -> dict[str, Any]:
    return templates.create_template(engine, body.name, body.html, body.text or None).as_dict()


@router.post("/preview", response_model=TemplateRendered)
def preview_draft(body: TemplateDraft) -> dict[str, str]:
    """A template not saved (yet) with a sample body and sample fields: what an editor shows beside it."""
    shown = templates.render(body.html, body.text or None)
    return {"html": shown.html, "text": shown.text}


@router.get("/{template}", response_model=TemplateOut)
def show(template: TemplateRef, engine: EngineDep) -> dict[str, Any]:
    return templates.get_template(engine, template).as_dict()


@router.get("/{template}/preview", response_model=TemplateRendered)
def preview(template: TemplateRef, engine: EngineDep) -> dict[str, str]:
    """The template with a sample body and sample fields, as HTML and text."""
    shown = templates.preview(engine, template)
    return {"html": shown.html, "text": shown.text}


@router.patch("/{template}", response_model=TemplateOut)
def edit(template: TemplateRef, body: TemplateEdit, engine: EngineDep) -> dict[str, Any]:
    """Change what is given; every draft and scheduled campaign using the template gets the change."""
    given = body.model_dump(exclude_unset=True)
    text = given.get("text")
    return templates.edit_template(
        engine,
        template,
        name=given.get("name"),
        html=given.get("html"),
        text=text or None,
        generated_text="text" in given and not text,
    ).as_dict()


@router.delete("/{template}", response_model=Deleted)
def delete(template: TemplateRef, engine: EngineDep) -> dict[str, int]:
    """Refused (400) while a campaign uses it; an edited built-in template goes back to how it shipped."""
    templates.delete_template(engine, template)
    return {"deleted": 1}
