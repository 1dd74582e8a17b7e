"""Tracking statistics of one campaign: people's reads and clicks, machines' apart, clicks per link."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, distinct, func, select

from sendwell.db.schema import campaigns, events, recipients
from sendwell.errors import NotFound
from sendwell.tracking.links import labels
from sendwell.tracking.machine import Hit, Source


@dataclass(frozen=True, slots=True)
class HitCounts:
    """Reads (image fetches) or clicks: hits and distinct recipients, people's and machines' apart."""

    human: int = 0
    machine: int = 0
    human_recipients: int = 0
    machine_recipients: int = 0
    machine_by_reason: dict[str, int] = field(default_factory=dict)  # the rule that flagged a machine → hits


@dataclass(frozen=True, slots=True)
class LinkClicks:
    index: int  # the link's place in the HTML
    url: str | None  # None: a link no longer in the campaign's HTML
    clicks: int  # people's
    people: int
    machine_clicks: int


@dataclass(frozen=True, slots=True)
class TrackingStats:
    campaign_id: int
    track: list[str]  # what the campaign tracks: reads and/or clicks
    read: int  # recipients (a click implies a read)
    clicked: int
    opens: HitCounts
    clicks: HitCounts
    links: list[LinkClicks]


def tracking_stats(engine: Engine, campaign_id: int) -> TrackingStats:
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
    counts: dict[str, dict[str, Any]] = {
        kind: {"human": 0, "machine": 0, "human_recipients": 0, "machine_recipients": 0, "machine_by_reason": {}}
        for kind in Hit
    }
    for kind, source, reason, n in hits:
        counts[kind][source] += n
        if source == Source.MACHINE:
            counts[kind]["machine_by_reason"][reason or "unknown"] = n
    for kind, source, n in people:
        counts[kind][f"{source}_recipients"] = n
    names = labels(camp.html)
    links: dict[int, dict[str, Any]] = {
        i: {"index": i, "url": url, "clicks": 0, "people": 0, "machine_clicks": 0} for i, url in enumerate(names)
    }
    for detail, source, n, people in per_link:
        i = json.loads(detail or "{}").get("link", -1)
        row = links.setdefault(i, {"index": i, "url": None, "clicks": 0, "people": 0, "machine_clicks": 0})
        if source == Source.HUMAN:
            row["clicks"] += n
            row["people"] += people
        else:
            row["machine_clicks"] += n
    return TrackingStats(
        campaign_id,
        list(camp.track or []),
        read,
        clicked,
        HitCounts(**counts[Hit.OPEN]),
        HitCounts(**counts[Hit.CLICK]),
        [LinkClicks(**links[i]) for i in sorted(links)],
    )
