"""The login throttle: failed logins counted in the database per user name, per client address and per both,
so concurrent guesses and several server processes share one count.

An attempt is counted *before* its password is checked, in one transaction that also reads the counts: of
36 guesses arriving at once, each sees the ones before it, and only the first ones are checked. A success
gives its count back. A user name that is under attack stays open to addresses that have (almost) not
failed for it, so an attacker cannot lock the real owner out from elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from sendwell.db.engine import as_utc, utcnow
from sendwell.db.schema import Stamp, login_failures

WINDOW = timedelta(minutes=15)  # counts start again this long after a key's first failure
USER_LIMIT = 10  # failures for one user name, from anywhere, after which it is "locked":
PAIR_LIMIT = 3  # then an address may try it only while it has failed for it fewer times than this,
ADDR_LIMIT = 50  # and an address (it may front several people) that failed this often may not try at all


@dataclass(frozen=True, slots=True)
class Keys:
    user: str
    addr: str
    pair: str

    @property
    def all(self) -> list[str]:
        return sorted((self.user, self.addr, self.pair))  # one order everywhere: no deadlock between transactions


def keys_for(username: str, address: str | None) -> Keys:
    name, addr = username.strip().lower(), address or "unknown"
    return Keys(f"user:{name}", f"addr:{addr}", f"pair:{name}|{addr}")


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds, when refused


def _count(conn: Connection, keys: list[str], now: datetime) -> None:
    """Add one failure to each key, starting its window again when the last one is over."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    expired = login_failures.c.window_start <= now - WINDOW
    stmt = dialect.insert(login_failures).values([{"key": k, "failures": 1, "window_start": now} for k in keys])
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[login_failures.c.key],
            set_={
                "failures": case((expired, 1), else_=login_failures.c.failures + 1),
                "window_start": case((expired, literal(now, Stamp)), else_=login_failures.c.window_start),
            },
        )
    )


def begin_attempt(engine: Engine, keys: Keys, now: datetime | None = None) -> Verdict:
    """Count this attempt as a failure and say whether its password may be checked at all."""
    now = now or utcnow()
    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE; PostgreSQL: the upsert locks the rows till commit
        _count(conn, keys.all, now)
        rows = conn.execute(
            select(login_failures.c.key, login_failures.c.failures, login_failures.c.window_start).where(
                login_failures.c.key.in_(keys.all)
            )
        ).all()
    before = {r.key: r.failures - 1 for r in rows}
    ends = {r.key: as_utc(r.window_start) + WINDOW for r in rows}
    blocking = []
    if before[keys.addr] >= ADDR_LIMIT:
        blocking.append(keys.addr)
    if before[keys.user] >= USER_LIMIT and before[keys.pair] >= PAIR_LIMIT:
        blocking += [keys.user, keys.pair]
    if not blocking:
        return Verdict(True)
    return Verdict(False, max(1.0, max((ends[k] - now).total_seconds() for k in blocking)))


def attempt_succeeded(engine: Engine, keys: Keys) -> None:
    """The password was right: give the attempt back, and forget this address's failures for this user."""
    with engine.begin() as conn:
        conn.execute(delete(login_failures).where(login_failures.c.key == keys.pair))
        conn.execute(
            login_failures.update()
            .where(login_failures.c.key.in_([keys.user, keys.addr]), login_failures.c.failures > 0)
            .values(failures=login_failures.c.failures - 1)
        )


@dataclass(frozen=True, slots=True)
class Lock:
    failures: int
    until: datetime


def locked_users(engine: Engine, now: datetime | None = None) -> dict[str, Lock]:
    """User names (lower-case) that failed USER_LIMIT times in their current window: shown to admins."""
    now = now or utcnow()
    with engine.connect() as conn:
        rows = conn.execute(
            select(login_failures).where(
                login_failures.c.key.startswith("user:"),
                login_failures.c.failures >= USER_LIMIT,
                login_failures.c.window_start > now - WINDOW,
            )
        ).all()
    return {r.key.removeprefix("user:"): Lock(r.failures, as_utc(r.window_start) + WINDOW) for r in rows}


def unlock(engine: Engine, username: str) -> int:
    """Forget a user name's failures (from everywhere); returns how many counts were dropped."""
    name = username.strip().lower()
    with engine.begin() as conn:
        return conn.execute(
            delete(login_failures).where(
                (login_failures.c.key == f"user:{name}")
                | login_failures.c.key.startswith(f"pair:{name}|", autoescape=True)
            )
        ).rowcount
