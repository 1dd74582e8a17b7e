"""What the webhooks keep in the database: one-time ids seen (replays), per-provider counts, and whether an
address is one sendwell has mailed. Tables, not process memory, so every process sharing PostgreSQL agrees."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from sendwell.db.engine import as_utc
from sendwell.db.schema import contacts, recipients, webhook_counts, webhook_nonces


def _insert(conn: Connection, table):  # the dialect's INSERT … ON CONFLICT
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def claim(engine: Engine, provider: str, nonce: str, keep: timedelta, now: datetime) -> bool:
    """Remember a one-time id; False when it was seen before (by any process). Expired ids are dropped."""
    key = hashlib.sha256(nonce.encode("utf-8", "backslashreplace")).hexdigest()
    with engine.begin() as conn:
        conn.execute(delete(webhook_nonces).where(webhook_nonces.c.expires_at < now))
        stmt = _insert(conn, webhook_nonces).values(provider=provider, key=key, expires_at=now + keep)
        row = conn.execute(
            stmt.on_conflict_do_nothing(index_elements=["provider", "key"]).returning(webhook_nonces.c.key)
        ).first()
    return row is not None


def release(engine: Engine, provider: str, nonce: str) -> None:
    """Forget a claimed id whose request failed half-way, so the provider's retry is not taken for a replay."""
    key = hashlib.sha256(nonce.encode("utf-8", "backslashreplace")).hexdigest()
    with engine.begin() as conn:
        conn.execute(delete(webhook_nonces).where(webhook_nonces.c.provider == provider, webhook_nonces.c.key == key))


def mailed(engine: Engine, key: str) -> bool:
    """Is this address a contact or a recipient of some campaign (one index seek each)?"""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                select(or_(exists().where(recipients.c.email == key), exists().where(contacts.c.email == key)))
            ).scalar()
        )


def count(engine: Engine, provider: str, now: datetime, *, events: int = 0, ignored: int = 0, replays: int = 0) -> None:
    if not (events or ignored or replays):
        return
    with engine.begin() as conn:
        stmt = _insert(conn, webhook_counts).values(
            provider=provider, events=events, ignored=ignored, replays=replays, last_at=now
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["provider"],
                set_={
                    "events": webhook_counts.c.events + events,
                    "ignored": webhook_counts.c.ignored + ignored,
                    "replays": webhook_counts.c.replays + replays,
                    "last_at": now,
                },
            )
        )


@dataclass(frozen=True)
class Counts:
    events: int = 0
    ignored: int = 0
    replays: int = 0
    last_at: datetime | None = None


def counts(engine: Engine) -> dict[str, Counts]:
    with engine.connect() as conn:
        return {
            r.provider: Counts(r.events, r.ignored, r.replays, as_utc(r.last_at) if r.last_at else None)
            for r in conn.execute(select(webhook_counts))
        }
