"""Migration 0018_no_message_id_index: the ledger's Message-ID index goes, and comes back going down; both databases."""

from alembic import command
from sqlalchemy import inspect

from sendwell.db import migrate
from sendwell.db.engine import make_engine

from .test_migrations import blank_url  # noqa: F401 - blank_url is a fixture


def _indexed(engine) -> set[tuple[str, ...]]:
    with engine.connect() as conn:
        return {tuple(ix["column_names"]) for ix in inspect(conn).get_indexes("recipients")}


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
        assert ("campaign_id", "status", "next_attempt_at") in _indexed(engine)
    engine.dispose()
