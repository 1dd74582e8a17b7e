"""The installation's HMAC secret (VERP, unsubscribe and tracking tokens): configured, or made once and kept."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from sendwell.config import Settings
from sendwell.db.engine import utcnow
from sendwell.db.schema import state

_KEY = "hmac_secret"


def app_secret(engine: Engine, settings: Settings) -> str:
    """settings.sending.secret if set; else a random secret stored in the database on first use.

    Stored in the database (not a local file) so every API and sender process sharing it signs alike.
    """
    if settings.sending.secret:
        return settings.sending.secret
    with engine.connect() as conn:
        found = conn.execute(select(state.c.value).where(state.c.key == _KEY)).scalar()
    if found:
        return found
    try:
        with engine.begin() as conn:
            conn.execute(state.insert().values(key=_KEY, value=secrets.token_hex(32), updated_at=utcnow()))
    except IntegrityError:
        pass  # another process made it first: use theirs
    with engine.connect() as conn:
        return conn.execute(select(state.c.value).where(state.c.key == _KEY)).scalar_one()
