"""Bulk loading through a temporary staging table: executemany on SQLite, COPY on PostgreSQL.

Imports stream rows into the stage in batches; one set-based statement per batch then merges the
stage into the real table, so per-row work stays in C and memory stays flat.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

STAGE = "import_stage"
STAGE_COLUMNS = ("line", "email", "display", "domain", "fields")


def create_stage(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (line bigint, email text, display text, "
                          "domain text, fields text) ON COMMIT DELETE ROWS"))
    else:
        conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (line INTEGER, email TEXT, display TEXT, "
                          "domain TEXT, fields TEXT)"))
    conn.execute(text(f"DELETE FROM {STAGE}"))


def load_stage(conn: Connection, rows: Sequence[tuple]) -> None:
    """Append (line, email, display, domain, fields_json) tuples to the stage."""
    if not rows:
        return
    dbapi = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with dbapi.cursor() as cur, cur.copy(f"COPY {STAGE} ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cur = dbapi.cursor()
        cur.executemany(f"INSERT INTO {STAGE} VALUES (?, ?, ?, ?, ?)", rows)
        cur.close()


def clear_stage(conn: Connection) -> None:
    conn.execute(text(f"DELETE FROM {STAGE}"))


def json_merge(dialect: str, old: str, new: str) -> str:
    """SQL that merges two JSON objects, keys of `new` winning."""
    if dialect == "postgresql":
        return f"({old}::jsonb || {new}::jsonb)::json"
    return f"json_patch({old}, {new})"
