"""The preference page's lists: the public segments an address is in, leaving some of them, and which segments
are public. Leaving a list touches that segment only; unsubscribing from everything stays the black list's job."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, select

from sendwell.db.schema import campaigns, recipients, segment_members, segments
from sendwell.forms.store import sender_name
from sendwell.segments import segment_id


def public_lists(engine: Engine, key: str) -> list[dict[str, Any]]:
    """The public segments the address (its key) is a member of, by name."""
    q = (
        select(segments.c.id, segments.c.name, segments.c.description)
        .join(segment_members, segment_members.c.segment_id == segments.c.id)
        .where(segments.c.public.is_(True), segment_members.c.email == key)
        .order_by(segments.c.name)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def keep_only(engine: Engine, key: str, keep: Iterable[int]) -> list[str]:
    """Leave every public segment the address is in but those in `keep`; returns the names of those left."""
    kept = set(keep)
    with engine.begin() as conn:
        rows = conn.execute(
            select(segments.c.id, segments.c.name)
            .join(segment_members, segment_members.c.segment_id == segments.c.id)
            .where(segments.c.public.is_(True), segment_members.c.email == key)
        ).all()
        leave = [r for r in rows if r.id not in kept]
        if leave:
            conn.execute(
                segment_members.delete().where(
                    segment_members.c.email == key, segment_members.c.segment_id.in_([r.id for r in leave])
                )
            )
    return sorted(r.name for r in leave)


def set_public(engine: Engine, name: str, public: bool) -> None:
    """List the segment on the preference page (public) or not."""
    with engine.begin() as conn:
        sid = segment_id(conn, name)
        conn.execute(segments.update().where(segments.c.id == sid).values(public=public))


def whose(engine: Engine, campaign_id: int, recipient_id: int) -> tuple[str, str] | None:
    """(address, sender's name) of a campaign recipient named by an unsubscribe token, or None."""
    q = (
        select(recipients.c.email, campaigns.c.from_addr)
        .join(campaigns, campaigns.c.id == recipients.c.campaign_id)
        .where(recipients.c.id == recipient_id, recipients.c.campaign_id == campaign_id)
    )
    with engine.connect() as conn:
        row = conn.execute(q).first()
    return (row.email, sender_name(row.from_addr)) if row is not None else None
