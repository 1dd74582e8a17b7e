"""The public unsubscribe endpoint behind every message's link: GET shows the preference page (the public segments
the person is in, each of which they may leave, and "unsubscribe from everything"), POST unsubscribes from
everything (RFC 8058 one-click, so mail clients may POST without cookies). The signed token is the only credential
needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from sendwell import events
from sendwell.forms import preferences
from sendwell.sending import verp
from sendwell.web.state import EngineDep, web_state
from sendwell.web.ui import receipts
from sendwell.web.ui.forms import see_other
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


def _preferences(engine: Engine, found: tuple[int, int]) -> dict:
    """The page's lists and sender for the recipient the token names."""
    who = preferences.whose(engine, *found)
    if who is None:
        return {"lists": [], "sender": ""}
    return {"lists": preferences.public_lists(engine, who[0]), "sender": who[1]}


@router.get("/{token}")
def page(request: Request, token: str, engine: EngineDep) -> Response:
    found = _recipient(request, engine, token)
    if found is None:
        return render(request, "unsubscribe.html", status=404, done=False, error=GONE, token=token)
    # What the POST before the redirect did: unsubscribed from everything, or left these segments (their names).
    did = receipts.read(web_state(request).secret, request.url.path, request.query_params.get("did"))
    if did == "all":
        return render(request, "unsubscribe.html", done=True, error=None, token=token)
    left = [str(name) for name in did] if isinstance(did, list) else []
    prefs = _preferences(engine, found)
    return render(request, "unsubscribe.html", done=False, error=None, token=token, left=left, **prefs)


@router.post("/{token}/lists")
async def lists(request: Request, token: str, engine: EngineDep) -> Response:
    """Stay in the ticked public segments, leave the others; nothing goes to the black list."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    keep = {int(v) for v in form.getlist("keep") if isinstance(v, str) and v.isdigit()}
    found = await run_in_threadpool(_recipient, request, engine, token)
    who = await run_in_threadpool(preferences.whose, engine, *found) if found else None
    if found is None or who is None:
        return render(request, "unsubscribe.html", status=404, done=False, error=GONE, token=token)
    left = await run_in_threadpool(preferences.keep_only, engine, who[0], keep)
    page = f"/unsubscribe/{token}"
    return see_other(receipts.url(web_state(request).secret, page, "did", left))


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
    # Post/Redirect/GET; a mail client's one-click POST ignores the answer
    page = f"/unsubscribe/{token}"
    return see_other(receipts.url(web_state(request).secret, page, "did", "all"))
