"""Migration 0018_no_message_id_index: the ledger's Message-ID index goes, and comes back going down; both databases."""

from alembic import command
from sqlalchemy import inspect, text

from sendwell.db import migrate
from sendwell.db.engine import make_engine

from .test_migrations import blank_url  # noqa: F401 - blank_url is a fixture


def _indexed(engine) -> set[tuple[str, ...]]:
    with engine.connect() as conn:
        return {tuple(ix["column_names"]) for ix in inspect(conn).get_indexes("recipients")}


def _definition(engine) -> str | None:
    """The index's SQL as the database keeps it (None when there is none)."""
    sql = (
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_recipients_message_id'"
        if engine.dialect.name == "postgresql"
        else "SELECT sql FROM sqlite_master WHERE name = 'ix_recipients_message_id'"
    )
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_migration_0018_drops_the_message_id_index_and_puts_it_back_going_down(blank_url):  # noqa: F811
    engine = make_engine(blank_url)
    cfg = migrate._config(engine)
    for step, revision, has_index in (
        (command.upgrade, "0017_campaign_language", True),
        (command.upgrade, "0018_no_message_id_index", False),
        (command.downgrade, "0017_campaign_language", True),
    ):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            step(cfg, revision)
        assert (("message_id",) in _indexed(engine)) is has_index, revision
        if has_index:  # partial, as 0001 made it: rows not sent yet have no entry
            assert "message_id is not null" in " ".join(_definition(engine).lower().replace("(", " ").split())
        assert ("campaign_id", "status", "next_attempt_at") in _indexed(engine)
    engine.dispose()
