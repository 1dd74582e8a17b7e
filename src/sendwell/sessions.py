"""Web UI sessions kept in the database: opened at login; ended by logging out, a password change,
`sendwell users revoke-sessions`, or by lying idle or growing old. The browser holds only a random token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, select

from sendwell.config import WebSettings
from sendwell.db.engine import as_utc, utcnow
from sendwell.db.schema import sessions, users
from sendwell.errors import Hint, NotFound

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often: a page view is not a write


@dataclass(frozen=True, slots=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def of(cls, web: WebSettings) -> Lifetimes:
        return cls(timedelta(minutes=web.session_idle_minutes), timedelta(hours=web.session_max_hours))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _digest(token: str) -> str:
    # 256 random bits: a fast hash suffices, and a copy of the database holds nothing a browser could present.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(engine: Engine, username: str, lifetimes: Lifetimes, now: datetime | None = None) -> str:
    """Record a new session for `username` (who must exist); returns the token for the cookie."""
    now = now or utcnow()
    token = new_token()
    with engine.begin() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
        if uid is None:
            raise NotFound(f"user {username!r} does not exist")
        # sessions past the absolute lifetime are dead whatever else happened to them: forget them here
        conn.execute(delete(sessions).where(sessions.c.created_at < now - lifetimes.absolute))
        conn.execute(sessions.insert().values(id=_digest(token), user_id=uid, created_at=now, last_seen_at=now))
    return token


def session_user(engine: Engine, token: str, lifetimes: Lifetimes, now: datetime | None = None) -> str | None:
    """The user of a live session with this token, or None (unknown, ended, idle too long or too old)."""
    now = now or utcnow()
    sid = _digest(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(users.c.username, sessions.c.created_at, sessions.c.last_seen_at, sessions.c.revoked_at)
            .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
            .where(sessions.c.id == sid)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    seen = as_utc(row.last_seen_at)
    if now - seen >= lifetimes.idle or now - as_utc(row.created_at) >= lifetimes.absolute:
        return None
    if now - seen >= TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(sessions.update().where(sessions.c.id == sid).values(last_seen_at=now))
    return row.username


def end_session(engine: Engine, token: str, now: datetime | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(
            sessions.update()
            .where(sessions.c.id == _digest(token), sessions.c.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
        )


def revoke_in(conn: Connection, username: str, now: datetime) -> int:
    """End every session of `username` inside the caller's transaction (a password change uses it)."""
    uid = select(users.c.id).where(users.c.username == username).scalar_subquery()
    return conn.execute(
        sessions.update().where(sessions.c.user_id == uid, sessions.c.revoked_at.is_(None)).values(revoked_at=now)
    ).rowcount


def revoke_sessions(engine: Engine, username: str) -> int:
    """End every session of a user; returns how many were live (or at least not yet revoked)."""
    username = username.strip()
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).scalar() is None:
            raise NotFound(f"user {username!r} does not exist", named=True, hint=Hint.LIST_USERS)
        return revoke_in(conn, username, utcnow())


def live_counts(engine: Engine, lifetimes: Lifetimes, now: datetime | None = None) -> dict[str, int]:
    """How many live sessions each user has (for `sendwell users list`)."""
    now = now or utcnow()
    with engine.connect() as conn:
        rows = conn.execute(
            select(users.c.username, func.count())
            .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
            .where(
                sessions.c.revoked_at.is_(None),
                sessions.c.created_at > now - lifetimes.absolute,
                sessions.c.last_seen_at > now - lifetimes.idle,
            )
            .group_by(users.c.username)
        ).all()
    return {name: n for name, n in rows}
