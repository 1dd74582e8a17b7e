"""The public unsubscribe endpoint behind every message's link: GET shows a page, POST unsubscribes (RFC 8058
one-click, so mail clients may POST without cookies). The signed token is the only credential needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import events
from sendwell.sending import verp
from sendwell.web.state import EngineDep, web_state
from sendwell.web.ui.render import render

router = APIRouter(prefix="/unsubscribe")
GONE = "This link no longer works. Reply to the email and ask to be removed; we will do it by hand."


def _recipient(request: Request, engine: Engine, token: str) -> tuple[int, int] | None:
    secret = web_state(request).secret
    found = verp.decode_unsubscribe(secret, token)
    # Only the spelling we sent: the decoder forgives case, spaces and leading zeros (mail systems mangle
    # VERP addresses), but on the web each other spelling would be another request body, another event row.
    if found is None or token != verp.unsubscribe_token(secret, *found):
        return None
    with engine.connect() as conn:
        return found if events.find_recipient(conn, "", campaign_id=found[0], recipient_id=found[1]) else None


@router.get("/{token}")
def page(request: Request, token: str, engine: EngineDep) -> Response:
    if _recipient(request, engine, token) is None:
        return render(request, "unsubscribe.html", status=404, done=False, error=GONE, token=token)
    return render(request, "unsubscribe.html", done=False, error=None, token=token)


@router.post("/{token}")
async def unsubscribe(request: Request, token: str, engine: EngineDep) -> Response:
    from starlette.concurrency import run_in_threadpool

    body = (await request.body())[:1000]  # "List-Unsubscribe=One-Click" from a mail client, or our form
    found = await run_in_threadpool(_recipient, request, engine, token)
    if found is None:
        return render(request, "unsubscribe.html", status=404, done=False, error=GONE, token=token)
    # The same click twice is one event (the evidence is the request line and body).
    raw = f"POST {verp.UNSUBSCRIBE_PREFIX}{token}\n".encode() + body
    await run_in_threadpool(
        lambda: events.record_suppression(
            engine,
            kind="unsubscribe",
            email="",
            raw=raw,
            source="link:unsubscribe",
            campaign_id=found[0],
            recipient_id=found[1],
            settings=web_state(request).settings,
        )
    )
    return render(request, "unsubscribe.html", done=True, error=None, token=token)
