"""Bulk loading through a temporary staging table: executemany on SQLite, COPY on PostgreSQL.

Imports stream rows into the stage in batches; one set-based statement per batch then merges the
stage into the real table, so per-row work stays in C and memory stays flat.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

STAGE = "import_stage"
STAGE_COLUMNS = ("line", "email", "display", "domain", "fields")
ANALYZE_AFTER = 10_000  # rows changed by one import before the planner's statistics are refreshed


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


def json_merge(dialect: str, old: str, new: str) -> str:
    """SQL that merges two JSON objects, keys of `new` winning."""
    if dialect == "postgresql":
        return f"({old}::jsonb || {new}::jsonb)::json"
    return f"json_patch({old}, {new})"
