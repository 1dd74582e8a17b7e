"""Record bounces, complaints and unsubscribes as events, then apply the hygiene policy to them.

Every suppression starts here: a DSN or a webhook (record_bounce), a complaint or an unsubscribe
(record_suppression), and a receiving server's live refusal at RCPT TO or after DATA, recorded by the
sending engine in its outcome's transaction (record_answers). Idempotent: each event has a dedup key
(the evidence and the address), so ingesting the same bounce twice changes nothing. Every event is
kept, matched to a campaign recipient or not. Sources are named `<channel>:<detail>` (docs/hygiene.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from sendwell import blacklist, hygiene
from sendwell.addresses import parse_address
from sendwell.config import Settings
from sendwell.db.engine import as_utc, utcnow
from sendwell.db.schema import address_scores, daily_usage, events, recipients
from sendwell.model import BlacklistReason, RecipientStatus
from sendwell.sending import msgid

_COUNTED_AS_SENT = (RecipientStatus.SENT.value, RecipientStatus.READ.value, RecipientStatus.CLICKED.value)
MATCH_BY_ADDRESS_DAYS = 30  # a bounce with no token or Message-ID matches the address's latest send this recent
# A late bounce may overturn these; `error` and `skipped` are final either way.
_OVERTURNABLE = (
    RecipientStatus.SENT.value,
    RecipientStatus.DEFERRED.value,
    RecipientStatus.QUEUED.value,
    RecipientStatus.FAILED.value,
    RecipientStatus.READ.value,
    RecipientStatus.CLICKED.value,
)


@dataclass
class Applied:
    """What one event did, for logs and tests."""

    event_id: int | None
    email: str
    campaign_id: int | None = None
    recipient_id: int | None = None
    duplicate: bool = False
    status: str | None = None
    blacklisted: str | None = None  # the black-list reason, when the address was suppressed now
    notes: list[str] = field(default_factory=list)


def dedup_key(raw: bytes, email: str, kind: str) -> str:
    return hashlib.sha256(raw + b"\0" + email.encode() + b"\0" + kind.encode()).hexdigest()


def _insert_event(conn: Connection, values: dict[str, Any]) -> int | None:
    """Insert unless the dedup key is known; returns the new id or None for a duplicate."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(events).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    result = conn.execute(stmt.returning(events.c.id))
    row = result.first()
    return row[0] if row else None


def find_recipient(
    conn: Connection,
    email: str,
    *,
    campaign_id: int | None = None,
    recipient_id: int | None = None,
    message_id: str | None = None,
    now: datetime | None = None,
) -> Any:
    """The campaign recipient a report is about: by signed token, else Message-ID, else a recent send."""
    cols = select(
        recipients.c.id,
        recipients.c.campaign_id,
        recipients.c.email,
        recipients.c.status,
        recipients.c.kind,
        recipients.c.sent_at,
    )
    if recipient_id is not None:
        row = conn.execute(cols.where(recipients.c.id == recipient_id, recipients.c.campaign_id == campaign_id)).first()
        if row is not None:
            return row
    if message_id and (named := msgid.row_of(message_id)) is not None:
        cid, rid = named  # the whole Message-ID must match: the random part tells attempts apart
        row = conn.execute(
            cols.where(
                recipients.c.id == rid, recipients.c.campaign_id == cid, recipients.c.message_id == message_id.strip()
            )
        ).first()
        if row is not None:
            return row
    if email:
        since = (now or utcnow()) - timedelta(days=MATCH_BY_ADDRESS_DAYS)
        return conn.execute(
            cols.where(recipients.c.email == email, recipients.c.sent_at >= since)
            .order_by(recipients.c.sent_at.desc())
            .limit(1)
        ).first()
    return None


def address_key(address: str) -> str | None:
    """The address as sendwell stores it (a report may wrap it in <>), or None when it is not an address."""
    try:
        return parse_address(address.strip().strip("<>")).key
    except ValueError:  # AddressError, or a codec's error on a hostile domain
        return None


def _key(address: str) -> str:
    return address_key(address) or address.strip().strip("<>").lower()


