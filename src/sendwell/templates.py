"""Templates: layouts that hold a campaign's frame (header, footer, styles, the unsubscribe block) around its
`{{ content }}`; create, list, show, edit, delete, and render one with a sample body.

Two built-in layouts ship with the package (src/sendwell/layouts/<name>.html): they are listed and usable without
being stored, and stored the first time a campaign uses one or someone edits it. Deleting an edited built-in brings
the shipped one back.

A campaign reads its template when its messages are built, so an edit reaches every draft and scheduled campaign
that uses it. Editing a template while a campaign using it is sending, or deleting one any campaign uses, is
refused: the messages of one campaign never mix two layouts, and a sent campaign keeps showing what it sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any

import jinja2
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from sendwell import compose
from sendwell.db.engine import inserted_id, utcnow
from sendwell.db.schema import campaigns, templates
from sendwell.errors import Hint, NotFound, UserError
from sendwell.model import CampaignState, row_id

BUILT_IN = ("newsletter", "simple")

# What a template's preview fills in: a body standing for the campaign's, and one recipient's fields.
SAMPLE_BODY = (
    "<h1>The campaign's body goes here</h1>\n"
    "<p>Each campaign that uses this template puts its own message where the template says "
    "<code>{{ '{{ content }}' }}</code>. Merge fields work here too: hello, {{ first_name | default('there') }}.</p>\n"
    '<p><a href="https://example.com/">A link</a></p>'
)
SAMPLE_FIELDS = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace"}
SAMPLE_UNSUBSCRIBE = "https://example.com/unsubscribe"


@dataclass(frozen=True, slots=True)
class Template:
    id: int | None  # None: a built-in layout as shipped (not stored yet)
    name: str
    html: str
    text: str | None  # None: the plain-text part is generated from the HTML
    created_at: datetime | None
    updated_at: datetime | None
    used_by: tuple[str, ...] = ()  # the campaigns that use it, by name
    built_in: bool = False

    @property
    def edited(self) -> bool:
        """A built-in layout changed from how it shipped."""
        return self.built_in and self.html != shipped(self.name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "built_in": self.built_in,
            "edited": self.edited,
            "html": self.html,
            "text": self.text,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "used_by": list(self.used_by),
        }


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    text: str


# A layout may mark the words sendwell writes as the built-in ones do (layoutwords): `{% trans %}` and `_()`.
_PARSER = jinja2.Environment(extensions=["jinja2.ext.i18n"])


def _check_source(field: str, source: str) -> str:
    try:
        _PARSER.parse(source)
    except jinja2.TemplateSyntaxError as err:
        raise UserError(f"template error on line {err.lineno}: {err.message}", field=field) from None
    if not compose.CONTENT.search(source):
        raise UserError("has no {{ content }}: put it where the campaign's body goes", field=field)
    return source


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UserError("must not be empty", field="name")
    if len(name) > 200:
        raise UserError("must be at most 200 characters", field="name")
    return name


def shipped(name: str) -> str:
    """A built-in layout's HTML as the package ships it."""
    return (files("sendwell") / "layouts" / f"{name}.html").read_text("utf-8")


def _stored(conn: Connection, name_or_id: str | int) -> Any:
    if (rid := row_id(name_or_id)) is not None:
        row = conn.execute(select(templates).where(templates.c.id == rid)).first()
        if row is not None:
            return row
    return conn.execute(select(templates).where(templates.c.name == str(name_or_id).strip())).first()


def _missing(name_or_id: str | int) -> NotFound:
    return NotFound(f"template {name_or_id!r} does not exist", hint=Hint.LIST_TEMPLATES)


def _row(conn: Connection, name_or_id: str | int) -> Any:
    """The stored template; a built-in one is stored first (in the caller's transaction)."""
    row = _stored(conn, name_or_id)
    if row is None and str(name_or_id).strip() in BUILT_IN:
        name, now = str(name_or_id).strip(), utcnow()
        conn.execute(
            templates.insert().values(name=name, html=shipped(name), text=None, created_at=now, updated_at=now)
        )
        row = _stored(conn, name)
    if row is None:
        raise _missing(name_or_id)
    return row


def _used_by(conn: Connection, template_id: int) -> list[Any]:
    q = select(campaigns.c.name, campaigns.c.state).where(campaigns.c.template_id == template_id)
    return list(conn.execute(q.order_by(campaigns.c.name)).all())


def _of(conn: Connection, row: Any) -> Template:
    used = tuple(r.name for r in _used_by(conn, row.id))
    return Template(row.id, row.name, row.html, row.text, row.created_at, row.updated_at, used, row.name in BUILT_IN)


def _as_shipped(name: str) -> Template:
    return Template(None, name, shipped(name), None, None, None, (), True)


def template_id(conn: Connection, name_or_id: str | int) -> int:
    """The id of a template a campaign names (a built-in one is stored on first use)."""
    return int(_row(conn, name_or_id).id)


