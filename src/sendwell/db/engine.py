"""Open the database (SQLite file in WAL mode by default, or PostgreSQL) and migrate it to head."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import CursorResult, Engine, create_engine, event, text

DEFAULT_URL = "sqlite:///sendwell.db"


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def inserted_id(result: CursorResult[Any]) -> int:
    """The integer primary key of the one row an INSERT … VALUES made."""
    key = result.inserted_primary_key
    assert key is not None, "not a single-row INSERT"
    return int(key[0])


def normalize_url(url: str | None) -> str:
    """A SQLAlchemy URL from a setting (Settings.database.url: a URL or a bare SQLite path)."""
    url = url or DEFAULT_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:  # a bare path means a SQLite file
        url = "sqlite:///" + str(Path(url))
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # DB-API connection
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA temp_store=MEMORY")  # staging tables of bulk imports
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: big indexes (1M addresses) stay in memory
    cur.close()


def _create_private(path: str | None) -> None:
    """Create a new SQLite file 0600: it holds the HMAC secret and the password hashes. SQLite gives its
    -wal and -shm files the database file's mode, so they are private too."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    # an existing file keeps its mode (the start-up check warns); a missing folder is SQLite's to report
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str | None = None) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        _create_private(engine.url.database)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so writes lock predictably.
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        # on the DB-API connection: SQLAlchemy's statement path costs more than the BEGIN (the sender's
        # every commit pays it)
        event.listen(engine, "begin", lambda conn: conn.connection.driver_connection.execute("BEGIN IMMEDIATE"))
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def open_database(url: str | None = None, migrate: bool = True) -> Engine:
    """Create the engine and bring the schema to the latest migration."""
    engine = make_engine(url)
    if migrate:
        from sendwell.db.migrate import upgrade

        upgrade(engine)
    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


_lock_files: dict[str, int] = {}


def _turn_file(engine: Engine) -> int | None:
    """The open `<file>-writers` of a SQLite file (None for PostgreSQL or an in-memory database)."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    fd = _lock_files.get(path)
    if fd is None:
        fd = _lock_files[path] = os.open(path + "-writers", os.O_RDWR | os.O_CREAT, 0o600)
    return fd


def _try_turn(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@contextlib.contextmanager
def write_turn(engine: Engine, patience: float = 30.0) -> Iterator[None]:
    """Take turns with other processes at writing a SQLite file (a no-op for PostgreSQL).

    SQLite makes a writer that finds the file locked sleep 1, 2, 5, 10 … ms before it looks again;
    for a sender committing every few milliseconds that sleep is a stall of all its connections.
    An flock on `<file>-writers` queues our own processes instead and wakes the next one as soon as
    the lock is free. Other programs simply don't take it: SQLite's own lock still decides; after
    `patience` seconds we go ahead and let it.
    """
    fd = _turn_file(engine)
    if fd is None:
        yield
        return
    deadline, pause, held = time.monotonic() + patience, 0.00005, False
    while not (held := _try_turn(fd)):
        if time.monotonic() > deadline:
            break
        time.sleep(pause)
        pause = min(pause * 2, 0.002)
    try:
        yield
    finally:
        if held:
            fcntl.flock(fd, fcntl.LOCK_UN)


async def take_write_turn(engine: Engine, patience: float = 30.0) -> int | None:
    """write_turn for an asyncio loop: while another process writes, the loop goes on (a sender's
    connections keep sending) instead of sleeping. Returns the file to give to `end_write_turn` once
    the transaction is over (None when there was no turn to take, or `patience` ran out). Nothing may be
    awaited between this and the transaction: in one process the lock is already held."""
    import asyncio

    fd = _turn_file(engine)
    if fd is None or _try_turn(fd):
        return fd
    # Another process writes. A thread waits for the lock in the kernel, which wakes it the moment the lock
    # is free; polling from the loop instead cost either a 1 ms oversleep per look (asyncio's timers) or a
    # busy spin (uvloop runs sleeps under 0.5 ms at once).
    deadline = time.monotonic() + patience
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(_FreeTurn.of(engine.url.database or "").when_free()), left)
        if _try_turn(fd):  # the other process may have taken it again first: then wait again
            return fd


class _FreeTurn:
    """A daemon thread per turn file that waits in the kernel until the file's lock is free, for the coroutines
    of this process; the coroutines waiting at one time share one wait.

    It locks a second open file description of `<file>-writers` (an flock belongs to a description, so the loop's
    own description would get it at once while this process writes) and unlocks it straight away. A daemon, so
    a process never waits at exit for a lock another process keeps."""

    _all: dict[tuple[str, int], _FreeTurn] = {}  # (file, pid): a forked child starts its own thread

    @classmethod
    def of(cls, database: str) -> _FreeTurn:
        key = (database, os.getpid())
        found = cls._all.get(key)
        if found is None:
            found = cls._all[key] = cls(database + "-writers")
        return found

    def __init__(self, path: str) -> None:
        import queue
        import threading

        # opened here, not in the thread: a failure is the caller's error, not a thread that silently stops
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.asked: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.waiting: Any = None  # the shared future of the current wait
        threading.Thread(target=self._serve, name="sendwell-write-turn", daemon=True).start()

    def when_free(self) -> Any:
        import asyncio

        loop = asyncio.get_running_loop()
        fut = self.waiting
        if fut is None or fut.done() or fut.get_loop() is not loop:
            fut = self.waiting = loop.create_future()
            self.asked.put(fut)
        return fut

    def _serve(self) -> None:
        while True:
            fut = self.asked.get()
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX)
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            except OSError:  # the waiters look at the lock themselves again (and SQLite's own lock still decides)
                logging.getLogger("sendwell.db").exception("waiting for the SQLite write turn failed")
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits any more
                fut.get_loop().call_soon_threadsafe(_settle, fut)


def _settle(fut: Any) -> None:
    if not fut.done():
        fut.set_result(None)


def end_write_turn(fd: int | None) -> None:
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
