"""What each export holds, one function per noun (a campaign's recipients, the black list, a segment, the
contacts), used alike by the CLI, the API and the UI; `csvfile` writes the rows.

Rows stream from the database (keyset pages); only the columns are known before the first row, so a
front end can send the header at once. Every export's first column is `email`, so any of them can be
imported again (as contacts, into a segment, onto the black list).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from sqlalchemy import Engine

from sendwell import blacklist as _blacklist
from sendwell import campaigns as _campaigns
from sendwell import contactquery, stats
from sendwell import contacts as _contacts
from sendwell import segments as _segments
from sendwell.model import parse_statuses

BLACKLIST_COLUMNS = ["email", "display", "reason", "source", "note", "actor", "created_at"]
SEGMENT_COLUMNS = ["email", "display", "added_at"]
CONTACT_COLUMNS = ["email"]  # as the contact wrote it; then one column per field, as an import reads them


@dataclass(frozen=True)
class Export:
    filename: str  # a suggestion for the download; front ends make it safe for a header
    columns: list[str]
    rows: Iterable[dict[str, Any]]


def recipients(engine: Engine, campaign: str | int, statuses: str | Iterable[str]) -> Export:
    """A campaign's recipients in `statuses` with their server's answer, then the contact's fields."""
    wanted = [s.value for s in parse_statuses(statuses)]
    columns, rows = stats.iter_recipients(engine, campaign, wanted)
    name = _campaigns.get_campaign(engine, campaign).name
    return Export(f"{name}-{'-'.join(wanted)}.csv", columns, rows)


def blacklist(engine: Engine) -> Export:
    """Every black-list entry, in address order."""
    cells = attrgetter(*BLACKLIST_COLUMNS)
    rows = (dict(zip(BLACKLIST_COLUMNS, cells(e), strict=True)) for e in _blacklist.iter_entries(engine))
    return Export("blacklist.csv", BLACKLIST_COLUMNS, rows)


def segment(engine: Engine, name: str) -> Export:
    """A segment's members, in address order (NotFound for an unknown segment, before any row)."""
    with engine.connect() as conn:
        _segments.segment_id(conn, name)  # the members' generator would only fail once the header is out
    cells = attrgetter(*SEGMENT_COLUMNS)
    rows = (dict(zip(SEGMENT_COLUMNS, cells(m), strict=True)) for m in _segments.iter_members(engine, name))
    return Export(f"segment-{name}.csv", SEGMENT_COLUMNS, rows)


def contacts(engine: Engine, matching: contactquery.ContactFilter | None = None) -> Export:
    """Every contact (or those a filter matches): its address as written, then one column per field (the union
    of every exported contact's)."""

    def each() -> Iterator[dict[str, Any]]:
        if matching is None or not matching.as_params():
            return _contacts.iter_contacts(engine)
        return contactquery.iter_matching(engine, matching)

    keys: dict[str, None] = {}
    for c in each():  # a first pass for the header: only the names are kept
        for k in c["fields"] or {}:
            keys.setdefault(k, None)
    field_columns = [k for k in keys if k not in CONTACT_COLUMNS]

    def rows() -> Iterator[dict[str, Any]]:
        for c in each():
            yield {**(c["fields"] or {}), "email": c["display"]}

    return Export("contacts.csv", CONTACT_COLUMNS + field_columns, rows())