def create_template(engine: Engine, name: str, html: str, text: str | None = None) -> Template:
    name = _check_name(name)
    if name in BUILT_IN:
        raise UserError(f"template {name!r} is built in: edit it, or choose another name", field="name", named=True)
    values = {
        "name": name,
        "html": _check_source("html", html),
        "text": _check_source("text", text) if text else None,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    try:
        with engine.begin() as conn:
            tid = inserted_id(conn.execute(templates.insert().values(**values)))
            return _of(conn, _row(conn, tid))
    except IntegrityError:
        raise UserError(f"template {name!r} already exists", field="name", named=True) from None


def get_template(engine: Engine, name_or_id: str | int) -> Template:
    with engine.connect() as conn:
        row = _stored(conn, name_or_id)
        if row is not None:
            return _of(conn, row)
    if str(name_or_id).strip() in BUILT_IN:
        return _as_shipped(str(name_or_id).strip())
    raise _missing(name_or_id)


def list_templates(engine: Engine) -> list[Template]:
    """Every stored template and the built-in ones not stored, by name."""
    with engine.connect() as conn:
        rows = conn.execute(select(templates).order_by(templates.c.name)).all()
        used: dict[int, list[str]] = {}
        q = select(campaigns.c.template_id, campaigns.c.name).where(campaigns.c.template_id.is_not(None))
        for tid, cname in conn.execute(q.order_by(campaigns.c.name)):
            used.setdefault(tid, []).append(cname)
    found = [
        Template(
            r.id, r.name, r.html, r.text, r.created_at, r.updated_at, tuple(used.get(r.id, ())), r.name in BUILT_IN
        )
        for r in rows
    ]
    found += [_as_shipped(n) for n in BUILT_IN if n not in {t.name for t in found}]
    return sorted(found, key=lambda t: t.name)


def edit_template(
    engine: Engine,
    name_or_id: str | int,
    *,
    name: str | None = None,
    html: str | None = None,
    text: str | None = None,
    generated_text: bool = False,
) -> Template:
    """Change what is given; `generated_text` drops the template's own text (it is then generated from the HTML)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _check_name(name)
    if html is not None:
        changes["html"] = _check_source("html", html)
    if generated_text:
        changes["text"] = None
    elif text is not None:
        changes["text"] = _check_source("text", text) if text.strip() else None
    try:
        with engine.begin() as conn:
            row = _row(conn, name_or_id)
            if changes.get("name", row.name) != row.name and changes["name"] in BUILT_IN:
                raise UserError(f"template {changes['name']!r} is built in: choose another name", field="name")
            sending = [r.name for r in _used_by(conn, row.id) if r.state == CampaignState.SENDING]
            if sending and ("html" in changes or "text" in changes):
                raise UserError(
                    f"template {row.name!r} is used by campaign {sending[0]!r}, which is sending: "
                    "change it once that campaign is done, or make a copy under another name"
                )
            if changes:
                conn.execute(templates.update().where(templates.c.id == row.id).values(**changes, updated_at=utcnow()))
            return _of(conn, _row(conn, row.id))
    except IntegrityError:
        raise UserError(f"template {name!r} already exists", field="name", named=True) from None


def delete_template(engine: Engine, name_or_id: str | int) -> None:
    """Refused while any campaign uses the template (a sent one too: it keeps showing what it sent). A built-in
    layout goes back to how it shipped."""
    with engine.begin() as conn:
        row = _stored(conn, name_or_id)
        if row is None:
            if str(name_or_id).strip() in BUILT_IN:
                raise UserError(f"template {str(name_or_id).strip()!r} is built in and as shipped: nothing to delete")
            raise _missing(name_or_id)
        used = [r.name for r in _used_by(conn, row.id)]
        if used:
            shown = ", ".join(repr(n) for n in used[:3]) + (f" and {len(used) - 3} more" if len(used) > 3 else "")
            raise UserError(
                f"template {row.name!r} is used by {len(used)} campaign(s): {shown}; "
                "delete those campaigns or give them another template first"
            )
        conn.execute(templates.delete().where(templates.c.id == row.id))


def render(
    html: str,
    text: str | None = None,
    body: str = SAMPLE_BODY,
    fields: dict[str, Any] | None = None,
    language: str = "en",
) -> Rendered:
    """A layout (saved or being typed) with a sample body and one sample recipient's fields, as HTML and text,
    its own words in `language`."""
    sources = compose.compose(body, None, compose.BodyFormat.HTML, html, text or None, language)
    ctx = dict(SAMPLE_FIELDS if fields is None else fields)
    ctx.setdefault("unsubscribe_url", SAMPLE_UNSUBSCRIBE)
    try:
        out_html = jinja2.Environment(autoescape=True).from_string(sources.html or "").render(ctx)
        out_text = jinja2.Environment(autoescape=False).from_string(sources.text or "").render(ctx)
    except jinja2.TemplateError as err:
        line = f" on line {err.lineno}" if isinstance(err, jinja2.TemplateSyntaxError) else ""
        raise UserError(f"template error{line}: {err.message}", field="html") from None
    except Exception as err:  # e.g. arithmetic on a text field: the sender's builder fails the same way
        raise UserError(f"the template cannot be rendered: {type(err).__name__}: {err}", field="html") from None
    return Rendered(out_html, out_text)


def preview(engine: Engine, name_or_id: str | int, language: str = "en") -> Rendered:
    t = get_template(engine, name_or_id)
    return render(t.html, t.text, language=language)
