"""Apply Alembic migrations programmatically; several processes may start at once."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from sendwell.errors import UserError


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "sendwell.db:migrations")
    cfg.attributes["engine"] = engine
    return cfg


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _one_migrator(engine: Engine) -> Iterator[None]:
    """SQLite: one process migrates, the others wait for it (an flock on `<file>-migrate`). Rebuilding a big
    ledger takes longer than SQLite's 30 s busy timeout, after which a second starter would fail with
    "database is locked". PostgreSQL serializes starters with an advisory lock inside the transaction."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    fd = os.open(path + "-migrate", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _broken_references(conn: Connection) -> set[tuple]:
    return {tuple(row) for row in conn.exec_driver_sql("PRAGMA foreign_key_check").all()}


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    """Run one Alembic command in one transaction.

    SQLite: a migration that rebuilds a table (copy, drop, rename) must not fire the foreign-key actions
    of the drop (other tables' references would be set to NULL), so enforcement is turned off outside the
    transaction and every reference is checked before committing (SQLite's documented procedure);
    references that were already broken before (a hand edit with the sqlite3 shell) are not ours to judge.
    """
    cfg = _config(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")  # not in a transaction: inside one it is ignored
            assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 0
        try:
            with conn.begin():
                if not sqlite:
                    # Serialize concurrent starters; released at commit.
                    conn.execute(text("SELECT pg_advisory_xact_lock(74211)"))
                before = _broken_references(conn) if sqlite else set()
                cfg.attributes["connection"] = conn
                step(cfg)
                if sqlite and (new := _broken_references(conn) - before):
                    tables = sorted({row[0] for row in new})
                    raise UserError(
                        f"the database migration would leave {len(new)} broken reference(s) in "
                        f"{', '.join(tables)} (first: {sorted(new)[0]}); nothing was changed"
                    )
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine) -> None:
    head = ScriptDirectory.from_config(_config(engine)).get_current_head()
    if _revision(engine) == head:
        return
    with _one_migrator(engine):
        if _revision(engine) != head:  # another process may have done it while we waited
            _run(engine, lambda cfg: command.upgrade(cfg, "head"))


def downgrade(engine: Engine, revision: str) -> None:
    """Go back to `revision` (for an operator rolling back a release; the same care as upgrade)."""
    with _one_migrator(engine):
        _run(engine, lambda cfg: command.downgrade(cfg, revision))
