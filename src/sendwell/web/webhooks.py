"""POST /webhooks/<provider>: bounce, complaint and unsubscribe notifications from sending providers.

Unauthenticated by session or token: each provider's own signature is the credential, verified by
sendwell.bounces.webhooks.handle (Postmark signs nothing, so its HTTP basic auth is checked here).
Answers: 200 handled (even when nothing in it needed acting on), 403 refused, 400 malformed, 404 unknown
provider; providers retry other answers, and a retried event is recorded once.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

router = APIRouter(prefix="/webhooks", include_in_schema=False)  # not fuzzed: SES fetches certificates


def _postmark_allowed(request: Request) -> str | None:
    """None when the request carries the configured user:password, else why it is refused."""
    from sendwell.bounces.webhooks.keys import signing_key

    # [webhook] postmark_key when the settings have it, else the SENDWELL_WEBHOOK_POSTMARK_KEY variable
    expected = getattr(request.app.state.web.settings.webhook, "postmark_key", "") or signing_key("postmark")
    if not expected:
        return ("postmark webhook: no credentials configured (set SENDWELL_WEBHOOK_POSTMARK_KEY=user:password "
                "and use https://user:password@…/webhooks/postmark); refused")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    try:
        given = base64.b64decode(value, validate=True).decode("utf-8") if scheme.lower() == "basic" else ""
    except (binascii.Error, UnicodeDecodeError):
        given = ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return "postmark webhook: missing or wrong basic-auth credentials; refused"
    return None


@router.post("/{provider}")
async def receive(request: Request, provider: str) -> JSONResponse:
    from sendwell.bounces import webhooks

    if provider.lower() == "postmark" and (why := _postmark_allowed(request)):
        return JSONResponse({"detail": why, "field": None}, status_code=403)
    body = await request.body()
    state = request.app.state.web
    try:
        applied = await run_in_threadpool(webhooks.handle, state.engine, state.settings, provider, body,
                                          dict(request.headers))
    except webhooks.WebhookRejected as err:
        return JSONResponse({"detail": str(err), "field": None}, status_code=403)
    except webhooks.UnknownProvider as err:
        return JSONResponse({"detail": str(err), "field": "provider"}, status_code=404)
    except webhooks.WebhookError as err:  # MalformedPayload
        return JSONResponse({"detail": str(err), "field": "body"}, status_code=400)
    return JSONResponse({"handled": len(applied)})
