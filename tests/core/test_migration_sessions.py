"""Migration 0006_sessions_tokens: sessions and failed logins tables, token expiry; up and down on both databases."""

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from sendwell.db import migrate
from sendwell.db.engine import make_engine

from .test_migrations import HEAD, blank_url  # noqa: F401 - blank_url is a fixture


def test_sessions_migration_keeps_tokens_and_users_both_ways(blank_url):  # noqa: F811
    engine = make_engine(blank_url)
    cfg = migrate._config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO api_tokens (name, token_hash, created_at) VALUES ('ci', 'h1', :t)"), {"t": now})
        conn.execute(
            text("INSERT INTO users (username, password_hash, created_at) VALUES ('ops', 'x', :t)"), {"t": now}
        )

    migrate.upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT name, expires_at, last_used_at FROM api_tokens")).one() == ("ci", None, None)
        uid = conn.execute(text("SELECT id FROM users")).scalar_one()
        conn.execute(
            text("INSERT INTO sessions (id, user_id, created_at, last_seen_at) VALUES ('s', :u, :t, :t)"),
            {"u": uid, "t": now},
        )
        conn.execute(
            text("INSERT INTO login_failures (key, failures, window_start) VALUES ('user:ops', 3, :t)"), {"t": now}
        )
        conn.execute(text("DELETE FROM users"))  # a removed user takes its sessions with it
        assert conn.execute(text("SELECT COUNT(*) FROM sessions")).scalar() == 0

    migrate.downgrade(engine, "0005")
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert not {"sessions", "login_failures"} & tables
        assert {c["name"] for c in inspect(conn).get_columns("api_tokens")} == {
            "id",
            "name",
            "token_hash",
            "created_at",
            "revoked_at",
        }
        assert conn.execute(text("SELECT name, token_hash FROM api_tokens")).one() == ("ci", "h1")
    migrate.upgrade(engine)
    assert migrate._revision(engine) == HEAD  # upgrade goes through this revision to the head
    engine.dispose()
