"""Contacts: import from CSV or pasted lists (merging duplicates), list, show, remove, export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from sqlalchemy import Connection, Engine, func, select, text

from sendwell.addresses import AddressError, normalize
from sendwell.db import bulk
from sendwell.db.schema import blacklist, contacts
from sendwell.errors import NotFound, UserError
from sendwell.model import ImportReport, Rejected
from sendwell.readers import good_records

BATCH = 20_000
BATCH_BYTES = 4 << 20  # wide rows (1 KB of fields and more) flush sooner: memory stays flat whatever the width
MAX_SUPPRESSED_LISTED = 10_000  # keep the report bounded on huge imports
_NOW = "CURRENT_TIMESTAMP"
_json_array = json.JSONEncoder(ensure_ascii=False).encode


def import_contacts(
    engine: Engine, stream: IO[bytes], *, name: str = "<input>", on_read: Callable[[int], None] | None = None
) -> ImportReport:
    """Import every good row; report each rejected line and each blacklisted address."""
    report = ImportReport()
    with engine.begin() as conn:
        before = conn.execute(select(func.count()).select_from(contacts)).scalar_one()
        merger = _SqliteMerge(conn, report) if conn.dialect.name == "sqlite" else _StagedMerge(conn, report)
        with bulk.Overlapped.on(conn, merger.flush) as writer:  # PostgreSQL merges a batch while the next is read
            _read_batches(stream, name, report, on_read, writer.submit)
        after = conn.execute(select(func.count()).select_from(contacts)).scalar_one()
        if after - before >= bulk.ANALYZE_AFTER:
            bulk.analyze(conn, "contacts")
    good = report.read - len(report.rejected)
    report.imported = after - before
    report.merged = good - report.imported
    return report


def _read_batches(
    stream: IO[bytes],
    name: str,
    report: ImportReport,
    on_read: Callable[[int], None] | None,
    flush: Callable[[list[tuple]], None],
) -> None:
    batch: list[tuple] = []
    size = 0
    for record in good_records(stream, name, report, on_read):
        batch.append(record)
        size += len(record[4]) + 2 * len(record[1])
        if len(batch) >= BATCH or size >= BATCH_BYTES:
            flush(batch)
            batch, size = [], 0
    flush(batch)


def _suppressed(report: ImportReport, found: Sequence[Any]) -> None:
    """Report blacklisted rows, (line, as given, reason) in line order: they stay suppressed."""
    report.blacklisted += len(found)
    room = MAX_SUPPRESSED_LISTED - len(report.suppressed)
    report.suppressed.extend(Rejected(line, shown, f"blacklisted ({why})") for line, shown, why in found[:room])


class _SqliteMerge:
    """SQLite: one upsert per row through executemany, in line order (a repeated address merges its fields in
    order and keeps its first spelling). A staging table would write every row twice; here the only extra
    statement per batch looks the batch's addresses up in the black list."""

    UPSERT = (
        f"INSERT INTO contacts (email, display, domain, fields, created_at, updated_at) "
        f"VALUES (?2, ?3, ?4, ?5, {_NOW}, {_NOW}) ON CONFLICT (email) DO UPDATE SET "
        f"fields = {bulk.json_merge('sqlite', 'contacts.fields', 'excluded.fields')}, "
        "updated_at = excluded.updated_at"
    )
    BLACKLISTED = "SELECT j.key, b.reason FROM json_each(?) j JOIN blacklist b ON b.email = j.value ORDER BY j.key"

    def __init__(self, conn: Connection, report: ImportReport) -> None:
        dbapi: Any = conn.connection.driver_connection
        self.cursor = dbapi.cursor()
        self.report = report
        # Nobody else can write while this transaction holds SQLite's write lock: an empty black list stays empty.
        self.check = conn.execute(select(blacklist.c.email).limit(1)).first() is not None

    def flush(self, batch: list[tuple]) -> None:
        if not batch:
            return
        self.cursor.executemany(self.UPSERT, batch)
        if self.check:
            found = self.cursor.execute(self.BLACKLISTED, (_json_array([r[1] for r in batch]),)).fetchall()
            _suppressed(self.report, [(batch[i][0], batch[i][2], why) for i, why in found])


class _StagedMerge:
    """PostgreSQL: COPY the batch into the stage, then one set-based statement merges it."""

    def __init__(self, conn: Connection, report: ImportReport) -> None:
        self.conn, self.report = conn, report
        self.merge, self.merge_unique = _staged_sql(repeats=True), _staged_sql(repeats=False)
        bulk.create_stage(conn)

    def flush(self, batch: list[tuple]) -> None:
        if not batch:
            return
        repeats = len({r[1] for r in batch}) < len(batch)  # a batch without repeats takes the simpler merge
        bulk.load_stage(self.conn, batch)
        self.conn.execute(text(self.merge if repeats else self.merge_unique))
        _suppressed(
            self.report,
            self.conn.execute(
                text(
                    f"SELECT s.line, s.display, b.reason FROM {bulk.STAGE} s JOIN blacklist b ON b.email = s.email "
                    "ORDER BY s.line"
                )
            ).all(),
        )
        bulk.clear_stage(self.conn)


def _staged_sql(repeats: bool) -> str:
    if repeats:
        # One row per address even when the batch repeats it (ON CONFLICT may touch a row only once):
        # the first spelling is kept, fields merge in line order.
        select_stage = (
            f"SELECT a.email, a.display, a.domain, COALESCE(f.fields, '{{}}'::jsonb)::json, {_NOW}, {_NOW} FROM "
            f"(SELECT DISTINCT ON (email) email, display, domain FROM {bulk.STAGE} ORDER BY email, line) a "
            f"LEFT JOIN (SELECT s.email, jsonb_object_agg(e.key, e.value ORDER BY s.line) AS fields "
            f"FROM {bulk.STAGE} s, jsonb_each(s.fields::jsonb) e GROUP BY s.email) f ON f.email = a.email"
        )
    else:
        select_stage = f"SELECT s.email, s.display, s.domain, s.fields::json, {_NOW}, {_NOW} FROM {bulk.STAGE} s"
    merged = bulk.json_merge("postgresql", "contacts.fields", "excluded.fields")
    return (
        f"INSERT INTO contacts (email, display, domain, fields, created_at, updated_at) {select_stage} "
        f"ON CONFLICT (email) DO UPDATE SET fields = {merged}, updated_at = excluded.updated_at"
    )


def _key(address: str) -> str:
    try:
        return normalize(address)
    except AddressError as err:
        raise UserError(f"{address!r}: {err}") from None


def count(engine: Engine, search: str | None = None) -> int:
    q = select(func.count()).select_from(contacts)
    if search:
        q = q.where(contacts.c.email.contains(search.lower(), autoescape=True))
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()


def list_contacts(
    engine: Engine, *, search: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    q = (
        select(
            contacts.c.id,
            contacts.c.email,
            contacts.c.display,
            contacts.c.fields,
            contacts.c.verdict,
            contacts.c.created_at,
            (blacklist.c.reason).label("blacklisted"),
        )
        .select_from(contacts.outerjoin(blacklist, blacklist.c.email == contacts.c.email))
        .order_by(contacts.c.id)
        .limit(limit)
        .offset(offset)
    )
    if search:
        q = q.where(contacts.c.email.contains(search.lower(), autoescape=True))
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
    q = (
        select(
            contacts.c.id,
            contacts.c.email,
            contacts.c.display,
            contacts.c.fields,
            contacts.c.verdict,
            contacts.c.created_at,
        )
        .where(contacts.c.id > last_id)
        .order_by(contacts.c.id)
        .limit(limit)
    )
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
