"""The send engine's store transactions on PostgreSQL: any operational or interface error may be a restart or a
killed backend (a new connection is tried), and outcomes are committed without waiting for the WAL flush."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, cast

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from sendwell.db.sendstore import SqlTransactions


class PostgresTransactions(SqlTransactions):
    def lost_connection(self, err: DBAPIError) -> bool:
        return bool(err.connection_invalidated) or isinstance(err, (OperationalError, InterfaceError))

    def recording(self, conn: Connection) -> None:
        # The commit must survive this worker, not the database server: skipping the WAL flush wait is
        # safe against a killed worker and saves a disk sync per group of outcomes.
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    def alone(self, conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        # In autocommit the statement is its own transaction: psycopg sends no BEGIN and no COMMIT, two round
        # trips less, and each round trip cost the server more than a group of outcomes' updates. SQLAlchemy's
        # commit after it finds no transaction open and sends nothing. (Its pre-ping does the same switch.)
        raw = conn.connection.driver_connection
        assert raw is not None  # a live connection: run() took it just now
        try:
            raw.autocommit = True
            return fn(conn, *args)
        except psycopg.Error as err:
            # fn used the DB-API cursor: its error is psycopg's, and with no transaction open no rollback fails
            # to tell SQLAlchemy that the connection is gone. Say it as SQLAlchemy would.
            lost = conn.dialect.is_disconnect(cast(Any, err), raw, None)
            if lost:
                conn.invalidate(err)
            raise DBAPIError.instance(
                None, None, err, psycopg.Error, connection_invalidated=lost, dialect=conn.dialect
            ) from err
        finally:
            with contextlib.suppress(psycopg.Error):  # a broken one cannot switch back (and `reusable` drops it)
                raw.autocommit = False

    def reusable(self, conn: Connection) -> bool:
        # never a connection left in autocommit: every later transaction would commit statement by statement
        raw = conn.connection.driver_connection
        return raw is not None and not raw.autocommit