def record_bounce(
    engine: Engine,
    settings: Settings,
    *,
    email: str,
    reason: str,
    status_code: str,
    hard: bool,
    detail: str,
    raw: bytes,
    source: str,
    campaign_id: int | None = None,
    recipient_id: int | None = None,
    message_id: str | None = None,
    at: datetime | None = None,
) -> Applied:
    """Record one failed recipient of a bounce and act on it (status, black list, soft score)."""
    now = at or utcnow()
    key = _key(email)
    decision = hygiene.decide_bounce(reason, status_code, hard)
    with engine.begin() as conn:
        target = find_recipient(
            conn, key, campaign_id=campaign_id, recipient_id=recipient_id, message_id=message_id, now=now
        )
        applied = Applied(None, key, target.campaign_id if target else None, target.id if target else None)
        event_id = _insert_event(
            conn,
            {
                "at": now,
                "type": "bounce",
                "email": key,
                "campaign_id": applied.campaign_id,
                "recipient_id": applied.recipient_id,
                "hard": decision.action is hygiene.AddressAction.SUPPRESS,
                "status_code": status_code,
                "reason": reason,
                "detail": detail[:4000],
                "source": source,
                "dedup_key": dedup_key(raw, key, "bounce"),
                "raw": raw,
            },
        )
        if event_id is None:
            applied.duplicate = True
            return applied
        applied.event_id = event_id
        if target is not None and decision.status is not None and target.status in _OVERTURNABLE:
            code = int(detail[:3]) if detail[:3].isascii() and detail[:3].isdigit() and detail[0] in "45" else None
            conn.execute(
                update(recipients)
                .where(recipients.c.id == target.id)
                .values(
                    status=decision.status.value,
                    kind=decision.kind.value if decision.kind else None,
                    reason=reason,
                    smtp_code=code,
                    enhanced_code=status_code or None,
                    smtp_answer=detail[:2000],
                    updated_at=now,
                )
            )
            applied.status = decision.status.value
            if decision.status is RecipientStatus.ERROR and target.status in _COUNTED_AS_SENT:
                _recount(conn, settings, target.sent_at, sent=-1, address_errors=1)
        if decision.action is hygiene.AddressAction.SUPPRESS and decision.blacklist_reason:
            if blacklist.add_entries(
                conn,
                [(key, email.strip().strip("<>"))],
                reason=decision.blacklist_reason,
                source=_source(applied, source),
                note=f"{status_code} {reason}".strip(),
                actor="sendwell",
                event_id=event_id,
            ):
                applied.blacklisted = decision.blacklist_reason.value
        elif decision.action is hygiene.AddressAction.SCORE and _score(conn, key, now, settings):
            blacklist.add_entries(
                conn,
                [(key, email.strip().strip("<>"))],
                reason="soft_bounce",
                source=_source(applied, source),
                note=f"soft-bounce score reached {settings.bounces.soft_threshold}",
                actor="sendwell",
                event_id=event_id,
            )
            applied.blacklisted = "soft_bounce"
    return applied


@dataclass(frozen=True, slots=True)
class Answer:
    """A receiving server's final refusal of one campaign recipient, given live during the SMTP transaction."""

    email: str  # the address key
    display: str
    campaign_id: int
    recipient_id: int
    attempt: int  # which delivery attempt of the recipient (part of the dedup key)
    stage: str  # rcpt | data | eod (outcome.Stage)
    relay: str  # host:port of the relay that gave (or passed on) the answer
    answer: str  # the server's answer as given: "550 5.1.1 <a@b.org>: no such user"
    reason: str  # bounces.report.Reason, judged as a DSN's Diagnostic-Code would be
    status_code: str  # the enhanced code, or X.0.0 from the basic code
    hard: bool  # the address does not exist

    @property
    def source(self) -> str:
        return f"smtp:{self.relay}"

    @property
    def raw(self) -> bytes:
        """The evidence: the step of the dialogue and the answer to it."""
        asked = {"rcpt": f"RCPT TO:<{self.display}>", "data": "DATA", "eod": "(end of data)"}.get(
            self.stage, self.stage
        )
        return f"{asked}\r\n{self.answer}\r\n".encode()


def record_answers(conn: Connection, settings: Settings, answers: list[Answer], now: datetime) -> list[Applied]:
    """Record live refusals as bounce events inside the caller's transaction (the one recording the outcomes),
    and act on them as on any bounce: blacklist, soft-bounce score, or nothing. The ledger rows were
    written by the caller with the same judgment (sending/engine.py), so they are left alone here."""
    if not answers:
        return []
    rows = [
        {
            "at": now,
            "type": "bounce",
            "email": a.email,
            "campaign_id": a.campaign_id,
            "recipient_id": a.recipient_id,
            "hard": _decide(a).action is hygiene.AddressAction.SUPPRESS,
            "status_code": a.status_code,
            "reason": a.reason,
            "detail": a.answer[:4000],
            "source": a.source,
            "dedup_key": dedup_key(a.raw + b"\0%d\0%d" % (a.recipient_id, a.attempt), a.email, "bounce"),
            "raw": a.raw,
        }
        for a in answers
    ]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(events)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(events.c.id, events.c.dedup_key)
    )
    ids = {key: eid for eid, key in conn.execute(stmt, rows)}  # a repeated transaction finds its events known
    applied, listed = [], []
    for a, row in zip(answers, rows, strict=True):
        event_id = ids.get(row["dedup_key"])
        applied.append(Applied(event_id, a.email, a.campaign_id, a.recipient_id, duplicate=event_id is None))
        decision = _decide(a)
        if event_id is None:
            continue
        if decision.action is hygiene.AddressAction.SUPPRESS and decision.blacklist_reason:
            if settings.sending.auto_blacklist_hard_errors:
                listed.append(
                    (
                        applied[-1],
                        blacklist.Evidenced(
                            a.email,
                            a.display,
                            decision.blacklist_reason,
                            f"campaign:{a.campaign_id}",
                            f"{a.status_code} {a.reason}",
                            event_id,
                        ),
                    )
                )
            else:
                applied[-1].notes.append("not blacklisted: [sending] auto_blacklist_hard_errors = false")
        elif decision.action is hygiene.AddressAction.SCORE and _score(conn, a.email, now, settings):
            listed.append(
                (
                    applied[-1],
                    blacklist.Evidenced(
                        a.email,
                        a.display,
                        BlacklistReason.SOFT_BOUNCE,
                        f"campaign:{a.campaign_id}",
                        f"soft-bounce score reached {settings.bounces.soft_threshold}",
                        event_id,
                    ),
                )
            )
    added = blacklist.add_evidenced(conn, [e for _, e in listed], actor="sendwell", at=now)
    for done, e in listed:
        if e.email in added:
            done.blacklisted = str(e.reason)
    return applied


