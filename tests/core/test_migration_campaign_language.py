"""Migration 0017_campaign_language: campaigns made before it stay English, and a stored built-in layout exactly as
it shipped before gets the marked words (an edited one is left alone); up and down on both databases."""

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from sendwell import templates
from sendwell.db import migrate
from sendwell.db.engine import make_engine

from .test_migrations import blank_url  # noqa: F401 - blank_url is a fixture

NOW = datetime(2026, 12, 1, tzinfo=UTC)
# the built-in layout as 0016's code shipped it and stored it: the same file, its words unmarked
BEFORE = (
    templates.shipped("simple")
    .replace(
        "{% trans %}You receive this email as {{ email }}.{% endtrans %}", "You receive this email as {{ email }}."
    )
    .replace("{% trans %}Unsubscribe{% endtrans %}", "Unsubscribe")
)


def _at(engine, revision: str) -> None:
    cfg = migrate._config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision) if revision != "down" else command.downgrade(cfg, "0016_pg_recipient_key")


def test_stored_built_in_layouts_get_their_marked_words_and_lose_them_going_down(blank_url):  # noqa: F811
    assert "trans" not in BEFORE
    engine = make_engine(blank_url)
    _at(engine, "0016_pg_recipient_key")
    with engine.begin() as conn:
        for name, html in (("simple", BEFORE), ("newsletter", "<p>ours</p>{{ content }}")):
            conn.execute(
                text("INSERT INTO templates (name, html, created_at, updated_at) VALUES (:n, :h, :t, :t)"),
                {"n": name, "h": html, "t": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO campaigns (name, subject, from_addr, state, skip_verdicts, track, all_contacts, "
                "created_at) VALUES ('old', 's', 'a@example.com', 'draft', '[]', '[]', true, :t)"
            ),
            {"t": NOW},
        )
    _at(engine, "0017_campaign_language")
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT name, html FROM templates")).all())
        assert conn.execute(text("SELECT language FROM campaigns")).scalar_one() == "en"
    assert stored == {"simple": templates.shipped("simple"), "newsletter": "<p>ours</p>{{ content }}"}
    _at(engine, "down")
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT name, html FROM templates")).all())["simple"] == BEFORE
    engine.dispose()
