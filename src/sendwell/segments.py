"""Segments: custom recipient lists (pasted, imported, or taken from a campaign's results)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO

from sqlalchemy import Connection, Engine, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from sendwell.db import bulk
from sendwell.db.engine import inserted_id, utcnow
from sendwell.db.schema import campaign_segments, campaigns, segment_members, segments
from sendwell.errors import Hint, NotFound, UserError
from sendwell.model import ImportReport, Segment, SegmentMember, SegmentShown, SegmentUse, parse_statuses, row_id
from sendwell.readers import good_records, typed

BATCH = 20_000


def segment_id(conn: Connection, name: str) -> int:
    sid = conn.execute(select(segments.c.id).where(segments.c.name == name)).scalar()
    if sid is None:
        raise NotFound(f"segment {name!r} does not exist", hint=Hint.LIST_SEGMENTS)
    return sid


def name_of(engine: Engine, name_or_id: str | int) -> str:
    """The name of the segment with this id, or else with this name (URLs and APIs may use either)."""
    with engine.connect() as conn:
        if (rid := row_id(name_or_id)) is not None:
            found = conn.execute(select(segments.c.name).where(segments.c.id == rid)).scalar()
            if found is not None:
                return found
        found = conn.execute(select(segments.c.name).where(segments.c.name == str(name_or_id))).scalar()
    if found is None:
        raise NotFound(f"segment {name_or_id!r} does not exist", hint=Hint.LIST_SEGMENTS)
    return found


def create(engine: Engine, name: str, description: str = "", *, public: bool = False) -> int:
    name = name.strip()
    if not name:
        raise UserError("must not be empty", field="name")
    try:
        with engine.begin() as conn:
            return inserted_id(
                conn.execute(
                    segments.insert().values(name=name, description=description, public=public, created_at=utcnow())
                )
            )
    except IntegrityError:
        raise UserError(f"segment {name!r} already exists", field="name", named=True) from None


def _merge_stage(conn: Connection, sid: int) -> int:
    """Add the staged addresses to the segment; returns how many were new members.

    ON CONFLICT, not NOT EXISTS: the anti-join made PostgreSQL hash the whole segment for every batch
    (quadratic over a big import), and a concurrent add of the same address cannot fail the import.
    """
    return conn.execute(
        text(
            "INSERT INTO segment_members (segment_id, email, display, added_at) "
            f"SELECT :sid, s.email, MIN(s.display), :at FROM {bulk.STAGE} s GROUP BY s.email "
            "ON CONFLICT (segment_id, email) DO NOTHING"
        ),
        {"sid": sid, "at": utcnow()},
    ).rowcount


def import_members(
    engine: Engine,
    name: str,
    stream: IO[bytes],
    *,
    source_name: str = "<input>",
    on_read: Callable[[int], None] | None = None,
) -> ImportReport:
    """Add every address of a CSV or pasted list to the segment; bad lines are reported."""
    report = ImportReport()
    with engine.begin() as conn:
        sid = segment_id(conn, name)
        bulk.create_stage(conn)

        def write(batch: list[tuple]) -> None:
            report.imported += _flush(conn, sid, batch)

        with bulk.Overlapped.on(conn, write) as writer:  # PostgreSQL merges a batch while the next is read
            batch: list[tuple] = []
            for record in good_records(stream, source_name, report, on_read, fields=False):
                batch.append(record)
                if len(batch) >= BATCH:
                    writer.submit(batch)
                    batch = []
            writer.submit(batch)
        if report.imported >= bulk.ANALYZE_AFTER:
            bulk.analyze(conn, "segment_members")
    if report.imported >= bulk.ANALYZE_AFTER:
        bulk.vacuum(engine, "segment_members")
    report.merged = report.read - len(report.rejected) - report.imported
    return report


def _flush(conn: Connection, sid: int, batch: list[tuple]) -> int:
    if not batch:
        return 0
    bulk.load_stage(conn, batch)
    added = _merge_stage(conn, sid)
    bulk.clear_stage(conn)
    return added


def add(engine: Engine, name: str, addresses: Iterable[str]) -> ImportReport:
    report = ImportReport()
    good = [(i, a.key, a.display, a.domain, "") for i, a in typed(addresses, report)]
    with engine.begin() as conn:
        sid = segment_id(conn, name)
        bulk.create_stage(conn)
        report.imported = _flush(conn, sid, good)
    report.merged = len(good) - report.imported
    return report


def remove(engine: Engine, name: str, addresses: Iterable[str]) -> ImportReport:
    report = ImportReport()
    keys = [a.key for _, a in typed(addresses, report)]
    with engine.begin() as conn:
        sid = segment_id(conn, name)
        report.imported = conn.execute(
            segment_members.delete().where(segment_members.c.segment_id == sid, segment_members.c.email.in_(keys))
        ).rowcount
    return report


def create_from_campaign(
    engine: Engine, name: str, campaign_id: int, statuses: str | Iterable[str], description: str = ""
) -> int:
    """A segment of the recipients of a campaign in the given statuses (e.g. every `error`)."""
    statuses = [s.value for s in parse_statuses(statuses)]
    description = description or f"recipients of campaign {campaign_id} in status {', '.join(statuses)}"
    try:
        with engine.begin() as conn:
            sid = inserted_id(
                conn.execute(segments.insert().values(name=name.strip(), description=description, created_at=utcnow()))
            )
            added = conn.execute(
                text(
                    "INSERT INTO segment_members (segment_id, email, display, added_at) SELECT :sid, email, "
                    "COALESCE(display, email), :at FROM recipients WHERE campaign_id = :cid AND status IN :statuses"
                ).bindparams(bindparam("statuses", expanding=True)),
                {"sid": sid, "at": utcnow(), "cid": campaign_id, "statuses": statuses},
            ).rowcount
            if added >= bulk.ANALYZE_AFTER:
                bulk.analyze(conn, "segment_members")
    except IntegrityError:
        raise UserError(f"segment {name!r} already exists", field="name", named=True) from None
    if added >= bulk.ANALYZE_AFTER:
        bulk.vacuum(engine, "segment_members")
    return added


def list_segments(engine: Engine) -> list[Segment]:
    members = (
        select(segment_members.c.segment_id, func.count().label("members"))
        .group_by(segment_members.c.segment_id)
        .subquery()
    )
    q = (
        select(
            segments.c.id,
            segments.c.name,
            segments.c.description,
            segments.c.public,
            segments.c.created_at,
            func.coalesce(members.c.members, 0).label("members"),
        )
        .select_from(segments.outerjoin(members, members.c.segment_id == segments.c.id))
        .order_by(segments.c.name)
    )
    with engine.connect() as conn:
        return [Segment(r.id, r.name, r.description, r.created_at, r.members, bool(r.public)) for r in conn.execute(q)]


def show(engine: Engine, name: str, *, limit: int = 100, offset: int = 0) -> SegmentShown:
    with engine.connect() as conn:
        sid = segment_id(conn, name)
        seg = conn.execute(select(segments).where(segments.c.id == sid)).one()
        total = conn.execute(
            select(func.count()).select_from(segment_members).where(segment_members.c.segment_id == sid)
        ).scalar_one()
        members = conn.execute(
            select(segment_members.c.email, segment_members.c.display, segment_members.c.added_at)
            .where(segment_members.c.segment_id == sid)
            .order_by(segment_members.c.email)
            .limit(limit)
            .offset(offset)
        ).all()
        used = conn.execute(
            select(campaigns.c.name, campaign_segments.c.mode)
            .join(campaigns, campaigns.c.id == campaign_segments.c.campaign_id)
            .where(campaign_segments.c.segment_id == sid)
        ).all()
    shown = [SegmentMember(m.email, m.display, m.added_at) for m in members]
    uses = [SegmentUse(u.name, u.mode) for u in used]
    return SegmentShown(seg.id, seg.name, seg.description, seg.created_at, total, bool(seg.public), shown, uses)


def iter_members(engine: Engine, name: str, batch: int = 5000) -> Iterator[SegmentMember]:
    with engine.connect() as conn:
        sid = segment_id(conn, name)
    last = ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(segment_members.c.email, segment_members.c.display, segment_members.c.added_at)
                .where(segment_members.c.segment_id == sid, segment_members.c.email > last)
                .order_by(segment_members.c.email)
                .limit(batch)
            ).all()
        if not rows:
            return
        for r in rows:
            yield SegmentMember(r.email, r.display, r.added_at)
        last = rows[-1].email


def delete(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        sid = segment_id(conn, name)
        used = (
            conn.execute(
                select(campaigns.c.name)
                .join(campaign_segments, campaigns.c.id == campaign_segments.c.campaign_id)
                .where(campaign_segments.c.segment_id == sid)
            )
            .scalars()
            .all()
        )
        if used:
            raise UserError(f"segment {name!r} is used by campaign(s) {', '.join(used)}; delete those first")
        conn.execute(segment_members.delete().where(segment_members.c.segment_id == sid))
        conn.execute(segments.delete().where(segments.c.id == sid))
