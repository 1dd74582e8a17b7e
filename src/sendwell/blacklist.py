"""The black list (suppression list): addresses never mailed again, with reasons, evidence and history.

Every add and remove is also written to blacklist_history, so a suppression can be explained
(who, why, from which campaign or bounce) and reversed without losing the trail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Connection, Engine, Row, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from sendwell.addresses import AddressError, parse_address
from sendwell.db import bulk
from sendwell.db.engine import utcnow
from sendwell.db.schema import blacklist, blacklist_history, campaigns, events, recipients
from sendwell.errors import NotFound, UserError
from sendwell.model import BlacklistReason, ImportReport, Rejected, parse_statuses
from sendwell.readers import good_records, typed

BATCH = 20_000


def parse_reason(value: BlacklistReason | str, field: str = "reason") -> BlacklistReason:
    """The reason a person gave for suppressing (on add, on import, as a filter), checked the one way: a name it
    does not know is an error naming `field` and the valid names, before anything is read or written."""
    try:
        return BlacklistReason(str(value).strip().lower())
    except ValueError:
        raise UserError(f"{value!r} is not a reason; choose from {', '.join(BlacklistReason)}", field=field) from None


def add_entries(
    conn: Connection,
    entries: Iterable[tuple[str, str]],
    *,
    reason: BlacklistReason | str,
    source: str,
    note: str = "",
    actor: str = "",
    event_id: int | None = None,
) -> int:
    """Blacklist (key, display) pairs inside the caller's transaction; returns how many were new."""
    reason = str(parse_reason(reason))
    bulk.create_stage(conn)
    added = 0
    batch: list[tuple] = []
    for key, display in entries:
        batch.append((0, key, display, "", ""))
        if len(batch) >= BATCH:
            added += _merge(conn, batch, reason, source, note, actor, event_id)
            batch = []
    added += _merge(conn, batch, reason, source, note, actor, event_id)
    return added


def _merge(
    conn: Connection, batch: list[tuple], reason: str, source: str, note: str, actor: str, event_id: int | None
) -> int:
    if not batch:
        return 0
    bulk.load_stage(conn, batch)
    added = _merge_stage(conn, reason, source, note, actor, event_id)
    bulk.clear_stage(conn)
    return added


def _merge_stage(conn: Connection, reason: str, source: str, note: str, actor: str, event_id: int | None) -> int:
    """Move the staged addresses onto the black list; returns how many were new."""
    params = {"reason": reason, "source": source, "note": note, "actor": actor, "at": utcnow(), "ev": event_id}
    # Only addresses not yet suppressed get a history row; the first reason stays the entry's reason.
    fresh = (
        f"FROM (SELECT email, MIN(display) AS display FROM {bulk.STAGE} GROUP BY email) s "
        "WHERE NOT EXISTS (SELECT 1 FROM blacklist b WHERE b.email = s.email)"
    )
    conn.execute(
        text(
            "INSERT INTO blacklist_history (email, action, reason, source, note, actor, at) "
            f"SELECT s.email, 'added', :reason, :source, :note, :actor, :at {fresh}"
        ),
        params,
    )
    return conn.execute(
        text(
            "INSERT INTO blacklist (email, display, reason, source, note, actor, created_at, "
            f"event_id) SELECT s.email, s.display, :reason, :source, :note, :actor, :at, :ev "
            f"{fresh}"
        ),
        params,
    ).rowcount


@dataclass(frozen=True, slots=True)
class Evidenced:
    """One address to blacklist because of one recorded event."""

    email: str  # the address key
    display: str
    reason: BlacklistReason
    source: str  # `campaign:<id>`, or the event's own source when it matched no campaign
    note: str
    event_id: int


def add_evidenced(conn: Connection, entries: list[Evidenced], *, actor: str, at: datetime) -> set[str]:
    """Blacklist each address for its own event inside the caller's transaction; returns the keys that were new.

    A few rows per call (the refusals of one group of outcomes): two multi-row inserts, no staging table.
    An address already listed keeps its first entry; one listed meanwhile by another worker is skipped."""
    todo: dict[str, Evidenced] = {}
    for e in entries:
        todo.setdefault(e.email, e)
    if not todo:
        return set()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(blacklist).on_conflict_do_nothing(index_elements=["email"]).returning(blacklist.c.email)
    added = set(
        conn.execute(
            stmt,
            [
                {
                    "email": e.email,
                    "display": e.display,
                    "reason": str(e.reason),
                    "source": e.source,
                    "note": e.note,
                    "actor": actor,
                    "created_at": at,
                    "event_id": e.event_id,
                }
                for e in todo.values()
            ],
        ).scalars()
    )
    if added:
        conn.execute(
            blacklist_history.insert(),
            [
                {
                    "email": e.email,
                    "action": "added",
                    "reason": str(e.reason),
                    "source": e.source,
                    "note": e.note,
                    "actor": actor,
                    "at": at,
                }
                for e in todo.values()
                if e.email in added
            ],
        )
    return added


