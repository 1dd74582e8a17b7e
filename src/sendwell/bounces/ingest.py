"""Read messages from the bounce mailbox (.eml, mbox, Maildir, stdin) and act on each one.

Each message is classified (bounces.classify), matched to the campaign recipient it is about (signed
VERP token, else the original Message-ID, else the address's latest send) and recorded as events
(events.py), which apply the hygiene policy. Sources are only read, never emptied: a message that is
not a bounce stays where it is.
"""

from __future__ import annotations

import logging
import mailbox
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from sendwell import events
from sendwell.config import Settings
from sendwell.db.schema import recipients
from sendwell.errors import UserError
from sendwell.keys import app_secret
from sendwell.sending import verp

log = logging.getLogger(__name__)
# Headers where the bounce's own envelope recipient (our VERP address) shows up.
_ENVELOPE_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "x-rcpt-to", "to")
MAX_MESSAGE_BYTES = 50 * 1024 * 1024  # bigger messages are recorded as unreadable, not parsed


@dataclass
class Outcome:
    """What happened to one message."""

    source: str
    kind: str  # bounce | complaint | unsubscribe | autoreply | delivered | other | unreadable
    applied: list[events.Applied] = field(default_factory=list)
    matched: bool = False
    error: str | None = None


@dataclass
class Summary:
    messages: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    blacklisted: int = 0
    errors_marked: int = 0
    unmatched: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.messages += 1
        self.kinds[outcome.kind] += 1
        if outcome.error:
            self.problems.append(f"{outcome.source}: {outcome.error}")
        for a in outcome.applied:
            self.blacklisted += bool(a.blacklisted)
            self.errors_marked += a.status == "error"
            self.unmatched += a.recipient_id is None and not a.duplicate
            self.duplicates += a.duplicate

    def as_dict(self) -> dict:
        return {
            "messages": self.messages,
            "kinds": dict(self.kinds),
            "blacklisted": self.blacklisted,
            "errors_marked": self.errors_marked,
            "unmatched": self.unmatched,
            "duplicates": self.duplicates,
            "problems": self.problems,
        }


def iter_messages(path: str) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for every message at `path`: '-', a Maildir, an mbox or one message file."""
    if path == "-":
        yield "<stdin>", sys.stdin.buffer.read()
        return
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such file or directory")
    if p.is_dir():
        if not (p / "cur").is_dir() and not (p / "new").is_dir():
            raise UserError(f"{path}: a directory that is not a Maildir (no cur/ or new/)")
        box: mailbox.Mailbox[Any] = mailbox.Maildir(str(p), factory=None, create=False)
        for key in box.iterkeys():
            with box.get_file(key) as fh:
                yield f"{path}:{key}", fh.read()
        return
    with p.open("rb") as fh:
        head = fh.read(5)
    if head == b"From ":
        box = mailbox.mbox(str(p), factory=None, create=False)
        for i, key in enumerate(box.iterkeys(), start=1):
            yield f"{path}#{i}", box.get_bytes(key)
        return
    yield path, p.read_bytes()


def _envelope_addresses(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    msg = message_from_bytes(head + b"\n\n", policy=compat32)
    found = []
    for name in _ENVELOPE_HEADERS:
        for value in msg.get_all(name, []):
            for part in str(value).replace(",", " ").split():
                if "@" in part:
                    found.append(part.strip("<>\"'"))
    return found


def _unsubscribes(secret: str, raw: bytes, envelope: list[str]) -> Iterator[tuple[int, int] | None]:
    """The recipients a message asks to unsubscribe: its address (unsubscribe+<token>@ the bounce domain),
    or its Subject (`unsubscribe <token>`, sent to the From/Reply-To while there is no bounce domain)."""
    for addr in envelope:
        local = addr.rsplit("@", 1)[0].lower()
        if local.startswith(verp.UNSUBSCRIBE_PREFIX):
            yield verp.decode_unsubscribe(secret, local[len(verp.UNSUBSCRIBE_PREFIX) :])
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    subject = message_from_bytes(head + b"\n\n", policy=compat32).get("Subject")
    if subject:
        yield verp.unsubscribe_in_subject(secret, str(subject))


def process(engine: Engine, settings: Settings, raw: bytes, source: str, secret: str | None = None) -> Outcome:
    """Classify one message and record what it says; never raises for a bad message."""
    from sendwell.bounces.classify import classify

    secret = secret or app_secret(engine, settings)
    if len(raw) > MAX_MESSAGE_BYTES:
        return Outcome(source, "unreadable", error=f"message of {len(raw):,} bytes is over the limit; left alone")
    try:
        envelope = _envelope_addresses(raw)
        for ids in _unsubscribes(secret, raw, envelope):  # the mailto: form of List-Unsubscribe
            if ids:
                email = _recipient_email(engine, *ids)
                a = events.record_suppression(
                    engine,
                    kind="unsubscribe",
                    email=email or "",
                    raw=raw,
                    source="mailbox:mailto",
                    campaign_id=ids[0],
                    recipient_id=ids[1],
                    detail="List-Unsubscribe mailto",
                    settings=settings,
                )
                return Outcome(source, "unsubscribe", [a], matched=a.recipient_id is not None)
        report = classify(raw)
    except Exception as err:  # one bad message must not stop the mailbox
        log.warning("%s: could not read message: %s", source, err)
        return Outcome(source, "unreadable", error=f"could not read message: {err}")
    ids = None
    for addr in [*envelope, report.original.return_path]:
        ids = verp.decode_address(secret, addr) if addr else None
        if ids:
            break
    outcome = Outcome(source, report.kind.value)
    if report.kind.value == "complaint":
        email = (report.first.address if report.first else "") or report.original.to
        if ids and not email:
            email = _recipient_email(engine, *ids) or ""
        outcome.applied.append(
            events.record_suppression(
                engine,
                kind="complaint",
                email=email,
                raw=raw,
                source="mailbox:arf",
                campaign_id=ids[0] if ids else None,
                recipient_id=ids[1] if ids else None,
                message_id=report.original.message_id or None,
                detail=f"feedback-type {report.feedback_type}",
                settings=settings,
            )
        )
    elif report.kind.value == "bounce":
        single = len(report.recipients) == 1
        for r in report.recipients:
            email = r.address
            if ids and single:  # the token names who we mailed, even if a forward failed further on
                email = _recipient_email(engine, *ids) or email
            outcome.applied.append(
                events.record_bounce(
                    engine,
                    settings,
                    email=email,
                    reason=r.reason.value,
                    status_code=r.status,
                    hard=r.hard,
                    detail=r.diagnostic,
                    raw=raw,
                    source=f"mailbox:{report.format}",
                    campaign_id=ids[0] if ids else None,
                    recipient_id=ids[1] if ids else None,
                    message_id=report.original.message_id or None,
                )
            )
    outcome.matched = any(a.recipient_id is not None for a in outcome.applied)
    return outcome


def _recipient_email(engine: Engine, campaign_id: int, recipient_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(recipients.c.email).where(recipients.c.id == recipient_id, recipients.c.campaign_id == campaign_id)
        ).scalar()


def ingest(engine: Engine, settings: Settings, paths: Iterable[str]) -> Summary:
    summary = Summary()
    secret = app_secret(engine, settings)
    for path in paths:
        for label, raw in iter_messages(path):
            summary.add(process(engine, settings, raw, label, secret))
    return summary
