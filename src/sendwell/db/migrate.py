"""Apply Alembic migrations programmatically; several processes may start at once."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "sendwell.db:migrations")
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    cfg = _config(engine)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # A migration that rebuilds a table (copy, drop, rename) must not fire the foreign-key actions of
            # the drop: other tables' references would be set to NULL. SQLite's documented procedure turns
            # enforcement off outside the transaction and checks every reference before committing.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # not in a transaction
        try:
            with conn.begin():
                if not sqlite:
                    # Serialize concurrent starters; released at commit.
                    conn.execute(text("SELECT pg_advisory_xact_lock(74211)"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                if sqlite and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
