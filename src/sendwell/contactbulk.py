"""Change contacts: edit one (its fields and segments), or act at once on chosen ones or on every contact a filter
matches: add to or remove from a segment, blacklist with a reason, verify, delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select, update

from sendwell import blacklist, segments
from sendwell.addresses import AddressError, normalize
from sendwell.columns import field_name
from sendwell.contactquery import ContactFilter
from sendwell.db import bulk
from sendwell.db.engine import utcnow
from sendwell.db.schema import contacts, segment_members
from sendwell.db.schema import segments as segments_table
from sendwell.errors import NotFound, UserError

CHUNK = 5000  # contacts per round trip of a bulk action: memory stays flat on "all matching"


class Action(StrEnum):
    ADD_TO_SEGMENT = "add_to_segment"
    REMOVE_FROM_SEGMENT = "remove_from_segment"
    BLACKLIST = "blacklist"
    VERIFY = "verify"
    DELETE = "delete"


NEEDS_SEGMENT = (Action.ADD_TO_SEGMENT, Action.REMOVE_FROM_SEGMENT)


@dataclass(frozen=True)
class Selection:
    """The contacts an action is for: the chosen addresses, or (`everything`) all the filter matches."""

    addresses: tuple[str, ...] = ()
    matching: ContactFilter = field(default_factory=ContactFilter)
    everything: bool = False

    def conditions(self, engine: Engine) -> list[ColumnElement[bool]]:
        if self.everything:
            with engine.connect() as conn:
                return self.matching.conditions(conn)
        if not self.addresses:
            raise UserError("choose at least one contact, or all matching", field="emails")
        keys = []
        for address in self.addresses:
            try:
                keys.append(normalize(address))
            except AddressError as err:
                raise UserError(f"{address!r}: {err}", field="emails") from None
        return [contacts.c.email.in_(keys)]


def parse_action(value: str) -> Action:
    try:
        return Action(value)
    except ValueError:
        raise UserError(f"{value!r} is not one of {', '.join(a.value for a in Action)}", field="action") from None


def count(engine: Engine, selection: Selection) -> int:
    where = selection.conditions(engine)
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(contacts).where(*where)).scalar_one()


def _chunks(engine: Engine, where: Sequence[ColumnElement[bool]]) -> Iterator[list[str]]:
    """The selected contacts' addresses as written, CHUNK at a time (keyset: acting on a chunk cannot shift it)."""
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(contacts.c.id, contacts.c.display)
                .where(contacts.c.id > last, *where)
                .order_by(contacts.c.id)
                .limit(CHUNK)
            ).all()
        if not rows:
            return
        yield [r.display for r in rows]
        last = rows[-1].id


def apply(
    engine: Engine,
    selection: Selection,
    action: Action | str,
    *,
    segment: str = "",
    reason: str = "",
    note: str = "",
    actor: str = "",
    source: str = "web",
    settings: Any = None,
    dns: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Do `action` to the selection; {"action", "count"} (and the verdicts' counts for a verification)."""
    action = parse_action(action) if isinstance(action, str) else action
    if action in NEEDS_SEGMENT:
        if not segment:
            raise UserError("choose a segment", field="segment")
        with engine.connect() as conn:
            try:
                segments.segment_id(conn, segment)
            except NotFound:
                raise UserError(f"no segment named {segment!r}", field="segment") from None
    if action is Action.BLACKLIST:
        reason = blacklist.parse_reason(reason or "manual").value
    where = selection.conditions(engine)
    if action is Action.VERIFY:
        from sendwell.verify.run import VerifyOptions
        from sendwell.verify.store import verify_contacts

        options = VerifyOptions.from_settings(settings, dns=dns)
        summary = verify_contacts(engine, settings, progress=progress, options=options, where=where, recheck=True)
        return {"action": action.value, "count": summary.checked, "verdicts": summary.verdicts}
    if action is Action.DELETE:
        with engine.begin() as conn:
            return {"action": action.value, "count": conn.execute(contacts.delete().where(*where)).rowcount}
    done = 0
    for addresses in _chunks(engine, where):
        if action is Action.ADD_TO_SEGMENT:
            segments.add(engine, segment, addresses)
        elif action is Action.REMOVE_FROM_SEGMENT:
            segments.remove(engine, segment, addresses)
        else:
            blacklist.add(engine, addresses, reason=reason, source=source, note=note, actor=actor)
        done += len(addresses)
    if action is Action.ADD_TO_SEGMENT and done >= bulk.ANALYZE_AFTER:
        bulk.vacuum(engine, "segment_members")  # as a big import does: audiences read members from the key
    return {"action": action.value, "count": done}


def update_contact(
    engine: Engine, address: str, fields: Mapping[str, str], member_of: Sequence[str] | None = None
) -> None:
    """Replace a contact's fields (an empty value drops the field) and, when `member_of` is given, make its
    segments exactly those."""
    try:
        key = normalize(address)
    except AddressError as err:
        raise UserError(f"{address!r}: {err}", field="email") from None
    cleaned: dict[str, str] = {}
    for name, value in fields.items():
        if not name.strip():
            if value.strip():
                raise UserError(f"the value {value!r} has no field name", field="fields")
            continue
        name = field_name(name)
        if name == "email":
            raise UserError("the address is not a field: it cannot be changed here", field="fields")
        if value.strip():
            cleaned[name] = value.strip()
    with engine.begin() as conn:
        row = conn.execute(select(contacts.c.display).where(contacts.c.email == key)).first()
        if row is None:
            raise NotFound(f"{address}: no such contact")
        conn.execute(update(contacts).where(contacts.c.email == key).values(fields=cleaned, updated_at=utcnow()))
        if member_of is None:
            return
        wanted = set(member_of)
        known = {r.name: r.id for r in conn.execute(select(segments_table.c.name, segments_table.c.id))}
        unknown = sorted(wanted - set(known))
        if unknown:
            raise UserError(f"no segment named {unknown[0]!r}", field="segments")
        current = set(
            conn.execute(
                select(segments_table.c.name)
                .join(segment_members, segment_members.c.segment_id == segments_table.c.id)
                .where(segment_members.c.email == key)
            ).scalars()
        )
        now = utcnow()
        for name in sorted(wanted - current):
            conn.execute(
                segment_members.insert().values(segment_id=known[name], email=key, display=row.display, added_at=now)
            )
        gone = [known[n] for n in current - wanted]
        if gone:
            conn.execute(
                segment_members.delete().where(segment_members.c.email == key, segment_members.c.segment_id.in_(gone))
            )
