"""Campaign pages: list, create or edit a draft (segments to send to and to exclude, picked from lists), show with
live statistics; send, pause, resume, cancel; the recipients in a status with their server's answers, as CSV too."""

from __future__ import annotations

from itertools import islice
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import blacklist, campaigns, exports, schedule, segments, stats, templates
from sendwell.config import Settings
from sendwell.errors import NotFound, UserError
from sendwell.model import CampaignState, parse_statuses
from sendwell.sending import control
from sendwell.setupcheck import for_campaign, tracking_refusal
from sendwell.tracking.report import tracking_stats
from sendwell.translations import N_
from sendwell.web.csvout import csv_response
from sendwell.web.security import UserDep
from sendwell.web.state import EngineDep, SettingsDep, get_settings
from sendwell.web.ui.charts import status_bars
from sendwell.web.ui.forms import actor, form_error, see_other, service_message
from sendwell.web.ui.notices import flash
from sendwell.web.ui.preview import draft_context
from sendwell.web.ui.render import Pager, gettext, render

router = APIRouter(prefix="/campaigns")
FORM_FIELDS = ("name", "subject", "from_addr", "reply_to", "text", "html", "template", "body_format", "language")
# A service's field → the label the form shows for it (the error names the field as the reader sees it).
LABELS = {
    "name": N_("Name"),
    "subject": N_("Subject"),
    "from_addr": N_("From"),
    "reply_to": N_("Reply-To"),
    "text": N_("Plain-text body"),
    "html": N_("HTML body"),
    "template": N_("Template"),
    "body_format": N_("Body format"),
    "language": N_("Language of the template's own words"),
    "include": N_("Send to"),
    "exclude": N_("Never send to"),
    "track": N_("Tracking"),
    "at": N_("Send at"),
    "timezone": N_("Time zone"),
}


def _form(
    request: Request,
    engine: Engine,
    values: dict[str, Any],
    *,
    campaign: campaigns.Campaign | None = None,
    status: int = 200,
    error: str | None = None,
    field: str | None = None,
) -> Response:
    return render(
        request,
        "campaign_form.html",
        status=status,
        values=values,
        campaign=campaign,
        segments=segments.list_segments(engine),
        templates=templates.list_templates(engine),
        error=error,
        field=field,
        tracking_off=tracking_refusal(get_settings(request)),  # the checkboxes are disabled, with this reason
    )


def _blank_to_none(value: str) -> str | None:
    return value if value.strip() else None


@router.get("")
def campaigns_page(request: Request, engine: EngineDep) -> Response:
    return render(request, "campaigns.html", campaigns=campaigns.list_campaigns(engine))


@router.get("/new")
def new_form(request: Request, engine: EngineDep, settings: SettingsDep) -> Response:
    return _form(request, engine, {"include": [], "exclude": [], "language": settings.web.language})


@router.post("/new")
def create(
    request: Request,
    name: str = Form(""),
    subject: str = Form(""),
    from_addr: str = Form(""),
    reply_to: str = Form(""),
    text: str = Form(""),
    html: str = Form(""),
    template: str = Form("", max_length=200),
    body_format: str = Form("html", max_length=16),
    language: str = Form("", max_length=16),
    include: list[str] = Form([]),
    exclude: list[str] = Form([]),
    track: list[str] = Form([]),
    *,
    engine: EngineDep,
) -> Response:
    values = {
        "name": name,
        "subject": subject,
        "from_addr": from_addr,
        "reply_to": reply_to,
        "text": text,
        "html": html,
        "template": template,
        "body_format": body_format,
        "language": language,
        "include": include,
        "exclude": exclude,
        "track": track,
    }
    try:
        cid = campaigns.create_campaign(
            engine,
            name=name,
            subject=subject,
            from_addr=from_addr,
            reply_to=_blank_to_none(reply_to),
            text=_blank_to_none(text),
            html=_blank_to_none(html),
            template=template or None,
            body_format=body_format,
            language=language or get_settings(request).web.language,
            include=include,
            exclude=exclude,
            track=track,
            refuse_tracking=tracking_refusal(get_settings(request)),
        )
    except UserError as err:
        message, field = form_error(err, LABELS, gettext(request))
        return _form(request, engine, values, status=400, error=message, field=field)
    return see_other(f"/campaigns/{cid}")


