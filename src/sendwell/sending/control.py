"""Campaign state changes for sending: pause, resume, cancel, resend (sending → paused → sending → done)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Engine, func, select, update

from sendwell.campaigns import Campaign, get_campaign, start_campaign
from sendwell.db.engine import utcnow
from sendwell.db.schema import campaigns, recipients
from sendwell.errors import Hint, UserError
from sendwell.model import CampaignState, FailureKind, RecipientStatus, parse_statuses

C, R = CampaignState, RecipientStatus
RESENDABLE = (R.DEFERRED.value, R.FAILED.value)

# (from state, action) → to state; anything else is refused with a message naming the state.
TRANSITIONS: dict[tuple[str, str], str] = {
    (C.SENDING, "pause"): C.PAUSED,
    (C.PAUSED, "resume"): C.SENDING,
    (C.SENDING, "resume"): C.SENDING,
    (C.DRAFT, "cancel"): C.CANCELLED,
    (C.SCHEDULED, "cancel"): C.CANCELLED,
    (C.SENDING, "cancel"): C.CANCELLED,
    (C.PAUSED, "cancel"): C.CANCELLED,
    (C.SENDING, "resend"): C.SENDING,
    (C.PAUSED, "resend"): C.SENDING,
    (C.FINISHED, "resend"): C.SENDING,
}


def _move(conn: Connection, campaign: Campaign, action: str) -> str:
    target = TRANSITIONS.get((campaign.state, action))
    if target is None:
        raise UserError(f"campaign {campaign.name!r} is {campaign.state}: cannot {action} it")
    conn.execute(
        update(campaigns).where(campaigns.c.id == campaign.id, campaigns.c.state == campaign.state).values(state=target)
    )
    return target


def prepare_send(engine: Engine, name_or_id: str | int) -> tuple[Campaign, int | None]:
    """The campaign, started now if it was a draft or scheduled (returns how many recipients were queued then)."""
    campaign = get_campaign(engine, name_or_id)
    queued = None
    if campaign.state in (C.DRAFT, C.SCHEDULED):
        queued = start_campaign(engine, campaign.id)
        campaign = get_campaign(engine, campaign.id)
    if campaign.state == C.PAUSED:
        raise UserError(
            f"campaign {campaign.name!r} is paused: resume it first", hint=Hint.RESUME_CAMPAIGN, target=campaign.name
        )
    if campaign.state == C.CANCELLED:
        raise UserError(f"campaign {campaign.name!r} was cancelled")
    return campaign, queued


def pause(engine: Engine, name_or_id: str | int) -> str:
    campaign = get_campaign(engine, name_or_id)
    with engine.begin() as conn:
        return _move(conn, campaign, "pause")


def resume(engine: Engine, name_or_id: str | int) -> str:
    campaign = get_campaign(engine, name_or_id)
    with engine.begin() as conn:
        return _move(conn, campaign, "resume")


def cancel(engine: Engine, name_or_id: str | int) -> int:
    """Cancel for good: recipients not yet sent become skipped ('cancelled'); returns how many."""
    campaign = get_campaign(engine, name_or_id)
    with engine.begin() as conn:
        _move(conn, campaign, "cancel")
        conn.execute(update(campaigns).where(campaigns.c.id == campaign.id).values(finished_at=utcnow()))
        return conn.execute(
            update(recipients)
            .where(recipients.c.campaign_id == campaign.id, recipients.c.status.in_((R.QUEUED.value, R.DEFERRED.value)))
            .values(
                status=R.SKIPPED.value,
                kind=FailureKind.EXCLUDED.value,
                reason="campaign cancelled",
                next_attempt_at=None,
                updated_at=utcnow(),
            )
        ).rowcount


def resend(engine: Engine, name_or_id: str | int, statuses: str | Iterable[str]) -> int:
    """Queue again the recipients left in `statuses` (deferred, failed only: never sent or error)."""
    wanted = [s.value for s in parse_statuses(statuses)]
    for s in wanted:
        if s not in RESENDABLE:
            raise UserError(
                f"{s}: only {', '.join(RESENDABLE)} recipients can be sent again (never sent, error or skipped ones)",
                field="statuses",
            )
    campaign = get_campaign(engine, name_or_id)
    with engine.begin() as conn:
        n = conn.execute(
            select(func.count())
            .select_from(recipients)
            .where(recipients.c.campaign_id == campaign.id, recipients.c.status.in_(wanted))
        ).scalar_one()
        if n == 0:
            return 0
        _move(conn, campaign, "resend")
        conn.execute(update(campaigns).where(campaigns.c.id == campaign.id).values(finished_at=None))
        now = utcnow()
        return conn.execute(
            update(recipients)
            .where(recipients.c.campaign_id == campaign.id, recipients.c.status.in_(wanted))
            .values(
                status=R.QUEUED.value,
                kind=None,
                next_attempt_at=None,
                queued_at=now,
                lease_owner=None,
                lease_until=None,
                updated_at=now,
            )
        ).rowcount
