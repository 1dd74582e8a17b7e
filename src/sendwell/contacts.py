"""Contacts: import from CSV or pasted lists (mapping columns, merging duplicates), list, show, remove, export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Connection, Engine, func, select, text

from sendwell import contactquery
from sendwell.addresses import AddressError, NameOrder, normalize
from sendwell.blacklist import BlacklistEntry
from sendwell.db import bulk
from sendwell.db.schema import blacklist, contacts
from sendwell.errors import NotFound, UserError
from sendwell.model import Duplicate, ImportReport, OnDuplicate, Rejected
from sendwell.readers import ColumnMap, good_records

# The name order of a language whose names are written family name first, when [contacts] name_order is unset.
FAMILY_FIRST_LANGUAGES = frozenset({"vi", "zh", "ja", "ko", "hu"})

BATCH = 20_000
BATCH_BYTES = 4 << 20  # wide rows (1 KB of fields and more) flush sooner: memory stays flat whatever the width
MAX_SUPPRESSED_LISTED = 10_000  # keep the report bounded on huge imports (suppressed rows, duplicates, warnings)
SEEN = "import_seen"
_NOW = "CURRENT_TIMESTAMP"
_json_array = json.JSONEncoder(ensure_ascii=False).encode


def name_order_of(settings: Any) -> NameOrder:
    """[contacts] name_order, or when unset the order of the installation's language ([web] language): an
    installation in Vietnamese reads "Nguyễn Văn An" family name first."""
    if settings.contacts.name_order:
        return NameOrder(settings.contacts.name_order)
    return NameOrder.FAMILY_FIRST if settings.web.language in FAMILY_FIRST_LANGUAGES else NameOrder.GIVEN_FIRST


def import_contacts(
    engine: Engine,
    stream: IO[bytes],
    *,
    name: str = "<input>",
    on_read: Callable[[int], None] | None = None,
    mapping: ColumnMap | None = None,
    on_duplicate: OnDuplicate | str = OnDuplicate.MERGE,
    name_order: NameOrder = NameOrder.GIVEN_FIRST,
) -> ImportReport:
    """Import every good row; report each rejected line, each row kept with a warning, each repeated address
    (with both lines) and each blacklisted address. `mapping` names the field of a column ({header: field});
    `on_duplicate` says what a row repeating an earlier line's address does; `name_order` how the name of a
    `Name <address>` cell splits into first and last name (`name_order_of(settings)`)."""
    policy = _policy(on_duplicate)
    report = ImportReport()
    with engine.begin() as conn:
        before = conn.execute(select(func.count()).select_from(contacts)).scalar_one()
        merger = _SqliteMerge(conn, report) if conn.dialect.name == "sqlite" else _StagedMerge(conn, report)
        seen = _Seen(conn)

        def flush(batch: list[tuple]) -> None:
            firsts, repeats = seen.split(batch)
            merger.flush(firsts)
            if repeats:
                room = MAX_SUPPRESSED_LISTED - len(report.duplicates)
                report.duplicates.extend(Duplicate(r[0], first, r[2]) for r, first in repeats[:room])
                if policy is not OnDuplicate.FIRST:
                    merger.repeat([r for r, _ in repeats], policy)

        with bulk.Overlapped.on(conn, flush) as writer:  # PostgreSQL merges a batch while the next is read
            _read_batches(stream, name, report, on_read, writer.submit, mapping, name_order)
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
    mapping: ColumnMap | None = None,
    name_order: NameOrder = NameOrder.GIVEN_FIRST,
) -> None:
    batch: list[tuple] = []
    size = 0
    for record in good_records(stream, name, report, on_read, mapping=mapping, name_order=name_order):
        batch.append(record)
        size += len(record[4]) + 2 * len(record[1])
        if len(batch) >= BATCH or size >= BATCH_BYTES:
            flush(batch)
            batch, size = [], 0
    flush(batch)


def _policy(value: OnDuplicate | str) -> OnDuplicate:
    try:
        return OnDuplicate(value)
    except ValueError:
        choices = ", ".join(p.value for p in OnDuplicate)
        raise UserError(f"{value!r} is not one of {choices}", field="on_duplicate") from None


class _Seen:
    """Every address this import has read, with the line of its first row: a temporary table, so that a file
    of millions keeps memory flat. It splits each batch into first rows and repeats of an earlier line."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(f"CREATE TEMP TABLE IF NOT EXISTS {SEEN} (email text PRIMARY KEY, line bigint) ON COMMIT DROP")
            )
        else:
            conn.execute(
                text(f"CREATE TEMP TABLE IF NOT EXISTS {SEEN} (email TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")
            )
        conn.execute(text(f"DELETE FROM {SEEN}"))

    def split(self, batch: list[tuple]) -> tuple[list[tuple], list[tuple[tuple, int]]]:
        """(first rows, [(repeat, line of its first row)]), each in line order."""
        lines: dict[str, int] = {}
        for record in batch:
            lines.setdefault(record[1], record[0])
        earlier = self._earlier(list(lines)) if lines else {}
        firsts: list[tuple] = []
        repeats: list[tuple[tuple, int]] = []
        for record in batch:
            key, line = record[1], record[0]
            first = earlier.get(key, lines[key])
            if first == line and key not in earlier:
                firsts.append(record)
            else:
                repeats.append((record, first))
        self._remember([(k, v) for k, v in lines.items() if k not in earlier])
        return firsts, repeats

    def _earlier(self, keys: list[str]) -> dict[str, int]:
        if self.conn.dialect.name == "postgresql":
            sql = f"SELECT email, line FROM {SEEN} WHERE email = ANY(:keys)"
            return dict(self.conn.execute(text(sql), {"keys": keys}).all())
        sql = f"SELECT s.email, s.line FROM json_each(:keys) j JOIN {SEEN} s ON s.email = j.value"
        return dict(self.conn.execute(text(sql), {"keys": _json_array(keys)}).all())

    def _remember(self, pairs: list[tuple[str, int]]) -> None:
        if not pairs:
            return
        if self.conn.dialect.name == "postgresql":
            sql = f"INSERT INTO {SEEN} (email, line) SELECT * FROM unnest(CAST(:e AS text[]), CAST(:n AS bigint[]))"
            self.conn.execute(text(sql), {"e": [p[0] for p in pairs], "n": [p[1] for p in pairs]})
        else:
            dbapi: Any = self.conn.connection.driver_connection
            dbapi.executemany(f"INSERT INTO {SEEN} (email, line) VALUES (?, ?)", pairs)