def add(
    engine: Engine,
    addresses: Iterable[str],
    *,
    reason: BlacklistReason | str = BlacklistReason.MANUAL,
    source: str = "cli",
    note: str = "",
    actor: str = "",
) -> ImportReport:
    """Blacklist addresses typed or pasted by a person; bad ones are reported, good ones added."""
    reason = parse_reason(reason)
    report = ImportReport()
    good = [(a.key, a.display) for _, a in typed(addresses, report)]
    with engine.begin() as conn:
        report.imported = add_entries(conn, good, reason=reason, source=source, note=note, actor=actor)
    report.merged = len(good) - report.imported
    return report


def import_file(
    engine: Engine,
    stream: IO[bytes],
    *,
    name: str = "<input>",
    reason: BlacklistReason | str = BlacklistReason.MANUAL,
    note: str = "",
    actor: str = "",
    on_read: Callable[[int], None] | None = None,
) -> ImportReport:
    """Blacklist every address of a CSV (email column) or a pasted list; report bad lines. A bad `reason` is refused
    before a byte is read (the rows carry no reason of their own: every address gets this one)."""
    reason = parse_reason(reason)
    report = ImportReport()

    def good() -> Iterable[tuple[str, str]]:
        for record in good_records(stream, name, report, on_read, fields=False):
            yield record[1], record[2]

    with engine.begin() as conn:
        report.imported = add_entries(conn, good(), reason=reason, source=f"import:{name}", note=note, actor=actor)
        if report.imported >= bulk.ANALYZE_AFTER:
            bulk.analyze(conn, "blacklist", "blacklist_history")
    report.merged = report.read - len(report.rejected) - report.imported
    return report


def add_from_campaign(
    engine: Engine,
    campaign_id: int,
    statuses: str | Iterable[str],
    *,
    note: str = "",
    actor: str = "",
    reason: BlacklistReason | str = BlacklistReason.MANUAL,
) -> int:
    """Blacklist every recipient of a campaign in the given statuses, in one statement set."""
    statuses = [s.value for s in parse_statuses(statuses)]
    reason = parse_reason(reason)
    with engine.begin() as conn:
        bulk.create_stage(conn)
        conn.execute(
            text(
                f"INSERT INTO {bulk.STAGE} (line, email, display, domain, fields) "
                "SELECT 0, email, COALESCE(display, email), '', '' FROM recipients "
                "WHERE campaign_id = :cid AND status IN :statuses"
            ).bindparams(bindparam("statuses", expanding=True)),
            {"cid": campaign_id, "statuses": statuses},
        )
        added = _merge_stage(conn, str(reason), f"campaign:{campaign_id}", note, actor, None)
        bulk.clear_stage(conn)
    return added


def already_from_campaign(engine: Engine, campaign_id: int, statuses: str | Iterable[str]) -> int:
    """How many distinct recipients of a campaign in these statuses are on the black list already (most error
    addresses are suppressed at send time): what blacklisting them again would not add."""
    wanted = [s.value for s in parse_statuses(statuses)]
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count(func.distinct(recipients.c.email)))
                .select_from(recipients.join(blacklist, blacklist.c.email == recipients.c.email))
                .where(recipients.c.campaign_id == campaign_id, recipients.c.status.in_(wanted))
            ).scalar()
            or 0
        )


def remove(engine: Engine, addresses: Iterable[str], *, note: str = "", actor: str = "") -> ImportReport:
    """Lift suppressions; the history keeps who removed them and why."""
    report = ImportReport()
    with engine.begin() as conn:
        for i, a in typed(addresses, report):
            key = a.key
            entry = conn.execute(select(blacklist).where(blacklist.c.email == key)).first()
            if entry is None:
                report.rejected.append(Rejected(i, a.display, "not on the black list"))
                continue
            conn.execute(blacklist.delete().where(blacklist.c.email == key))
            conn.execute(
                blacklist_history.insert().values(
                    email=key,
                    action="removed",
                    reason=entry.reason,
                    source="manual",
                    note=note,
                    actor=actor,
                    at=utcnow(),
                )
            )
            report.imported += 1
    return report


def is_blacklisted(engine: Engine, address: str) -> bool:
    key = parse_address(address.strip()).key
    with engine.connect() as conn:
        return conn.execute(select(blacklist.c.email).where(blacklist.c.email == key)).first() is not None


