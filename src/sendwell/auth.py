"""Who may use the API and the web UI: API tokens (stored as SHA-256) and users (argon2 password hashes)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from sendwell.db.engine import as_utc, utcnow
from sendwell.db.schema import api_tokens, users
from sendwell.errors import Hint, NotFound, UserError

TOKEN_PREFIX = "sw_"
MIN_PASSWORD = 8
NAME_MAX = 200  # the width of api_tokens.name and users.username
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


def _digest(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough (nothing to brute-force), unlike passwords.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(engine: Engine, name: str) -> tuple[int, str]:
    """Make a token; returns (id, token). Only the hash is stored, so the token cannot be shown again."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise UserError(f"must be 1 to {NAME_MAX} characters", field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        tid = conn.execute(api_tokens.insert().values(name=name, token_hash=_digest(token),
                                                      created_at=utcnow())).inserted_primary_key[0]
    return tid, token


def list_tokens(engine: Engine) -> list[TokenInfo]:
    with engine.connect() as conn:
        rows = conn.execute(select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.created_at,
                                   api_tokens.c.revoked_at).order_by(api_tokens.c.id)).all()
    return [TokenInfo(r.id, r.name, as_utc(r.created_at), as_utc(r.revoked_at)) for r in rows]


def revoke_token(engine: Engine, name_or_id: str | int) -> int:
    """Revoke the token with this id, or every live token with this name; returns how many."""
    with engine.begin() as conn:
        live = api_tokens.c.revoked_at.is_(None)
        if isinstance(name_or_id, int) or str(name_or_id).isdigit():
            n = conn.execute(api_tokens.update().where(api_tokens.c.id == int(name_or_id), live)
                             .values(revoked_at=utcnow())).rowcount
            if n:
                return n
        n = conn.execute(api_tokens.update().where(api_tokens.c.name == str(name_or_id), live)
                         .values(revoked_at=utcnow())).rowcount
    if not n:
        raise NotFound(f"token {name_or_id!r}: no live token with this id or name", hint=Hint.LIST_TOKENS)
    return n


def check_token(engine: Engine, token: str) -> TokenInfo | None:
    """The live token matching `token`, or None (unknown or revoked)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.created_at,
                                  api_tokens.c.revoked_at)
                           .where(api_tokens.c.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    return TokenInfo(row.id, row.name, as_utc(row.created_at), None)


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
            return conn.execute(users.insert().values(username=username, password_hash=_hasher.hash(password),
                                                      created_at=utcnow())).inserted_primary_key[0]
    except IntegrityError:
        raise UserError(f"user {username!r} already exists; change its password instead", field="username",
                        named=True, hint=Hint.CHANGE_PASSWORD, target=username) from None


def set_password(engine: Engine, username: str, password: str) -> None:
    _check_password(password)
    with engine.begin() as conn:
        n = conn.execute(users.update().where(users.c.username == username.strip())
                         .values(password_hash=_hasher.hash(password))).rowcount
    if not n:
        raise NotFound(f"user {username!r} does not exist", hint=Hint.CREATE_USER, target=username)


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(users.c.id, users.c.username, users.c.created_at)
                                                       .order_by(users.c.username))]


def session_stamp(engine: Engine, username: str) -> str | None:
    """A short digest of the user's password hash, or None when the user is gone: a session keeps it, so
    changing the password or deleting the user ends every session made before."""
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == username)).scalar()
    return None if stored is None else hashlib.sha256(stored.encode("utf-8")).hexdigest()[:16]


def verify_user(engine: Engine, username: str, password: str) -> bool:
    """True when the password is right; upgrades the stored hash when argon2's parameters changed."""
    with engine.connect() as conn:
        row = conn.execute(select(users.c.id, users.c.password_hash)
                           .where(users.c.username == username.strip())).first()
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
