"""The ledger row one delivery attempt writes, from the relay's answer (pure): status, kind, reason and,
for a deferral, when to try again (sending/retry.py); plus the refusal to record as a bounce event."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sendwell import hygiene
from sendwell.bounces.report import Reason
from sendwell.config import SendingSettings
from sendwell.model import FailureKind, RecipientStatus
from sendwell.sending import outcome, refusal, retry
from sendwell.sending.queue import Job, Result

S, K = RecipientStatus, FailureKind


def retry_at(job: Job, now: datetime, settings: SendingSettings) -> datetime | None:
    """When a deferred recipient is tried again, or None when its retry horizon has passed."""
    return retry.next_try(
        settings.retry_schedule, settings.retry_horizon_hours, attempts=job.attempts, queued_at=job.queued_at, now=now
    )


def result_for(
    job: Job,
    reply: outcome.Reply,
    verdict: outcome.Outcome,
    message_id: str | None,
    now: datetime,
    settings: SendingSettings,
) -> tuple[Result, refusal.Judgment | None]:
    """The ledger row for one attempt, and the refusal to record as an event when the receiving side gave
    a final answer about the recipient.

    outcome.py's table decides whose side failed and whether to retry. An answer about the recipient is
    named by the bounce rules (refusal.judge), so the ledger says `userunknown` as a DSN would; the
    table's `error` must be confirmed by them (the address does not exist, bounces.report.is_hard),
    else the recipient gets what the hygiene policy gives the same bounce (`failed`, scored or not)."""
    status, kind = verdict.status, verdict.kind
    judged = refusal.judge(reply) if status is not S.SENT and kind is not K.SERVER else None
    if status is S.SENT:
        reason = Reason.DELIVERED.value
    elif judged is None:  # our relay, our account or the network: the stage and what went wrong
        what = reply.problem.value if reply.problem else (reply.enhanced or (str(reply.code) if reply.code else None))
        reason = f"{reply.stage.value}: {what or verdict.why}"
    else:
        reason = judged.reason.value
    event = None
    if judged is not None and status in (S.ERROR, S.FAILED):
        # Only RCPT TO names the address (the table's `error` rows); a 5.1.1 after DATA is never hard.
        event = replace(judged, hard=judged.hard and status is S.ERROR)
        if status is S.ERROR and not event.hard:
            decision = hygiene.decide_bounce(reason, event.status, False)
            status, kind = decision.status or S.FAILED, decision.kind or K.OTHER
    next_at = None
    if status is S.DEFERRED:
        next_at = retry_at(job, now, settings)
        if next_at is None:
            status, kind = outcome.exhausted(kind)
    return (
        Result(
            job.id,
            status,
            kind,
            reason[:64],
            reply.code,
            reply.enhanced,
            reply.text or None,
            message_id,
            next_at,
            sent=status is S.SENT,
        ),
        event,
    )


def unbuilt(job: Job, err: Exception) -> Result:
    """The ledger row of a recipient whose message could not be built (a template failing on its fields)."""
    text = f"the message could not be built: {type(err).__name__}: {err}"[:1000]
    return Result(job.id, S.FAILED, K.OTHER, "template error", smtp_answer=text)
