"""Contacts: import from CSV or pasted lists (merging duplicates), list, show, remove, export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from sqlalchemy import Engine, func, select, text

from sendwell.addresses import AddressError, normalize
from sendwell.db import bulk
from sendwell.db.schema import blacklist, contacts
from sendwell.errors import NotFound, UserError
from sendwell.model import ImportReport, Rejected
from sendwell.readers import good_rows

BATCH = 20_000
BATCH_BYTES = 4 << 20  # wide rows (1 KB of fields and more) flush sooner: memory stays flat whatever the width
_to_json = json.JSONEncoder(ensure_ascii=False).encode  # built once: json.dumps(..., ensure_ascii=False) rebuilds it
MAX_SUPPRESSED_LISTED = 10_000  # keep the report bounded on huge imports


def import_contacts(engine: Engine, stream: IO[bytes], *, name: str = "<input>",
                    on_read: Callable[[int], None] | None = None) -> ImportReport:
    """Import every good row; report each rejected line and each blacklisted address."""
    report = ImportReport()
    dialect = engine.dialect.name
    merge, merge_unique = _merge_sql(dialect, repeats=True), _merge_sql(dialect, repeats=False)
    with engine.begin() as conn:
        before = conn.execute(select(func.count()).select_from(contacts)).scalar_one()
        bulk.create_stage(conn)
        batch: list[tuple] = []
        keys: set[str] = set()  # a batch without repeated addresses takes the simpler merge
        size = 0
        for row in good_rows(stream, name, report, on_read):
            a = row.address
            keys.add(a.key)
            fields = _to_json(row.fields) if row.fields else "{}"
            batch.append((row.line, a.key, a.display, a.domain, fields))
            size += len(fields) + 2 * len(a.key)
            if len(batch) >= BATCH or size >= BATCH_BYTES:
                _flush(conn, batch, merge if len(keys) < len(batch) else merge_unique, report)
                batch, keys, size = [], set(), 0
        _flush(conn, batch, merge if len(keys) < len(batch) else merge_unique, report)
        after = conn.execute(select(func.count()).select_from(contacts)).scalar_one()
    good = report.read - len(report.rejected)
    report.imported = after - before
    report.merged = good - report.imported
    return report


def _merge_sql(dialect: str, repeats: bool) -> str:
    now = "CURRENT_TIMESTAMP"
    if dialect == "postgresql" and repeats:
        # One row per address even when the batch repeats it (ON CONFLICT may touch a row only once):
        # the first spelling is kept, fields merge in line order.
        select_stage = (
            f"SELECT a.email, a.display, a.domain, COALESCE(f.fields, '{{}}'::jsonb)::json, {now}, {now} FROM "
            f"(SELECT DISTINCT ON (email) email, display, domain FROM {bulk.STAGE} ORDER BY email, line) a "
            f"LEFT JOIN (SELECT s.email, jsonb_object_agg(e.key, e.value ORDER BY s.line) AS fields "
            f"FROM {bulk.STAGE} s, jsonb_each(s.fields::jsonb) e GROUP BY s.email) f ON f.email = a.email")
    else:
        fields = "s.fields::json" if dialect == "postgresql" else "s.fields"
        select_stage = (f"SELECT s.email, s.display, s.domain, {fields}, {now}, {now} FROM {bulk.STAGE} s "
                        "WHERE true ORDER BY s.line")
    merged = bulk.json_merge(dialect, "contacts.fields", "excluded.fields")
    return (f"INSERT INTO contacts (email, display, domain, fields, created_at, updated_at) {select_stage} "
            f"ON CONFLICT (email) DO UPDATE SET fields = {merged}, updated_at = excluded.updated_at")


def _flush(conn, batch: list[tuple], merge: str, report: ImportReport) -> None:  # noqa: ANN001
    if not batch:
        return
    bulk.load_stage(conn, batch)
    conn.execute(text(merge))
    suppressed = conn.execute(text(
        f"SELECT s.line, s.display, b.reason FROM {bulk.STAGE} s JOIN blacklist b ON b.email = s.email "
        "ORDER BY s.line")).all()
    report.blacklisted += len(suppressed)
    room = MAX_SUPPRESSED_LISTED - len(report.suppressed)
    report.suppressed.extend(Rejected(line, shown, f"blacklisted ({why})") for line, shown, why in suppressed[:room])
    bulk.clear_stage(conn)


def _key(address: str) -> str:
    try:
        return normalize(address)
    except AddressError as err:
        raise UserError(f"{address!r}: {err}") from None


def count(engine: Engine, search: str | None = None) -> int:
    q = select(func.count()).select_from(contacts)
    if search:
        q = q.where(contacts.c.email.contains(search.lower()))
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()


def list_contacts(engine: Engine, *, search: str | None = None, limit: int = 100,
                  offset: int = 0) -> list[dict[str, Any]]:
    q = (select(contacts.c.id, contacts.c.email, contacts.c.display, contacts.c.fields, contacts.c.verdict,
                contacts.c.created_at, (blacklist.c.reason).label("blacklisted"))
         .select_from(contacts.outerjoin(blacklist, blacklist.c.email == contacts.c.email))
         .order_by(contacts.c.id).limit(limit).offset(offset))
    if search:
        q = q.where(contacts.c.email.contains(search.lower()))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def iter_contacts(engine: Engine, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every contact, streamed by keyset pagination (flat memory on any size)."""
    last = 0
    while True:
        rows = list_after(engine, last, batch)
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]


def list_after(engine: Engine, last_id: int, limit: int) -> list[dict[str, Any]]:
    q = (select(contacts.c.id, contacts.c.email, contacts.c.display, contacts.c.fields, contacts.c.verdict,
                contacts.c.created_at)
         .where(contacts.c.id > last_id).order_by(contacts.c.id).limit(limit))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def get_contact(engine: Engine, address: str) -> dict[str, Any]:
    key = _key(address)
    with engine.connect() as conn:
        row = conn.execute(select(contacts).where(contacts.c.email == key)).first()
        if row is None:
            raise NotFound(f"{address}: no such contact")
        entry = conn.execute(select(blacklist).where(blacklist.c.email == key)).first()
    data = dict(row._mapping)
    data["blacklisted"] = dict(entry._mapping) if entry else None
    return data


def remove_contacts(engine: Engine, addresses: list[str]) -> int:
    keys = [_key(a) for a in addresses]
    with engine.begin() as conn:
        return conn.execute(contacts.delete().where(contacts.c.email.in_(keys))).rowcount
