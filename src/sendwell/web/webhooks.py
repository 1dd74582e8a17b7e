"""POST /webhooks/<provider>: bounce, complaint and unsubscribe notifications from sending providers.

Unauthenticated by session or token: each provider's own signature (Postmark: HTTP basic auth) is the
credential, checked by sendwell.bounces.webhooks. A provider that is not configured refuses before the
body is read; the body is then read up to the provider's cap and no further (a bigger one is a 413).
Answers: 200 handled (even when nothing in it needed acting on), 403 refused, 400 malformed, 404 unknown
provider, 413 too large; providers retry other answers, and a retried event is recorded once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

router = APIRouter(prefix="/webhooks", include_in_schema=False)  # not fuzzed by schemathesis: see tests/fuzz


def _refuse(status: int, detail: str, field: str | None = None) -> JSONResponse:
    headers = {"Connection": "close"} if status == 413 else None  # the rest of the body is not read
    return JSONResponse({"detail": detail, "field": field}, status_code=status, headers=headers)


async def _read(request: Request, cap: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `cap` (never more than cap + one chunk in memory)."""
    length = request.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > cap:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            return None
    return bytes(body)


@router.post("/{provider}")
async def receive(request: Request, provider: str) -> JSONResponse:
    from sendwell.bounces import webhooks

    state = request.app.state.web
    headers = dict(request.headers)
    try:
        webhooks.admit(provider, headers, state.settings.webhook)  # before a byte of the body is read
    except webhooks.UnknownProvider as err:
        return _refuse(404, str(err), "provider")
    except webhooks.WebhookRejected as err:
        return _refuse(403, str(err))
    cap = webhooks.max_body(provider)
    body = await _read(request, cap)
    if body is None:
        return _refuse(413, f"{provider.lower()} webhook: the body is over {cap // 1024} KB; refused", "body")
    try:
        outcome = await run_in_threadpool(webhooks.handle, state.engine, state.settings, provider, body, headers)
    except webhooks.WebhookRejected as err:
        return _refuse(403, str(err))
    except webhooks.UnknownProvider as err:
        return _refuse(404, str(err), "provider")
    except webhooks.WebhookError as err:  # MalformedPayload
        return _refuse(400, str(err), "body")
    return JSONResponse(
        {
            "handled": len(outcome.applied),
            "ignored": len(outcome.ignored),
            **({"duplicate": True} if outcome.replay else {}),
        }
    )
