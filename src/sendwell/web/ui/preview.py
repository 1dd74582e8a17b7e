"""The draft page's preview: the rendered HTML in a sandboxed frame (a route with its own strict policy), the plain
text, "preview as" any recipient of the audience, the merge-field check, and the test-send form."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine

from sendwell import campaigns, history, preview
from sendwell.errors import NotFound, UserError
from sendwell.model import CampaignState
from sendwell.sending.testsend import send_test
from sendwell.translations import N_
from sendwell.web.security import UserDep
from sendwell.web.state import EngineDep, web_state
from sendwell.web.ui.forms import actor, form_error, see_other, service_message
from sendwell.web.ui.notices import flash
from sendwell.web.ui.render import gettext

router = APIRouter(prefix="/campaigns")
LABELS = {"to": N_("To"), "contact": N_("Preview as")}  # the test-send form's fields, as it names them

# The message's HTML is the user's (and its merge fields the contacts'): no script, no form, no plugin, no
# navigation out of the frame; its own inline styles and images only, shown inside this site's pages alone.
FRAME_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; font-src data: https:; "
    "form-action 'none'; base-uri 'none'; sandbox; frame-ancestors 'self'"
)
FRAME_HEADERS = {
    "Content-Security-Policy": FRAME_POLICY,
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _draft(engine: Engine, cid: int) -> campaigns.Campaign:
    camp = campaigns.get_campaign(engine, cid)
    if camp.state != CampaignState.DRAFT:
        # A started campaign's preview would carry a real recipient's tracking tokens: a frame loading its
        # read pixel would count a read. `sendwell campaigns preview` shows it without loading anything.
        raise UserError(f"campaign {camp.name!r} is {camp.state}: the page preview is for drafts")
    return camp


def draft_context(request: Request, engine: Engine, cid: int) -> dict[str, Any]:
    """What the draft page shows of the message: the recipient chosen, the text part, the field check, matches."""
    contact = (request.query_params.get("contact") or "").strip() or None
    ctx: dict[str, Any] = {
        "preview_as": contact,
        "preview_error": None,
        "matches": [],
        "shown": None,
        "view": "text" if request.query_params.get("view") == "text" else "html",
        "history": history.of_campaign(engine, cid, limit=10),
    }
    settings = web_state(request).settings
    try:
        ctx["shown"] = preview.preview(engine, settings, cid, contact)
    except NotFound:
        raise
    except UserError as err:
        # Typed part of an address: the search box of "preview as" — one match is shown, several listed.
        ctx["matches"] = preview.audience_sample(engine, cid, contact or "", limit=20) if contact else []
        if len(ctx["matches"]) == 1:
            ctx["preview_as"] = ctx["matches"][0]
            ctx["shown"] = preview.preview(engine, settings, cid, ctx["matches"][0])
        else:
            ctx["preview_error"] = service_message(gettext(request), err)
    ctx["choices"] = preview.audience_sample(engine, cid)
    try:
        ctx["fields"] = preview.field_check_cached(engine, cid)  # a scan of the audience: once a minute
    except UserError as err:
        ctx["fields"], ctx["preview_error"] = None, service_message(gettext(request), err)
    return ctx


@router.get("/{cid}/preview.html", response_class=HTMLResponse)
def frame(
    request: Request, cid: int, contact: str | None = Query(None, max_length=320), *, engine: EngineDep
) -> Response:
    """The HTML part exactly as built for the recipient, for the draft page's sandboxed frame."""
    _draft(engine, cid)
    shown = preview.preview(engine, web_state(request).settings, cid, contact or None)
    body = shown.html if shown.html is not None else "<pre>(this campaign has no HTML part)</pre>"
    return HTMLResponse(body, headers=FRAME_HEADERS)


@router.post("/{cid}/test")
def test_send(
    request: Request,
    cid: int,
    to: str = Form("", max_length=4000),
    contact: str = Form("", max_length=320),
    *,
    engine: EngineDep,
    user: UserDep,
) -> Response:
    """Send the test and come back to the draft page with its outcome in one line (a notice in the session)."""
    back = f"/campaigns/{cid}" + (f"?contact={quote(contact)}" if contact else "")
    try:
        result = send_test(engine, web_state(request).settings, cid, [to], contact or None, actor=actor(user))
    except NotFound:
        raise
    except UserError as err:
        flash(request, "test_refused", message=form_error(err, LABELS, gettext(request))[0])
        return see_other(back)
    failed = ", ".join(f"{d.to} ({d.answer})" for d in result.deliveries if not d.delivered)
    flash(
        request,
        "test_sent",
        error=bool(failed),
        delivered=result.delivered,
        total=len(result.deliveries),
        relay=result.relay,
        failed=failed,
    )
    return see_other(back)
