"""A campaign's audience: (union of included segments, or all contacts) − excluded segments − black list.

Resolved once, at the start of sending, in one INSERT … SELECT into the recipients ledger.
Contacts whose verification verdict the campaign skips are recorded as `skipped` (kind `invalid`),
so the operator sees them, and are never sent.

Rows go in in address order: the insert then walks the ledger's address index (email, campaign) once
from start to end, each page in turn, instead of at random pages (on PostgreSQL a 690k audience takes a
third less time). Contacts are read only for the verdicts the campaign skips, from the partial index of
verified contacts. A row holds only what is its own: no contact id (the contact's fields are found by
address when a message is rendered), no spelling that is the address itself and no queue time (both
NULL: readers take the address and the campaign's start). On PostgreSQL the statistics of the tables
read are refreshed first when they are stale: planned on an "empty" segment table the statement takes
nested loops and runs three times longer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, Connection, TextClause, bindparam, select, text

from sendwell.db import bulk
from sendwell.db.schema import contacts
from sendwell.model import FailureKind, RecipientStatus

_AUDIENCE = """
FROM ({source}) a {verdicts}
WHERE NOT EXISTS (SELECT 1 FROM segment_members x WHERE x.segment_id IN :exclude AND x.email = a.email)
  AND NOT EXISTS (SELECT 1 FROM blacklist b WHERE b.email = a.email)"""
_RESOLVE = (
    """
INSERT INTO recipients (campaign_id, email, display, status, kind, reason, attempts)
SELECT :cid, a.email, NULLIF(a.display, a.email), {status}, 0"""
    + _AUDIENCE
    + """
ORDER BY a.email
"""
)
# Who would be sent (not skipped by verdict): the same rules, read without writing (previews, merge-field checks).
_MEMBERS = "SELECT a.email, a.display" + _AUDIENCE + "{sent_only}"
# v.verdict is not NULL exactly when the contact's verdict is one the campaign skips (ix_contacts_verdict)
_VERDICTS = "LEFT JOIN contacts v ON v.email = a.email AND v.verdict IN :skip"
_SKIPPING = (
    "CASE WHEN v.verdict IS NULL THEN :queued ELSE :skipped END, "
    "CASE WHEN v.verdict IS NOT NULL THEN :invalid END, v.verdict"
)
_QUEUED = ":queued, NULL, NULL"  # no verdict skipped: every row is queued, no contact is read
_ALL_CONTACTS = "SELECT email, display FROM contacts"
_SEGMENTS = "SELECT email, MIN(display) AS display FROM segment_members WHERE segment_id IN :include GROUP BY email"
_ONE_SEGMENT = "SELECT email, display FROM segment_members WHERE segment_id IN :include"  # no duplicates to fold
_READ = ("contacts", "segment_members", "blacklist")


def resolve(
    conn: Connection,
    campaign_id: int,
    *,
    include: Sequence[int],
    exclude: Sequence[int],
    all_contacts: bool,
    skip_verdicts: Sequence[str],
) -> int:
    """Materialize the audience into `recipients`; returns the number of rows written."""
    bulk.refresh_stale_statistics(conn, *_READ)
    skip = list(skip_verdicts)
    if skip and conn.execute(select(contacts.c.id).where(contacts.c.verdict.in_(skip)).limit(1)).first() is None:
        skip = []  # no contact has such a verdict (a list not verified yet): no need to look each one up
    stmt, params = statement(campaign_id, include=include, exclude=exclude, all_contacts=all_contacts, skip=skip)
    return conn.execute(stmt, params).rowcount


def statement(
    campaign_id: int, *, include: Sequence[int], exclude: Sequence[int], all_contacts: bool, skip: Sequence[str]
) -> tuple[TextClause, dict[str, Any]]:
    """The one INSERT … SELECT and its parameters (`skip`: the verdicts to look up; none: no contact is read)."""
    source = _ALL_CONTACTS if all_contacts else _ONE_SEGMENT if len(include) == 1 else _SEGMENTS
    binds: list[BindParameter[Any]] = [bindparam("exclude", expanding=True)]
    params: dict[str, Any] = {
        "cid": campaign_id,
        "exclude": list(exclude) or [-1],
        "queued": RecipientStatus.QUEUED.value,
    }
    if skip:
        binds.append(bindparam("skip", expanding=True))
        params |= {"skip": list(skip), "skipped": RecipientStatus.SKIPPED.value, "invalid": FailureKind.INVALID.value}
    if not all_contacts:
        binds.append(bindparam("include", expanding=True))
        params["include"] = list(include) or [-1]
    stmt = text(
        _RESOLVE.format(source=source, status=_SKIPPING if skip else _QUEUED, verdicts=_VERDICTS if skip else "")
    ).bindparams(*binds)
    return stmt, params


def members(
    *, include: Sequence[int], exclude: Sequence[int], all_contacts: bool, skip: Sequence[str]
) -> tuple[TextClause, dict[str, Any]]:
    """SELECT email, display of the recipients `resolve` would queue now (the skipped verdicts left out)."""
    source = _ALL_CONTACTS if all_contacts else _ONE_SEGMENT if len(include) == 1 else _SEGMENTS
    binds: list[BindParameter[Any]] = [bindparam("exclude", expanding=True)]
    params: dict[str, Any] = {"exclude": list(exclude) or [-1]}
    if skip:
        binds.append(bindparam("skip", expanding=True))
        params["skip"] = list(skip)
    if not all_contacts:
        binds.append(bindparam("include", expanding=True))
        params["include"] = list(include) or [-1]
    stmt = text(
        _MEMBERS.format(
            source=source, verdicts=_VERDICTS if skip else "", sent_only=" AND v.verdict IS NULL" if skip else ""
        )
    ).bindparams(*binds)
    return stmt, params
