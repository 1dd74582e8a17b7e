"""Test sends: a campaign's real message (built and DKIM-signed as the engine does) to a few given addresses, with
`[TEST] ` before the subject, through the configured relay.

Kept out of everything that counts: no ledger row, no statistics, no daily-limit usage or error rate, no relay
cap; the campaign's history records it. The message carries recipient id 0 in its tokens, so a bounce, an
unsubscribe or a read of a test message can never be taken for one of the campaign's real recipients.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from sqlalchemy import Engine

from sendwell import campaigns, history, preview
from sendwell.addresses import AddressError, iter_pasted, normalize
from sendwell.config import Settings
from sendwell.errors import UserError
from sendwell.model import RecipientStatus
from sendwell.sending import outcome
from sendwell.sending.relay import Connection, Relay, parse_relays

PREFIX = "[TEST] "
MAX_ADDRESSES = 10  # a test, not a way round the daily limit


@dataclass(frozen=True, slots=True)
class Delivery:
    to: str
    delivered: bool
    answer: str  # the relay's answer, one line: "250 2.0.0 queued" or where and why it failed


@dataclass
class TestSend:
    campaign_id: int
    contact: str  # whose fields filled the templates
    subject: str
    message_id: str
    relay: str
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return sum(d.delivered for d in self.deliveries)

    @property
    def summary(self) -> str:
        failed = [f"{d.to} ({d.answer})" for d in self.deliveries if not d.delivered]
        ok = f"test message sent to {self.delivered} of {len(self.deliveries)} address(es) via {self.relay}"
        return ok + (f"; not delivered: {', '.join(failed)}" if failed else "")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "delivered": self.delivered, "summary": self.summary}


def _addresses(to: list[str]) -> list[str]:
    """The addresses given, read as a paste is (`Name <addr>`, commas, semicolons, spaces, lines), once each."""
    found = [token for item in to for _, token in iter_pasted(item.splitlines())]
    if not found:
        raise UserError("give at least one address to send the test to", field="to")
    if len(found) > MAX_ADDRESSES:
        raise UserError(f"at most {MAX_ADDRESSES} addresses for a test send ({len(found)} given)", field="to")
    keys: dict[str, str] = {}
    for a in found:
        try:
            keys.setdefault(normalize(a), a)
        except AddressError as err:
            raise UserError(f"{a!r}: {err}", field="to") from None
    return list(keys.values())


def _answer(reply: outcome.Reply) -> str:
    code = f"{reply.code or ''} {reply.enhanced or ''}".strip()
    text = reply.text.replace("\r", " ").replace("\n", " ")
    if reply.enhanced and text.startswith(reply.enhanced):
        text = text[len(reply.enhanced) :].lstrip()
    told = f"{code} {text}".strip() or (reply.problem.value if reply.problem else "no answer")
    return told if reply.stage is outcome.Stage.EOD else f"at {reply.stage.value}: {told}"


async def _deliver(
    relay: Relay, settings: Settings, envelope_from: str, data: bytes, addresses: list[str]
) -> list[Delivery]:
    conn = Connection(relay, timeout=settings.smtp.timeout, helo_name=settings.smtp.helo_name)
    failed = await conn.open()
    if failed is not None:
        return [Delivery(a, False, _answer(failed)) for a in addresses]
    out = []
    try:
        for a in addresses:
            if not conn.is_open and (failed := await conn.open()) is not None:
                out.append(Delivery(a, False, _answer(failed)))
                continue
            reply = await conn.send(envelope_from, a, data, crlf=True)
            out.append(Delivery(a, outcome.classify(reply).status is RecipientStatus.SENT, _answer(reply)))
    finally:
        await conn.close()
    return out


def send_test(
    engine: Engine, settings: Settings, campaign: str | int, to: list[str], contact: str | None = None, actor: str = ""
) -> TestSend:
    """Send the campaign's message, as `contact` (default: its first recipient) would get it, to `to` only."""
    addresses = _addresses(to)
    relay = parse_relays(settings.smtp.urls)[0]  # raises a one-line error when none is configured
    camp = campaigns.get_campaign(engine, campaign)
    with engine.connect() as conn:
        try:
            address, _, _, fields = preview.recipient_of(conn, camp, contact)
        except UserError:
            if contact is not None:
                raise
            address, fields = addresses[0], {}  # an empty audience: the first test address stands in
    rendered, data = preview.build(engine, settings, camp, address, 0, fields, subject_prefix=PREFIX)
    deliveries = asyncio.run(_deliver(relay, settings, rendered.envelope_from, data, addresses))
    subject = str(BytesHeaderParser(policy=policy.default).parsebytes(data)["Subject"] or "")
    result = TestSend(camp.id, address, subject, rendered.message_id, relay.label, deliveries)
    with engine.begin() as conn:
        history.record(
            conn,
            camp.id,
            history.TEST_SEND,
            result.summary,
            {
                "to": addresses,
                "contact": address,
                "message_id": rendered.message_id,
                "relay": relay.label,
                "deliveries": [asdict(d) for d in deliveries],
            },
            actor=actor,
        )
    return result
