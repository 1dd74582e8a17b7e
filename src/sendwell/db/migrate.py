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
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Serialize concurrent starters; released at commit.
            conn.execute(text("SELECT pg_advisory_xact_lock(74211)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