def _repeat_sql(dialect: str, policy: OnDuplicate, params: tuple[str, str, str, str]) -> str:
    """The upsert of a row repeating an earlier line's address: its values win (last) or only fill the fields
    still empty (merge)."""
    old, new = ("contacts.fields", "excluded.fields")
    merged = bulk.json_merge(dialect, old, new) if policy is OnDuplicate.LAST else bulk.json_merge(dialect, new, old)
    email, display, domain, fields = params
    return (
        f"INSERT INTO contacts (email, display, domain, fields, created_at, updated_at) "
        f"VALUES ({email}, {display}, {domain}, {fields}, {_NOW}, {_NOW}) ON CONFLICT (email) DO UPDATE SET "
        f"fields = {merged}, updated_at = excluded.updated_at"
    )


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

    def repeat(self, rows: list[tuple], policy: OnDuplicate) -> None:
        self.cursor.executemany(_repeat_sql("sqlite", policy, ("?2", "?3", "?4", "?5")), rows)


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

    def repeat(self, rows: list[tuple], policy: OnDuplicate) -> None:
        sql = _repeat_sql("postgresql", policy, (":email", ":display", ":domain", "CAST(:fields AS json)"))
        self.conn.execute(text(sql), [{"email": r[1], "display": r[2], "domain": r[3], "fields": r[4]} for r in rows])


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
    """How many contacts (whose address contains `search`): the filter's search, contactquery's, on its own."""
    return contactquery.count(engine, contactquery.ContactFilter(search=search or ""))


def list_contacts(
    engine: Engine, *, search: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """One page of contacts (whose address contains `search`) with their black-list reason, oldest first."""
    return contactquery.page(engine, contactquery.ContactFilter(search=search or ""), limit=limit, offset=offset)


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


@dataclass(frozen=True, slots=True)
class Contact:
    """One contact with its black-list entry, if any."""

    id: int
    email: str  # the comparison key
    display: str  # as it was imported
    domain: str
    fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    verdict: str | None  # the verification's (model.Verdict); None until verified
    verdict_reasons: list[str] | None
    suggestion: str | None  # a likely correction of a typo in the domain
    verified_at: datetime | None
    blacklisted: BlacklistEntry | None


def get_contact(engine: Engine, address: str) -> Contact:
    key = _key(address)
    with engine.connect() as conn:
        row = conn.execute(select(contacts).where(contacts.c.email == key)).first()
        if row is None:
            raise NotFound(f"{address}: no such contact")
        entry = conn.execute(select(blacklist).where(blacklist.c.email == key)).first()
    return Contact(**row._mapping, blacklisted=BlacklistEntry(**entry._mapping) if entry else None)


def remove_contacts(engine: Engine, addresses: list[str]) -> int:
    keys = [_key(a) for a in addresses]
    with engine.begin() as conn:
        return conn.execute(contacts.delete().where(contacts.c.email.in_(keys))).rowcount
