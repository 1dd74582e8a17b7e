"""Who may use the API and the web UI: API tokens (stored as SHA-256) and users (argon2 password hashes)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from sendwell.config import LANGUAGES
from sendwell.db.engine import as_utc, inserted_id, utcnow
from sendwell.db.schema import api_tokens, users
from sendwell.errors import Hint, NotFound, UserError
from sendwell.model import row_id

TOKEN_PREFIX = "sw_"
MIN_PASSWORD = 8
NAME_MAX = 200  # the width of api_tokens.name and users.username
MAX_DAYS = 3650.0  # --expires-days: ten years is "never" enough
USE_NOTED_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often, not on every call
_hasher = PasswordHasher()
# Verifying an unknown user still costs one argon2 check, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as the operator sees it: never the token itself, which is shown only once."""

    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None


def _digest(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough (nothing to brute-force), unlike passwords.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(engine: Engine, name: str, *, expires_days: float | None = None) -> tuple[int, str]:
    """Make a token; returns (id, token). Only the hash is stored, so the token cannot be shown again."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise UserError(f"must be 1 to {NAME_MAX} characters", field="name")
    if expires_days is not None and not 0 < expires_days <= MAX_DAYS:
        raise UserError(f"must be more than 0 and at most {MAX_DAYS}", field="expires_days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(days=expires_days) if expires_days is not None else None
    with engine.begin() as conn:
        tid = inserted_id(
            conn.execute(
                api_tokens.insert().values(name=name, token_hash=_digest(token), created_at=now, expires_at=expires)
            )
        )
    return tid, token


_INFO = (
    api_tokens.c.id,
    api_tokens.c.name,
    api_tokens.c.created_at,
    api_tokens.c.revoked_at,
    api_tokens.c.expires_at,
    api_tokens.c.last_used_at,
)


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.name,
        as_utc(row.created_at),
        as_utc(row.revoked_at),
        as_utc(row.expires_at),
        as_utc(row.last_used_at),
    )


def list_tokens(engine: Engine) -> list[TokenInfo]:
    with engine.connect() as conn:
        return [_info(r) for r in conn.execute(select(*_INFO).order_by(api_tokens.c.id))]


def revoke_token(engine: Engine, name_or_id: str | int) -> int:
    """Revoke the token with this id, or every live token with this name; returns how many."""
    with engine.begin() as conn:
        live = api_tokens.c.revoked_at.is_(None)
        if (rid := row_id(name_or_id)) is not None:
            n = conn.execute(
                api_tokens.update().where(api_tokens.c.id == rid, live).values(revoked_at=utcnow())
            ).rowcount
            if n:
                return n
        n = conn.execute(
            api_tokens.update().where(api_tokens.c.name == str(name_or_id), live).values(revoked_at=utcnow())
        ).rowcount
    if not n:
        raise NotFound(f"token {name_or_id!r}: no live token with this id or name", hint=Hint.LIST_TOKENS)
    return n


def check_token(engine: Engine, token: str, now: datetime | None = None) -> TokenInfo | None:
    """The live token matching `token`, or None (unknown, revoked or expired); notes when it was used."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = now or utcnow()
    with engine.connect() as conn:
        row = conn.execute(select(*_INFO).where(api_tokens.c.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    found = _info(row)
    if found.expires_at is not None and found.expires_at <= now:
        return None
    if found.last_used_at is None or now - found.last_used_at >= USE_NOTED_EVERY:
        with engine.begin() as conn:
            conn.execute(api_tokens.update().where(api_tokens.c.id == row.id).values(last_used_at=now))
    return found


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"must be at least {MIN_PASSWORD} characters", field="password")


def create_user(engine: Engine, username: str, password: str) -> int:
    username = username.strip()
    if not username or len(username) > NAME_MAX:
        raise UserError(f"must be 1 to {NAME_MAX} characters", field="username")
    _check_password(password)
    try:
        with engine.begin() as conn:
            return inserted_id(
                conn.execute(
                    users.insert().values(username=username, password_hash=_hasher.hash(password), created_at=utcnow())
                )
            )
    except IntegrityError:
        raise UserError(
            f"user {username!r} already exists; change its password instead",
            field="username",
            named=True,
            hint=Hint.CHANGE_PASSWORD,
            target=username,
        ) from None


def set_password(engine: Engine, username: str, password: str) -> None:
    """Change a password and end every session opened with the old one."""
    from sendwell.sessions import revoke_in

    _check_password(password)
    username = username.strip()
    with engine.begin() as conn:
        n = conn.execute(
            users.update().where(users.c.username == username).values(password_hash=_hasher.hash(password))
        ).rowcount
        if n:
            revoke_in(conn, username, utcnow())
    if not n:
        raise NotFound(f"user {username!r} does not exist", hint=Hint.CREATE_USER, target=username)


@dataclass(frozen=True, slots=True)
class User:
    """A web UI user (the password hash stays in the database)."""

    id: int
    username: str
    created_at: datetime


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [
            User(r.id, r.username, r.created_at)
            for r in conn.execute(select(users.c.id, users.c.username, users.c.created_at).order_by(users.c.username))
        ]


def user_language(engine: Engine, username: str) -> str | None:
    """The web UI language the user chose, or None (follow the browser)."""
    with engine.connect() as conn:
        return conn.execute(select(users.c.language).where(users.c.username == username)).scalar()


def set_language(engine: Engine, username: str, language: str | None) -> None:
    """Choose the user's web UI language (None: follow the browser)."""
    if language is not None and language not in LANGUAGES:
        raise UserError(f"{language!r} is not one of {', '.join(LANGUAGES)}", field="language")
    with engine.begin() as conn:
        if not conn.execute(users.update().where(users.c.username == username).values(language=language)).rowcount:
            raise NotFound(f"user {username!r} does not exist", target=username)


def verify_user(engine: Engine, username: str, password: str) -> bool:
    """True when the password is right; upgrades the stored hash when argon2's parameters changed."""
    with engine.connect() as conn:
        row = conn.execute(
            select(users.c.id, users.c.password_hash).where(users.c.username == username.strip())
        ).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    if row is None:
        return False
    if _hasher.check_needs_rehash(row.password_hash):
        with engine.begin() as conn:
            conn.execute(users.update().where(users.c.id == row.id).values(password_hash=_hasher.hash(password)))
    return True