# How often the statistics block refreshes itself, by phase: every 2 s while messages go out; while only
# retries are left, slower (they come minutes apart) but still, so the page sees the last retry end; in any
# other phase (finished, paused, draft…) not at all.
POLL_SECONDS = {CampaignState.SENDING.value: 2, stats.WAITING_RETRY: 30}


def _stats_context(engine: Engine, cid: int, settings: Settings) -> dict[str, Any]:
    data = stats.campaign_stats(engine, cid, retry_horizon_hours=settings.sending.retry_horizon_hours)
    return {
        "stats": data,
        "bars": status_bars(data.by_status),
        "live": data.phase == CampaignState.SENDING,  # the "live" badge: messages are going out now
        "poll": POLL_SECONDS.get(str(data.phase)),
    }


def _schedule_context(request: Request, camp: campaigns.Campaign, default_tz: str) -> dict[str, Any]:
    """The schedule form: the time as it was given (in its zone), or empty; an error sent back by the POST."""
    tz = camp.schedule_tz or default_tz
    shown = schedule.local(camp.scheduled_at, schedule.zone(tz)) if camp.scheduled_at else ""
    return {"schedule_at": shown.rsplit(" ", 1)[0], "schedule_local": shown, "schedule_tz": tz}


@router.get("/{cid}")
def show(request: Request, cid: int, engine: EngineDep, settings: SettingsDep) -> Response:
    camp = campaigns.get_campaign(engine, cid)
    draft = camp.state == CampaignState.DRAFT
    preview = campaigns.audience_preview(engine, cid) if draft else None
    tracked = tracking_stats(engine, cid) if camp.track and not draft else None
    shown = draft_context(request, engine, cid) if draft else {}  # the message preview and test send (ui/preview.py)
    waiting = camp.state in (CampaignState.DRAFT, CampaignState.SCHEDULED)  # warned before it sends
    problems = for_campaign(engine, settings, camp.from_addr) if waiting else []
    return render(
        request,
        "campaign.html",
        campaign=camp,
        draft=draft,
        preview=preview,
        tracked=tracked,
        setup_problems=problems,
        **shown,
        **_schedule_context(request, camp, settings.sending.timezone),
        **_stats_context(engine, cid, settings),
    )


@router.get("/{cid}/progress")
def progress(
    request: Request, cid: int, engine: EngineDep, settings: SettingsDep, phase: str = CampaignState.SENDING.value
) -> Response:
    """The statistics block alone, polled by htmx while the campaign sends or waits for retries (`phase`: the
    one the page shows)."""
    context = _stats_context(engine, cid, settings)
    # When the phase changes (sending → waiting for retry → finished), reload the whole page so the state badge,
    # the phase line, the buttons and the pace of polling follow.
    headers = {} if str(context["stats"].phase) == phase else {"HX-Refresh": "true"}
    return render(request, "_campaign_stats.html", headers=headers, **context)


@router.post("/{cid}/send")
def send(cid: int, engine: EngineDep) -> Response:
    """Start the draft (its audience goes into the ledger now); the worker of `sendwell serve` delivers it."""
    control.prepare_send(engine, cid)
    return see_other(f"/campaigns/{cid}")


@router.post("/{cid}/schedule")
def schedule_form(
    request: Request, cid: int, engine: EngineDep, settings: SettingsDep, at: str = Form(""), timezone: str = Form("")
) -> Response:
    """Schedule the draft (or move its time); a running worker starts it then. Errors come back on the page."""
    try:
        schedule.schedule_campaign(engine, cid, at, timezone or None, default_tz=settings.sending.timezone)
    except NotFound:
        raise
    except UserError as err:
        message, _ = form_error(err, LABELS, gettext(request))
        flash(request, "error", place="schedule", message=message)
        return see_other(f"/campaigns/{cid}#schedule")
    return see_other(f"/campaigns/{cid}#schedule")


