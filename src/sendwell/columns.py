"""Which field each column of an imported CSV fills: the header names other tools' exports use (one table,
recognised by default) and the user's own mapping (`E-Mail=email,Vorname=first_name`); pure.

A header is compared by its letters and digits only, case and accents aside: `E-Mail`, `e_mail` and `EMAIL`
are one name, and so are `Prénom` and `prenom`. A mapping names headers as the file spells them (compared the
same way) and maps each to a field name, or to `-` to leave the column out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sendwell.errors import UserError

EMAIL = "email"
SKIP = "-"  # a mapping's target that leaves the column out

# field -> the header names that fill it by default, in any of the languages our users export from.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    EMAIL: (
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "mail",
        "emailaddress",
        "address",
        "mail address",
        "e-mail-adresse",
        "emailadresse",
        "mailadresse",
        "adresse e-mail",
        "adresse email",
        "courriel",
        "adresse électronique",
        "adresse de courriel",
        "correo",
        "correo electrónico",
        "dirección de correo",
        "dirección de correo electrónico",
        "dirección de email",
        "indirizzo email",
        "indirizzo e-mail",
        "endereço de email",
        "endereço de e-mail",
        "địa chỉ email",
        "địa chỉ e-mail",
        "thư điện tử",
    ),  # fmt: skip
    "first_name": (
        "first name",
        "firstname",
        "first",
        "given name",
        "forename",
        "fname",
        "vorname",
        "prénom",
        "nombre",
        "nome",
        "tên",
        "tên gọi",
    ),  # fmt: skip
    "last_name": (
        "last name",
        "lastname",
        "last",
        "surname",
        "family name",
        "lname",
        "nachname",
        "familienname",
        "nom",
        "nom de famille",
        "apellido",
        "apellidos",
        "cognome",
        "sobrenome",
        "họ",
    ),  # fmt: skip
    "name": ("name", "full name", "fullname", "display name", "nom complet", "nombre completo", "họ và tên", "họ tên"),
    "company": (
        "company",
        "organization",
        "organisation",
        "firma",
        "unternehmen",
        "entreprise",
        "société",
        "empresa",
        "công ty",
    ),  # fmt: skip
}

_NOT_WORD = re.compile(r"[\W_]+")


def header_key(header: str) -> str:
    """The form a header is compared in: letters and digits, lower case, accents dropped (`đ` stays: it is a
    letter of its own, not a `d` with a mark)."""
    decomposed = unicodedata.normalize("NFKD", header.strip().strip('"').casefold())
    return _NOT_WORD.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)))


_DEFAULTS: dict[str, str] = {header_key(name): field for field, names in HEADER_NAMES.items() for name in names}


def field_name(header: str) -> str:
    """`First Name` -> `first_name`: a column's field when no table entry or mapping names it (usable in
    templates as `{{ first_name }}`)."""
    return _NOT_WORD.sub("_", header.strip().lower()).strip("_") or "field"


def default_field(header: str) -> str:
    """The field a header fills when no mapping names it."""
    return _DEFAULTS.get(header_key(header)) or field_name(header)


def parse_mapping(text: str, *, source: str | None = None, field: str = "map") -> dict[str, str]:
    """`E-Mail=email, Vorname=first_name` as {header: field}: pairs between commas or on lines of their own; a
    field `-` leaves the column out. `source` names the file the text came from (its lines may hold `#`
    comments, and a mistake names its line)."""
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if source is not None:
            line = line.split("#", 1)[0]
        for pair in line.split(","):
            if not pair.strip():
                continue
            header, eq, target = pair.rpartition("=")
            if not eq or not header.strip():
                where = f"{source}, line {number}: " if source is not None else ""
                raise UserError(f"{where}{pair.strip()!r} is not COLUMN=FIELD", field=field, named=source is not None)
            target = target.strip()
            mapping[header.strip()] = SKIP if target in ("", SKIP) else field_name(target)
    return mapping


@dataclass(frozen=True, slots=True)
class Columns:
    """What each column of a header fills: `email` is the address column's index (None: no such column),
    `fields` one field name per column (None for the address column and the ones left out)."""

    email: int | None
    fields: tuple[str | None, ...]


def resolve(headers: Sequence[str], mapping: Mapping[str, str] | None = None) -> Columns:
    """The columns of a header under a mapping (which wins) and the default names. A mapping that names a
    column the header lacks, or two address columns, is the user's mistake and says so."""
    keys = [header_key(h) for h in headers]
    chosen: list[str | None] = [None] * len(headers)
    for header, target in (mapping or {}).items():
        key = header_key(header)
        if key not in keys:
            shown = ", ".join(h.strip() for h in headers)
            raise UserError(f"no column {header!r} in the file (its columns: {shown})", field="map")
        for i, k in enumerate(keys):
            if k == key:
                chosen[i] = target
    fields = [c if c is not None else default_field(h) for c, h in zip(chosen, headers, strict=True)]
    email = [i for i, f in enumerate(fields) if f == EMAIL]
    mapped_email = [i for i in email if chosen[i] == EMAIL]
    if len(mapped_email) > 1:
        raise UserError("two columns are mapped to email; map one", field="map")
    index = mapped_email[0] if mapped_email else email[0] if email else _loose_email(headers, chosen)
    return Columns(index, tuple(None if i == index or f in (SKIP, EMAIL) else f for i, f in enumerate(fields)))


def _loose_email(headers: Sequence[str], chosen: list[str | None]) -> int | None:
    """The first unmapped column whose header mentions mail (`Work mail`, `E-Mail (privat)`), else None."""
    for i, h in enumerate(headers):
        if chosen[i] is None and "mail" in header_key(h):
            return i
    return None
