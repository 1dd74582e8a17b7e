"""The send engine's store transactions on a SQLite file: writers take turns (db.engine.take_write_turn), the sender's
connections get a small page cache, and only a lock wait that ran out counts as a lost connection."""

from __future__ import annotations

import sqlite3

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from sendwell.db.engine import end_write_turn, take_write_turn
from sendwell.db.sendstore import SqlTransactions

SENDER_CACHE = "PRAGMA cache_size=-4096"  # KiB


class SqliteTransactions(SqlTransactions):
    def lost_connection(self, err: DBAPIError) -> bool:
        if err.connection_invalidated:
            return True
        if isinstance(err, (OperationalError, InterfaceError)):  # "database is locked": busy_timeout ran out
            return not isinstance(err.orig, sqlite3.Error) or "locked" in str(err.orig)
        return False

    async def take_turn(self) -> int | None:
        return await take_write_turn(self.engine)

    def end_turn(self, turn: int | None) -> None:
        end_write_turn(turn)

    def tune(self, conn: Connection) -> None:
        """A 4 MiB page cache on the sender's connections, not the 64 MiB bulk imports get: the sender
        touches the recent end of the ledger only, and with the big cache its memory grew with the list
        (67 MB at 10k recipients, 131 MB at 1M) for no speed."""
        conn.exec_driver_sql(SENDER_CACHE)