@router.post("/{cid}/unschedule")
def unschedule_form(cid: int, engine: EngineDep) -> Response:
    schedule.unschedule_campaign(engine, cid)
    return see_other(f"/campaigns/{cid}")


@router.post("/{cid}/pause")
def pause(cid: int, engine: EngineDep) -> Response:
    control.pause(engine, cid)
    return see_other(f"/campaigns/{cid}")


@router.post("/{cid}/resume")
def resume(cid: int, engine: EngineDep) -> Response:
    control.resume(engine, cid)
    return see_other(f"/campaigns/{cid}")


@router.post("/{cid}/resend")
def resend(cid: int, engine: EngineDep) -> Response:
    """Queue the deferred and failed recipients again (never sent or error ones); the worker sends them."""
    control.resend(engine, cid, control.RESENDABLE)
    return see_other(f"/campaigns/{cid}")


@router.post("/{cid}/cancel")
def cancel(cid: int, engine: EngineDep) -> Response:
    control.cancel(engine, cid)
    return see_other(f"/campaigns/{cid}")


def _statuses(status: list[str]) -> list[str]:
    return [s.value for s in parse_statuses(status or ["error"], field="status")]


# Statuses whose recipients one click may blacklist or make a segment of: the addresses that did not take mail.
# For any other status (sent, read…) the page asks for the number of recipients to be typed first.
ONE_CLICK = frozenset({"error", "failed", "skipped"})


def _recipients_page(
    request: Request, engine: Engine, cid: int, wanted: list[str], page: int = 1, status: int = 200, **extra: Any
) -> Response:
    data = stats.campaign_stats(engine, cid)
    pager = Pager(page, sum(data.by_status.get(s, 0) for s in wanted))
    columns, rows = stats.iter_recipients(engine, cid, wanted, batch=min(5000, pager.offset + pager.size))
    shown = list(islice(rows, pager.offset, pager.offset + pager.size))
    query = "&".join(f"status={quote(s)}" for s in wanted)
    return render(
        request,
        "recipients.html",
        status=status,
        stats=data,
        statuses=wanted,
        rows=shown,
        pager=pager,
        field_columns=columns[len(stats.EXPORT_COLUMNS) :],
        status_query=query,
        segment_name=f"{data.name} {'+'.join(wanted)}",
        one_click=set(wanted) <= ONE_CLICK,
        **{"error": None, "field": None, "form": {}, **extra},
    )


@router.get("/{cid}/recipients")
def recipients(
    request: Request,
    cid: int,
    status: list[str] = Query(["error"]),
    page: int = Query(1, ge=1, le=10**9),
    *,
    engine: EngineDep,
) -> Response:
    """The recipients in a status with their server's answer: where a click on a statistic leads."""
    return _recipients_page(request, engine, cid, _statuses(status), page)


@router.get("/{cid}/recipients.csv")
def recipients_csv(cid: int, status: list[str] = Query(["error"]), *, engine: EngineDep) -> Response:
    return csv_response(exports.recipients(engine, cid, _statuses(status)))


def _count_confirmed(engine: Engine, cid: int, wanted: list[str], typed: str) -> bool:
    """One click is enough for error/failed/skipped; for other statuses the typed number must be the count."""
    if set(wanted) <= ONE_CLICK:
        return True
    by_status = stats.campaign_stats(engine, cid).by_status
    return typed.strip() == str(sum(by_status.get(s, 0) for s in wanted))


def _recipients_url(cid: int, wanted: list[str]) -> str:
    return f"/campaigns/{cid}/recipients?" + "&".join(f"status={quote(s)}" for s in wanted)


