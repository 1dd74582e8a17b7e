"""A campaign's audience: (union of included segments, or all contacts) − excluded segments − black list.

Resolved once, at the start of sending, in one INSERT … SELECT into the recipients ledger.
Contacts whose verification verdict the campaign skips are recorded as `skipped` (kind `invalid`),
so the operator sees them, and are never sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, text

from sendwell.model import FailureKind, RecipientStatus

_RESOLVE = """
INSERT INTO recipients (campaign_id, email, display, contact_id, status, kind, reason, attempts, queued_at)
SELECT :cid, a.email, a.display, c.id,
       CASE WHEN c.verdict IN :skip THEN :skipped ELSE :queued END,
       CASE WHEN c.verdict IN :skip THEN :invalid END,
       CASE WHEN c.verdict IN :skip THEN c.verdict END,
       0, :now
FROM ({source}) a
LEFT JOIN contacts c ON c.email = a.email
WHERE NOT EXISTS (SELECT 1 FROM segment_members x WHERE x.segment_id IN :exclude AND x.email = a.email)
  AND NOT EXISTS (SELECT 1 FROM blacklist b WHERE b.email = a.email)
"""
_ALL_CONTACTS = "SELECT email, display FROM contacts"
_SEGMENTS = "SELECT email, MIN(display) AS display FROM segment_members WHERE segment_id IN :include GROUP BY email"
_ONE_SEGMENT = "SELECT email, display FROM segment_members WHERE segment_id IN :include"  # no duplicates to fold


def resolve(conn: Connection, campaign_id: int, *, include: Sequence[int], exclude: Sequence[int],
            all_contacts: bool, skip_verdicts: Sequence[str], now: datetime) -> int:
    """Materialize the audience into `recipients`; returns the number of rows written."""
    source = _ALL_CONTACTS if all_contacts else _ONE_SEGMENT if len(include) == 1 else _SEGMENTS
    stmt = text(_RESOLVE.format(source=source)).bindparams(
        bindparam("skip", expanding=True), bindparam("exclude", expanding=True),
        *([] if all_contacts else [bindparam("include", expanding=True)]))
    params = {"cid": campaign_id, "skip": list(skip_verdicts) or ["-"], "exclude": list(exclude) or [-1],
              "skipped": RecipientStatus.SKIPPED.value, "queued": RecipientStatus.QUEUED.value,
              "invalid": FailureKind.INVALID.value, "now": now}
    if not all_contacts:
        params["include"] = list(include) or [-1]
    return conn.execute(stmt, params).rowcount
