"""Subscription forms: create, list, show, edit, delete; each form names the segments a confirmed subscriber joins."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any

import jinja2
import jinja2.meta
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from sendwell.addresses import AddressError, parse_address
from sendwell.db.engine import inserted_id, utcnow
from sendwell.db.schema import consents, form_segments, forms, pending_contacts, segments
from sendwell.errors import NotFound, UserError
from sendwell.forms import defaults
from sendwell.model import row_id

FIELD = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_FIELDS = 10
_ENV = jinja2.Environment(autoescape=False)
EDITABLE = ("from_addr", "fields", "double_opt_in", "consent_text", "confirm_subject", "confirm_body", "slug")


def sender_name(from_addr: str) -> str:
    """The sender as the public pages name it: the display name, else the address."""
    name, addr = parseaddr(from_addr)
    return name or addr


def default_consent(from_addr: str) -> str:
    """The consent sentence a new form starts with (stored in English, shown in each person's language)."""
    who = sender_name(from_addr)
    return defaults.CONSENT % {"sender": who} if who else defaults.CONSENT_NO_SENDER


def slugify(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:64].strip("-") or "form"


def _check_from(from_addr: str) -> str:
    from_addr = from_addr.strip()
    if not from_addr:
        return ""
    _, addr = parseaddr(from_addr)
    try:
        parse_address(addr)
    except AddressError as err:
        raise UserError(f"{from_addr!r}: {err}", field="from_addr") from None
    return from_addr


def _check_fields(given: Sequence[str]) -> list[str]:
    names = [f.strip().lower() for item in given for f in item.split(",") if f.strip()]
    for name in names:
        if not FIELD.match(name) or name == "email":
            raise UserError(
                f"{name!r} is not a field name: use lower-case letters, digits and _ (the address is always asked)",
                field="fields",
            )
    if len(names) > MAX_FIELDS:
        raise UserError(f"at most {MAX_FIELDS} fields ({len(names)} given)", field="fields")
    return list(dict.fromkeys(names))


def _check_template(source: str, field: str, needs: str | None = None) -> str:
    try:
        used = jinja2.meta.find_undeclared_variables(_ENV.parse(source))
    except jinja2.TemplateSyntaxError as err:
        raise UserError(f"template error on line {err.lineno}: {err.message}", field=field) from None
    if not source.strip():
        raise UserError("must not be empty", field=field)
    if needs and needs not in used:
        raise UserError(f"must contain {{{{ {needs} }}}}, the confirmation link", field=field)
    return source


def _check_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise UserError(f"{slug!r}: use lower-case letters, digits and - (at most 64)", field="slug")
    return slug


def _segment_ids(conn: Connection, names: Sequence[str]) -> list[int]:
    if not names:
        raise UserError("name at least one segment the subscribers join", field="segments")
    ids = []
    for name in names:
        sid = conn.execute(select(segments.c.id).where(segments.c.name == name)).scalar()
        if sid is None and (rid := row_id(name)) is not None:
            sid = conn.execute(select(segments.c.id).where(segments.c.id == rid)).scalar()
        if sid is None:
            raise NotFound(f"segment {name!r} does not exist", field="segments")
        ids.append(sid)
    return list(dict.fromkeys(ids))


def _free_slug(conn: Connection, base: str) -> str:
    slug, n = base, 1
    while conn.execute(select(forms.c.id).where(forms.c.slug == slug)).first() is not None:
        n += 1
        slug = f"{base[:60]}-{n}"
    return slug


def _need_sender(double_opt_in: bool, from_addr: str, default_from: str) -> None:
    if double_opt_in and not (from_addr or default_from):
        raise UserError(
            "a form that sends confirmations needs a sender address, e.g. 'News <news@example.com>'", field="from_addr"
        )


def create(
    engine: Engine,
    name: str,
    segment_names: Sequence[str],
    *,
    fields: Sequence[str] = (),
    double_opt_in: bool = True,
    from_addr: str = "",
    default_from: str = "",
    slug: str | None = None,
    consent_text: str | None = None,
    confirm_subject: str | None = None,
    confirm_body: str | None = None,
) -> int:
    """Create a form; `default_from` is the installation's sender, used when the form names none."""
    name = name.strip()
    if not name:
        raise UserError("must not be empty", field="name")
    from_addr = _check_from(from_addr)
    _need_sender(double_opt_in, from_addr, default_from)
    values = {
        "name": name,
        "from_addr": from_addr,
        "fields": _check_fields(fields),
        "double_opt_in": double_opt_in,
        "consent_text": (consent_text or "").strip() or default_consent(from_addr or default_from),
        "confirm_subject": _check_template(confirm_subject or defaults.SUBJECT, "confirm_subject"),
        "confirm_body": _check_template(confirm_body or defaults.BODY, "confirm_body", "confirm_url"),
    }
    try:
        with engine.begin() as conn:
            ids = _segment_ids(conn, segment_names)
            values["slug"] = _check_slug(slug) if slug else _free_slug(conn, slugify(name))
            now = utcnow()
            fid = inserted_id(conn.execute(forms.insert().values(**values, created_at=now, updated_at=now)))
            conn.execute(form_segments.insert(), [{"form_id": fid, "segment_id": s} for s in ids])
            return fid
    except IntegrityError:
        raise UserError(f"a form named {name!r} or at address {slug!r} already exists", field="name") from None


def _find(conn: Connection, name_or_id: str | int) -> Any:
    row = None
    if (rid := row_id(name_or_id)) is not None:
        row = conn.execute(select(forms).where(forms.c.id == rid)).first()
    if row is None:
        row = conn.execute(select(forms).where(forms.c.name == str(name_or_id))).first()
    if row is None:
        raise NotFound(f"form {name_or_id!r} does not exist")
    return row


@dataclass(frozen=True, slots=True)
class Form:
    """A subscription form with the names of the segments it fills and its pending and confirmed counts."""

    id: int
    name: str
    slug: str  # its public page is /f/<slug>
    from_addr: str  # the sender named on the page and of the confirmation mail ("": the installation's)
    fields: list[str]  # contact fields asked besides the address
    double_opt_in: bool
    consent_text: str  # what the person agrees to
    confirm_subject: str  # Jinja2 templates of the confirmation mail
    confirm_body: str
    created_at: datetime
    updated_at: datetime
    segments: list[str]
    pending: int  # subscriptions waiting for their confirmation
    confirmed: int  # consents collected


def _full(conn: Connection, row: Any) -> Form:
    names = conn.execute(
        select(segments.c.name)
        .join(form_segments, form_segments.c.segment_id == segments.c.id)
        .where(form_segments.c.form_id == row.id)
        .order_by(segments.c.name)
    ).scalars()
    pending = conn.execute(
        select(func.count())
        .select_from(pending_contacts)
        .where(pending_contacts.c.form_id == row.id, pending_contacts.c.expires_at > utcnow())
    ).scalar_one()
    confirmed = conn.execute(
        select(func.count()).select_from(consents).where(consents.c.form_id == row.id)
    ).scalar_one()
    return Form(**row._mapping, segments=list(names), pending=pending, confirmed=confirmed)


def find(conn: Connection, name_or_id: str | int) -> Form:
    """`get` inside a caller's transaction."""
    return _full(conn, _find(conn, name_or_id))


def get(engine: Engine, name_or_id: str | int) -> Form:
    """A form by id or name, with its segments' names and its pending and confirmed counts."""
    with engine.connect() as conn:
        return _full(conn, _find(conn, name_or_id))


def by_slug(engine: Engine, slug: str) -> Form | None:
    """The form at /f/<slug>, or None (the public page answers 404 without naming anything)."""
    with engine.connect() as conn:
        row = conn.execute(select(forms).where(forms.c.slug == slug)).first()
        return _full(conn, row) if row is not None else None


def list_forms(engine: Engine) -> list[Form]:
    with engine.begin() as conn:
        # the expired pending subscriptions go now too (submissions and confirmations also drop them)
        conn.execute(pending_contacts.delete().where(pending_contacts.c.expires_at <= utcnow()))
        return [_full(conn, row) for row in conn.execute(select(forms).order_by(forms.c.name))]


def edit(
    engine: Engine,
    name_or_id: str | int,
    *,
    default_from: str = "",
    segment_names: Sequence[str] | None = None,
    new_name: str | None = None,
    **changes: Any,
) -> Form:
    """Change what is given (None: keep); returns the form as `get` shows it."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise UserError(f"cannot change {', '.join(sorted(unknown))}")
    given = {k: v for k, v in changes.items() if v is not None}
    if "from_addr" in given:
        given["from_addr"] = _check_from(given["from_addr"])
    if "fields" in given:
        given["fields"] = _check_fields(given["fields"])
    if "slug" in given:
        given["slug"] = _check_slug(given["slug"])
    if "consent_text" in given and not given["consent_text"].strip():
        raise UserError("must not be empty", field="consent_text")
    if "confirm_subject" in given:
        _check_template(given["confirm_subject"], "confirm_subject")
    if "confirm_body" in given:
        _check_template(given["confirm_body"], "confirm_body", "confirm_url")
    if new_name is not None:
        if not new_name.strip():
            raise UserError("must not be empty", field="name")
        given["name"] = new_name.strip()
    try:
        with engine.begin() as conn:
            row = _find(conn, name_or_id)
            merged = {**dict(row._mapping), **given}
            _need_sender(merged["double_opt_in"], merged["from_addr"], default_from)
            if given:
                conn.execute(forms.update().where(forms.c.id == row.id).values(**given, updated_at=utcnow()))
            if segment_names is not None:
                ids = _segment_ids(conn, segment_names)
                conn.execute(form_segments.delete().where(form_segments.c.form_id == row.id))
                conn.execute(form_segments.insert(), [{"form_id": row.id, "segment_id": s} for s in ids])
            return _full(conn, _find(conn, row.id))
    except IntegrityError:
        raise UserError("another form has this name or address", field="name") from None


def delete(engine: Engine, name_or_id: str | int) -> None:
    """Delete a form and its pending subscriptions; the consents it collected stay (with the form's name)."""
    with engine.begin() as conn:
        row = _find(conn, name_or_id)
        conn.execute(consents.update().where(consents.c.form_id == row.id).values(form_id=None))
        conn.execute(pending_contacts.delete().where(pending_contacts.c.form_id == row.id))
        conn.execute(form_segments.delete().where(form_segments.c.form_id == row.id))
        conn.execute(forms.delete().where(forms.c.id == row.id))


def recent_consents(engine: Engine, name_or_id: str | int, limit: int = 50) -> list[dict[str, Any]]:
    """The latest consents the form collected, newest first."""
    with engine.connect() as conn:
        fid = _find(conn, name_or_id).id
        rows = conn.execute(
            select(consents).where(consents.c.form_id == fid).order_by(consents.c.id.desc()).limit(limit)
        )
        return [dict(r._mapping) for r in rows]
