"""The send engine's store transactions on PostgreSQL: any operational or interface error may be a restart or a
killed backend (a new connection is tried), and outcomes are committed without waiting for the WAL flush."""

from __future__ import annotations

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