@router.post("/{cid}/recipients/blacklist")
def blacklist_recipients(
    request: Request,
    cid: int,
    status: list[str] = Form(["error"]),
    note: str = Form("", max_length=10_000),
    confirm_count: str = Form("", max_length=20),
    *,
    engine: EngineDep,
    user: UserDep,
) -> Response:
    wanted = _statuses(status)
    if not _count_confirmed(engine, cid, wanted, confirm_count):
        t = gettext(request)
        return _recipients_page(
            request,
            engine,
            cid,
            wanted,
            status=400,
            error=t.gettext("Type the number of recipients to confirm."),
            field="confirm_count",
            form={"note": note, "confirm_count": confirm_count},
        )
    already = blacklist.already_from_campaign(engine, cid, wanted)
    added = blacklist.add_from_campaign(engine, cid, wanted, note=note, actor=actor(user))
    flash(request, "blacklisted", added=added, already=already)
    return see_other(_recipients_url(cid, wanted))


@router.post("/{cid}/recipients/segment")
def segment_of_recipients(
    request: Request,
    cid: int,
    name: str = Form("", max_length=200),
    status: list[str] = Form(["error"]),
    confirm_count: str = Form("", max_length=20),
    *,
    engine: EngineDep,
) -> Response:
    wanted = _statuses(status)
    form = {"name": name, "confirm_count": confirm_count}
    t = gettext(request)
    if not _count_confirmed(engine, cid, wanted, confirm_count):
        message, field = t.gettext("Type the number of recipients to confirm."), "confirm_count"
    else:
        try:
            segments.create_from_campaign(engine, name, cid, wanted)
        except UserError as err:
            message, field = service_message(t, err), err.field or "name"
        else:
            created = segments.show(engine, name.strip(), limit=1)
            flash(request, "segment_created", members=created.members)
            return see_other(f"/segments/{created.id}")
    return _recipients_page(request, engine, cid, wanted, status=400, error=message, field=field, form=form)


@router.get("/{cid}/edit")
def edit_form(request: Request, cid: int, engine: EngineDep) -> Response:
    camp = campaigns.get_campaign(engine, cid)
    values = {k: getattr(camp, k) or "" for k in FORM_FIELDS} | {
        "include": camp.include,
        "exclude": camp.exclude,
        "track": camp.track or [],
    }
    return _form(request, engine, values, campaign=camp)


@router.post("/{cid}/edit")
def edit(
    request: Request,
    cid: int,
    subject: str = Form(""),
    from_addr: str = Form(""),
    reply_to: str = Form(""),
    text: str = Form(""),
    html: str = Form(""),
    template: str = Form("", max_length=200),
    body_format: str = Form("html", max_length=16),
    language: str = Form("", max_length=16),
    include: list[str] = Form([]),
    exclude: list[str] = Form([]),
    track: list[str] = Form([]),
    *,
    engine: EngineDep,
) -> Response:
    camp = campaigns.get_campaign(engine, cid)
    values = {
        "name": camp.name,
        "subject": subject,
        "from_addr": from_addr,
        "reply_to": reply_to,
        "text": text,
        "html": html,
        "template": template,
        "body_format": body_format,
        "language": language,
        "include": include,
        "exclude": exclude,
        "track": track,
    }
    try:
        campaigns.edit_campaign(
            engine,
            cid,
            subject=subject,
            from_addr=from_addr,
            reply_to=_blank_to_none(reply_to),
            text=_blank_to_none(text),
            html=_blank_to_none(html),
            template=template,
            body_format=body_format,
            language=language or None,
            include=include,
            exclude=exclude,
            track=track,
            refuse_tracking=tracking_refusal(get_settings(request)),
        )
    except UserError as err:
        message, field = form_error(err, LABELS, gettext(request))
        return _form(request, engine, values, campaign=camp, status=400, error=message, field=field)
    return see_other(f"/campaigns/{cid}")


@router.post("/{cid}/delete")
def delete(cid: int, engine: EngineDep) -> Response:
    campaigns.delete_campaign(engine, cid)
    return see_other("/campaigns")
