"""The transactions of the send engine's store (sending/sqlstore.py) on SQLAlchemy: what SQLite and PostgreSQL share.

Each call is one transaction, run synchronously in the loop's thread: a database thread would fight the
loop for the GIL on every socket call (a convoy that cut throughput to a third), and the connections
wait for their outcome's commit anyway. A lost connection (a PostgreSQL restart, a killed backend,
SQLite's lock wait running out) rolls the transaction back; it is run again on a new connection until
`database.reconnect_seconds` have passed, so a restart costs a pause, not the run. Which errors count
as lost, and each database's tuning, are in sendstore_sqlite.py and sendstore_postgres.py. What each
transaction does (the ledger, the daily usage, the events) is the services' part, in sending/sqlstore.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from sendwell.config import Settings

log = logging.getLogger("sendwell.sending")


class StoreError(Exception):
    """A database error the run cannot go on with (a bad statement, a constraint)."""


class StoreUnavailable(StoreError):
    """The database stayed unreachable past `database.reconnect_seconds`, or while the run was stopping."""


def open_transactions(engine: Engine, settings: Settings) -> SqlTransactions:
    """The transaction runner for the engine's database."""
    if engine.dialect.name == "postgresql":
        from sendwell.db.sendstore_postgres import PostgresTransactions

        return PostgresTransactions(engine, settings)
    from sendwell.db.sendstore_sqlite import SqliteTransactions

    return SqliteTransactions(engine, settings)


def unreachable(err: DBAPIError) -> str:
    return (
        f"the database is unreachable ({str(err.orig or err).splitlines()[0]}); the recipients in hand "
        "are left to their leases, and the next run (or another worker) takes them"
    )


class SqlTransactions:
    """Runs the send store's transactions on a SQLAlchemy engine; subclasses say which errors are a lost connection."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self._stopped: asyncio.Event | None = None
        self._outage_since = 0.0  # monotonic time the database was first found unreachable, 0 when fine
        self._held: Connection | None = None  # kept between transactions (see _connection), in one thread
        self._thread = 0
        self._finalizer: weakref.finalize | None = None

    # -- each database's quirks -----------------------------------------------------------------

    def lost_connection(self, err: DBAPIError) -> bool:
        """A database error that a new connection may not have; not a bad statement or a constraint."""
        return bool(err.connection_invalidated)

    async def take_turn(self) -> Any:
        """Taken before each transaction (SQLite: take turns with other writers); given to `end_turn` after it."""
        return None

    def end_turn(self, turn: Any) -> None:
        """After the transaction begun with the `turn` that `take_turn` gave."""

    def tune(self, conn: Connection) -> None:
        """Set up a new connection, in its first transaction."""

    def recording(self, conn: Connection) -> None:
        """Set up the transaction that records outcomes."""

    def reusable(self, conn: Connection) -> bool:
        """Whether the kept connection may run the next transaction."""
        return True

    def alone(self, conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Run fn(conn, *args), which sends one statement, as its own transaction where that saves round trips
        (PostgreSQL); here simply inside the transaction `run` began."""
        return fn(conn, *args)

    # -- transactions ---------------------------------------------------------------------------

    def watch(self, stopped: asyncio.Event) -> None:
        self._stopped = stopped

    async def _nap(self, seconds: float) -> None:
        if self._stopped is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    def _connection(self) -> tuple[Connection, bool]:
        """The connection the transactions run on, and whether an earlier transaction used it. It is kept
        between transactions: a pool checkout and check-in (and PostgreSQL's pre-ping) per transaction cost
        the sender more CPU than the statements of a group commit."""
        conn = self._held
        if conn is not None and not conn.closed and not conn.invalidated:
            if not self.reusable(conn):
                conn.invalidate()  # closed, not given back: the pool would keep it as it is
            elif self._thread == threading.get_ident():
                return conn, True
        self.close()
        self._held, self._thread = self.engine.connect(), threading.get_ident()
        self._finalizer = weakref.finalize(self, _close, self._held)  # given back once the store is gone
        return self._held, False

    def close(self) -> None:
        """Give the kept connection back to the pool (closed if it was lost): at the end of a run, and after an
        error; the next transaction takes another."""
        if self._finalizer is not None:
            self._finalizer()  # closes self._held
        self._held = self._finalizer = None

    async def run(self, fn: Callable[..., Any], *args: Any, alone: bool = False) -> Any:
        """Run fn(conn, *args) in one transaction, again on a new connection when this one was lost.
        Every transaction here may run twice: claims and outcomes are keyed by recipient (only a commit
        lost in flight can count one batch's attempts twice). `alone`: fn sends one statement (see `alone`)."""
        delay = 0.1
        while True:
            kept = False
            try:
                turn = await self.take_turn()  # nothing awaited from here to the commit
                try:
                    conn, kept = self._connection()
                    with conn.begin():
                        if not kept:
                            self.tune(conn)
                        result = self.alone(conn, fn, args) if alone else fn(conn, *args)
                finally:
                    self.end_turn(turn)
                self._outage_since = 0.0
                return result
            except DBAPIError as err:
                self.close()
                if not self.lost_connection(err):
                    raise StoreError(str(err)) from err
                if kept and err.connection_invalidated:
                    # The kept connection died while idle (a restart, a killed backend): what the pool's
                    # pre-ping finds at checkout. Once, at once, on a new (pre-pinged) connection.
                    continue
                # One deadline for the whole outage (not one per call), and none of it once the run is
                # stopping: what is left in hand is then left to its leases, as if the worker were killed.
                now = time.monotonic()
                self._outage_since = self._outage_since or now
                stopping = self._stopped is not None and self._stopped.is_set()
                if stopping or now >= self._outage_since + self.settings.database.reconnect_seconds:
                    raise StoreUnavailable(unreachable(err)) from err
                log.warning(
                    "database connection lost (%s); trying again in %.1f s", str(err.orig or err).splitlines()[0], delay
                )
                await self._nap(delay)  # a stop request ends the wait
                delay = min(delay * 2, 5.0)


def _close(conn: Connection) -> None:
    with contextlib.suppress(DBAPIError):  # a lost connection: the pool discards it
        conn.close()