def _decide(answer: Answer) -> hygiene.Decision:
    return hygiene.decide_bounce(answer.reason, answer.status_code, answer.hard)


def _recount(conn: Connection, settings: Settings, sent_at: datetime | None, **delta: int) -> None:
    """A late verdict moves a message between the daily counters of the day it was sent, so the
    daily limit's error rate counts late bounces and complaints too."""
    if sent_at is None:
        return
    from sendwell.sending.limit import day_of

    day = day_of(as_utc(sent_at), settings.limit)
    conn.execute(
        update(daily_usage)
        .where(daily_usage.c.day == day)
        .values(**{k: getattr(daily_usage.c, k) + v for k, v in delta.items()})
    )


def _source(applied: Applied, source: str) -> str:
    return f"campaign:{applied.campaign_id}" if applied.campaign_id else source


def _score(conn: Connection, key: str, now: datetime, settings: Settings) -> bool:
    row = conn.execute(select(address_scores).where(address_scores.c.email == key)).first()
    previous = (
        hygiene.Score(row.score, as_utc(row.first_bounce_at), as_utc(row.last_bounce_at))
        if row
        else hygiene.Score(0.0, None, None)
    )
    score, suppress = hygiene.add_soft_bounce(previous, now, settings.bounces)
    values = {"score": score.value, "first_bounce_at": score.first_bounce_at, "last_bounce_at": score.last_bounce_at}
    if row:
        conn.execute(address_scores.update().where(address_scores.c.email == key).values(**values))
    else:
        conn.execute(address_scores.insert().values(email=key, **values))
    return suppress


def clean_delivery(conn: Connection, keys: list[str]) -> None:
    """Delivered without a bounce: soft-bounce scores start again."""
    if keys:
        conn.execute(address_scores.delete().where(address_scores.c.email.in_(keys)))


def record_suppression(
    engine: Engine,
    *,
    kind: str,
    email: str,
    raw: bytes,
    source: str,
    detail: str = "",
    campaign_id: int | None = None,
    recipient_id: int | None = None,
    message_id: str | None = None,
    at: datetime | None = None,
    settings: Settings | None = None,
) -> Applied:
    """A complaint or an unsubscribe: recorded, and the address blacklisted with that reason."""
    decision = hygiene.COMPLAINT if kind == "complaint" else hygiene.UNSUBSCRIBE
    now = at or utcnow()
    key = _key(email)
    with engine.begin() as conn:
        target = find_recipient(
            conn, key, campaign_id=campaign_id, recipient_id=recipient_id, message_id=message_id, now=now
        )
        if target is not None and not key:
            key = target.email
        applied = Applied(None, key, target.campaign_id if target else None, target.id if target else None)
        event_id = _insert_event(
            conn,
            {
                "at": now,
                "type": kind,
                "email": key,
                "campaign_id": applied.campaign_id,
                "recipient_id": applied.recipient_id,
                "detail": detail[:4000],
                "source": source,
                "dedup_key": dedup_key(raw, key, kind),
                "raw": raw,
            },
        )
        if event_id is None:
            applied.duplicate = True
            return applied
        applied.event_id = event_id
        if kind == "complaint" and target is not None:
            _recount(conn, settings or Settings(), target.sent_at, complaints=1)
        reason = decision.blacklist_reason
        assert reason is not None  # COMPLAINT and UNSUBSCRIBE both name one
        if key and blacklist.add_entries(
            conn,
            [(key, email or key)],
            reason=reason,
            source=_source(applied, source),
            note=detail[:200],
            actor="sendwell",
            event_id=event_id,
        ):
            applied.blacklisted = reason.value
    return applied