def count(engine: Engine, reason: str | None = None, *, search: str | None = None) -> int:
    q = select(func.count()).select_from(blacklist)
    if reason:
        q = q.where(blacklist.c.reason == parse_reason(reason).value)
    if search:  # the same filter as list_entries, so a page count matches the rows
        q = q.where(blacklist.c.email.contains(search.lower(), autoescape=True))
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()


@dataclass(frozen=True, slots=True)
class BlacklistEntry:
    """One suppressed address, as the list, the export and the API show it."""

    email: str  # the comparison key
    display: str  # as it was typed
    reason: str
    source: str
    note: str
    actor: str
    created_at: datetime
    event_id: int | None  # the event it was suppressed for; None for an operator's add or import


@dataclass(frozen=True, slots=True)
class BlacklistChange:
    """One add or remove in an address's history."""

    id: int
    email: str
    action: str  # added | removed
    reason: str
    source: str
    note: str
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Evidence:
    """An event kept as evidence for a suppression: a bounce, a refusal, a complaint, an unsubscribe."""

    id: int
    at: datetime
    type: str
    reason: str | None
    hard: bool | None
    status_code: str | None
    detail: str | None  # the server's answer
    source: str | None  # smtp:<relay>, mailbox:<format>, webhook:<provider>...
    campaign_id: int | None
    campaign: str | None  # its name
    raw: str  # the message as received, decoded for reading ("" when none was kept)


@dataclass(frozen=True, slots=True)
class ExplainedEntry(BlacklistEntry):
    """A current entry with the event it was made for (None for an operator's add or import)."""

    event: Evidence | None


@dataclass(frozen=True, slots=True)
class BlacklistRecord:
    """Everything known of one address: its entry (none once removed), every change and every event."""

    email: str
    entry: ExplainedEntry | None
    history: list[BlacklistChange]
    events: list[Evidence]


def _entry(row: Row[Any]) -> BlacklistEntry:
    return BlacklistEntry(
        row.email, row.display, row.reason, row.source, row.note, row.actor, row.created_at, row.event_id
    )


def list_entries(
    engine: Engine, *, reason: str | None = None, search: str | None = None, limit: int | None = 100, offset: int = 0
) -> list[BlacklistEntry]:
    q = select(blacklist).order_by(blacklist.c.created_at.desc(), blacklist.c.email).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    if reason:
        q = q.where(blacklist.c.reason == parse_reason(reason).value)
    if search:
        q = q.where(blacklist.c.email.contains(search.lower(), autoescape=True))
    with engine.connect() as conn:
        return [_entry(r) for r in conn.execute(q)]


def iter_entries(engine: Engine, batch: int = 5000) -> Iterable[BlacklistEntry]:
    """All entries in address order, streamed by keyset pagination."""
    last = ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(blacklist).where(blacklist.c.email > last).order_by(blacklist.c.email).limit(batch)
            ).all()
        if not rows:
            return
        for r in rows:
            yield _entry(r)
        last = rows[-1].email


def show(engine: Engine, address: str) -> BlacklistRecord:
    """The entry (if any), its whole history and the events (bounces, refusals, complaints) kept as evidence.

    `entry.event` is the event the entry was made for (None for an operator's add or import), so
    every automatic suppression is explained by what happened: kind, reason, status code, the server's
    answer, where it came from (`smtp:<relay>`, `mailbox:<format>`, `webhook:<provider>`...), the campaign."""
    try:
        key = parse_address(address.strip()).key
    except AddressError as err:
        raise UserError(f"{address!r}: {err}") from None
    with engine.connect() as conn:
        entry = conn.execute(select(blacklist).where(blacklist.c.email == key)).first()
        history = conn.execute(
            select(blacklist_history).where(blacklist_history.c.email == key).order_by(blacklist_history.c.id)
        ).all()
        evidence = conn.execute(
            select(
                events.c.id,
                events.c.at,
                events.c.type,
                events.c.reason,
                events.c.hard,
                events.c.status_code,
                events.c.detail,
                events.c.source,
                events.c.campaign_id,
                campaigns.c.name.label("campaign"),
                events.c.raw,
            )
            .select_from(events.outerjoin(campaigns, campaigns.c.id == events.c.campaign_id))
            .where(events.c.email == key, events.c.type.not_in(("open", "click")))
            .order_by(events.c.at, events.c.id)
        ).all()
    if entry is None and not history:
        raise NotFound(f"{address}: not on the black list and never was")
    found = [Evidence(**{**e._mapping, "raw": (e.raw or b"").decode("utf-8", "replace")}) for e in evidence]
    current = None
    if entry is not None:
        current = ExplainedEntry(**entry._mapping, event=next((e for e in found if e.id == entry.event_id), None))
    return BlacklistRecord(key, current, [BlacklistChange(**h._mapping) for h in history], found)
