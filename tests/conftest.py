"""Real fixtures: a SQLite file and a PostgreSQL database (each test gets empty tables)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, text

from sendwell.db.engine import open_database, utcnow
from sendwell.db.schema import metadata

PG_ADMIN_URL = os.environ.get("SENDWELL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_HINT = (
    "PostgreSQL not reachable at {url}: start it (pg_ctlcluster 15 main start) or set "
    "SENDWELL_TEST_PG_URL=postgresql+psycopg://user@host:port/db to run the PostgreSQL tests"
)


def _pg_reachable(url: str) -> bool:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    try:
        with socket.create_connection((u.host or "127.0.0.1", u.port or 5432), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if not _pg_reachable(PG_ADMIN_URL):
        message = PG_HINT.format(url=PG_ADMIN_URL)
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + message)
        pytest.skip(message)
    name = f"sendwell_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_pg_engine: Engine | None = None


def _empty_pg(url: str) -> Engine:
    global _pg_engine
    if _pg_engine is None or str(_pg_engine.url) != url:
        _pg_engine = open_database(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with _pg_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return _pg_engine


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A database URL with the schema in place and no rows, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sendwell.db'}"
        open_database(url).dispose()
        return url
    url = request.getfixturevalue("pg_database_url")
    _empty_pg(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_database(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    eng = open_database(f"sqlite:///{tmp_path / 'sendwell.db'}")
    yield eng
    eng.dispose()


class Clock:
    """The clock the engine and the ledger take (`clock=`): real time shifted by an offset the test moves. Time
    still runs (an engine waiting on it goes on), and a test jumps ahead with advance() instead of sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float = 0, **delta: float) -> None:
        self.offset += timedelta(seconds=seconds, **delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()
