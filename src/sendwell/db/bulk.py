"""Bulk loading through a temporary staging table: executemany on SQLite, COPY on PostgreSQL.

Imports stream rows into the stage in batches; one set-based statement per batch then merges the
stage into the real table, so per-row work stays in C and memory stays flat. (The contact import on
SQLite skips the stage: its upsert through executemany writes each row once instead of twice.)
Also here: refreshing PostgreSQL's planner statistics and visibility after bulk changes, and `Overlapped`, which
lets the server merge one batch while Python reads the next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.exc import DBAPIError

STAGE = "import_stage"
STAGE_COLUMNS = ("line", "email", "display", "domain", "fields")
ANALYZE_AFTER = 10_000  # rows changed by one import before the planner's statistics are refreshed
log = logging.getLogger("sendwell.db")


def create_stage(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (line bigint, email text, display text, "
                "domain text, fields text) ON COMMIT DELETE ROWS"
            )
        )
    else:
        conn.execute(
            text(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (line INTEGER, email TEXT, display TEXT, "
                "domain TEXT, fields TEXT)"
            )
        )
    conn.execute(text(f"DELETE FROM {STAGE}"))


def load_stage(conn: Connection, rows: Sequence[tuple]) -> None:
    """Append (line, email, display, domain, fields_json) tuples to the stage."""
    if not rows:
        return
    dbapi: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with dbapi.cursor() as cur, cur.copy(f"COPY {STAGE} ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cur = dbapi.cursor()
        cur.executemany(f"INSERT INTO {STAGE} VALUES (?, ?, ?, ?, ?)", rows)
        cur.close()


def clear_stage(conn: Connection) -> None:
    # PostgreSQL: TRUNCATE, not DELETE: temporary tables are never vacuumed, and the dead rows of every earlier
    # batch would be scanned again by each later merge (quadratic over a million-row import).
    conn.execute(text(f"TRUNCATE {STAGE}" if conn.dialect.name == "postgresql" else f"DELETE FROM {STAGE}"))


def analyze(conn: Connection, *tables: str) -> None:
    """Refresh the planner's statistics after a bulk change, inside the caller's transaction.

    PostgreSQL plans from statistics that only ANALYZE (or autovacuum, which may be off or late) gathers:
    right after a million-row load it still believes the table is nearly empty and picks nested loops.
    SQLite's planner does well on its own with these schemas (its indexes are unique or selective).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {', '.join(tables)}"))


def vacuum(engine: Engine, table: str) -> None:
    """VACUUM a table after a bulk insert has committed, as autovacuum would (it may be off, or a minute late).

    PostgreSQL only. An index-only scan skips a row only on a page VACUUM has marked all-visible: until then
    the audience fetches each segment member's row for its spelling (db/schema.py, segment_members). It scans
    the pages not yet all-visible (55 ms for 900,000 fresh members), and the indexes too when rows were deleted.
    Best effort: it skips the table while another session holds a conflicting lock (a VACUUM, an ANALYZE in
    an open transaction), marks nothing that an older open snapshot may not see, never truncates the table
    (that would lock out the audiences reading it), and a failure is logged, not raised: the rows are in.
    """
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM (SKIP_LOCKED, TRUNCATE false) {table}"))
    except DBAPIError as err:
        log.warning("VACUUM %s after a bulk insert failed (autovacuum will do it): %s", table, err.orig)


def json_merge(dialect: str, old: str, new: str) -> str:
    """SQL that merges two JSON objects, keys of `new` winning."""
    if dialect == "postgresql":
        return f"({old}::jsonb || {new}::jsonb)::json"
    return f"json_patch({old}, {new})"


def refresh_stale_statistics(conn: Connection, *tables: str) -> None:
    """ANALYZE the tables whose rows changed by a tenth since their statistics were taken (as autovacuum would,
    when it is off or has not come round yet) before a big statement is planned on them. PostgreSQL only."""
    if conn.dialect.name != "postgresql":
        return
    stale = (
        conn.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname IN :tables "
                "AND n_mod_since_analyze > 0.1 * n_live_tup + 1000"
            ).bindparams(bindparam("tables", expanding=True)),
            {"tables": list(tables)},
        )
        .scalars()
        .all()
    )
    if stale:
        analyze(conn, *stale)


class Overlapped:
    """Runs `write(batch)` on one worker thread, a batch at a time, while the caller reads the next batch.

    For PostgreSQL: the server merges a batch while Python parses the next one (psycopg releases the GIL
    while it waits), so an import takes about the longer of the two instead of their sum. One batch is
    written while one is read: memory stays two batches. The connection is only ever used by one thread
    at a time: `submit` and leaving the block wait for the batch in flight first.

    Not for SQLite (`threaded=False` writes in the caller's thread): its driver takes the GIL back after every
    row, which a parsing thread holds for its whole switch interval.
    """

    def __init__(self, write: Callable[[list[tuple]], None], *, threaded: bool = True) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sendwell-bulk") if threaded else None
        self._pending: Future[None] | None = None

    @classmethod
    def on(cls, conn: Connection, write: Callable[[list[tuple]], None]) -> Overlapped:
        """Overlapped on PostgreSQL, in the caller's thread on SQLite."""
        return cls(write, threaded=conn.dialect.name == "postgresql")

    def submit(self, batch: list[tuple]) -> None:
        self.wait()
        if not batch:
            return
        if self._pool is None:
            self._write(batch)
        else:
            self._pending = self._pool.submit(self._write, batch)

    def wait(self) -> None:
        """Until the batch in flight is written; its error, if any, is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> Overlapped:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.wait()
            elif self._pending is not None:
                self._pending.exception()  # the caller's error wins; the connection is free again before rollback
        finally:
            if self._pool is not None:
                self._pool.shutdown()
