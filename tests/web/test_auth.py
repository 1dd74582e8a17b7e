"""The auth service: tokens stored hashed and revocable, passwords hashed with argon2 and checked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sendwell import auth
from sendwell.db.schema import api_tokens, users
from sendwell.errors import NotFound, UserError


def test_tokens_are_stored_hashed_and_revocable(web_engine) -> None:
    tid, token = auth.create_token(web_engine, "robot")
    with web_engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert token not in stored and len(stored) == 64
    assert auth.check_token(web_engine, token).name == "robot"
    assert auth.check_token(web_engine, token + "x") is None
    assert auth.revoke_token(web_engine, str(tid)) == 1
    assert auth.check_token(web_engine, token) is None
    assert auth.list_tokens(web_engine)[0].revoked_at is not None
    with pytest.raises(NotFound):
        auth.revoke_token(web_engine, "robot")
    for bad in ("  ", "x" * 201):
        with pytest.raises(UserError, match="^name: must be 1 to 200 characters"):
            auth.create_token(web_engine, bad)


def test_passwords_are_argon2_hashed_and_checked(web_engine) -> None:
    auth.create_user(web_engine, "ops", "a long password")
    with web_engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "a long password" not in stored
    assert auth.verify_user(web_engine, "ops", "a long password")
    assert not auth.verify_user(web_engine, "ops", "a long passworD")
    assert not auth.verify_user(web_engine, "nobody", "a long password")
    with pytest.raises(UserError, match="already exists"):
        auth.create_user(web_engine, "ops", "another password")
    with pytest.raises(UserError, match="at least 8"):
        auth.create_user(web_engine, "x", "short")
    with pytest.raises(NotFound):
        auth.set_password(web_engine, "nobody", "a long password")
    auth.set_password(web_engine, "ops", "the new password")
    assert auth.verify_user(web_engine, "ops", "the new password")
    assert not auth.verify_user(web_engine, "ops", "a long password")
