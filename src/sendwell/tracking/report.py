"""Tracking statistics of one campaign: people's reads and clicks, machines' apart, clicks per link."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, distinct, func, select

from sendwell.db.schema import campaigns, events, recipients
from sendwell.errors import NotFound
from sendwell.tracking.links import labels
from sendwell.tracking.machine import Hit, Source


def tracking_stats(engine: Engine, campaign_id: int) -> dict[str, Any]:
    """Counts for `campaigns stats`.

    `read` and `clicked` count recipients (a click implies a read); `opens`/`clicks` count hits, the
    machine ones apart with the rule that flagged them; `links` gives each link's hits by URL.
    """
    E = events
    with engine.connect() as conn:
        camp = conn.execute(select(campaigns.c.track, campaigns.c.html).where(campaigns.c.id == campaign_id)).first()
        if camp is None:
            raise NotFound(f"campaign {campaign_id} does not exist")
        read, clicked = conn.execute(
            select(func.count(recipients.c.opened_at), func.count(recipients.c.clicked_at)).where(
                recipients.c.campaign_id == campaign_id
            )
        ).one()
        tracked = (E.c.campaign_id == campaign_id, E.c.type.in_([Hit.OPEN.value, Hit.CLICK.value]))
        hits = conn.execute(
            select(E.c.type, E.c.source, E.c.reason, func.count())
            .where(*tracked)
            .group_by(E.c.type, E.c.source, E.c.reason)
        ).all()
        people = conn.execute(
            select(E.c.type, E.c.source, func.count(distinct(E.c.recipient_id)))
            .where(*tracked)
            .group_by(E.c.type, E.c.source)
        ).all()
        per_link = conn.execute(
            select(E.c.detail, E.c.source, func.count(), func.count(distinct(E.c.recipient_id)))
            .where(E.c.campaign_id == campaign_id, E.c.type == Hit.CLICK.value)
            .group_by(E.c.detail, E.c.source)
        ).all()
    out: dict[str, Any] = {
        "campaign_id": campaign_id,
        "track": list(camp.track or []),
        "read": read,
        "clicked": clicked,
    }
    for kind in Hit:
        out[f"{kind}s"] = {
            "human": 0,
            "machine": 0,
            "human_recipients": 0,
            "machine_recipients": 0,
            "machine_by_reason": {},
        }
    for kind, source, reason, n in hits:
        out[f"{kind}s"][source] += n
        if source == Source.MACHINE:
            out[f"{kind}s"]["machine_by_reason"][reason or "unknown"] = n
    for kind, source, n in people:
        out[f"{kind}s"][f"{source}_recipients"] = n
    names = labels(camp.html)
    links = {i: {"index": i, "url": url, "clicks": 0, "people": 0, "machine_clicks": 0} for i, url in enumerate(names)}
    for detail, source, n, people in per_link:
        i = json.loads(detail or "{}").get("link", -1)
        row = links.setdefault(i, {"index": i, "url": None, "clicks": 0, "people": 0, "machine_clicks": 0})
        if source == Source.HUMAN:
            row["clicks"] += n
            row["people"] += people
        else:
            row["machine_clicks"] += n
    out["links"] = [links[i] for i in sorted(links)]
    return out
