"""The two public tracking URLs (opt-in per campaign): GET /t/o/<token> the 1×1 image, GET /t/c/<token> the
redirect to the campaign's own link. What they answer is decided by sendwell.tracking.answers; this only
copies it into a response. No session, no login: the signed token is all there is."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

router = APIRouter(prefix="/t", include_in_schema=False)


def _client(request: Request) -> tuple[str | None, str | None]:
    return request.headers.get("user-agent"), request.client.host if request.client else None


def _respond(answer) -> Response:  # a tracking.answers.Answer
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


@router.get("/o/{token}")
async def open_pixel(request: Request, token: str) -> Response:
    from sendwell.tracking.answers import open_answer

    state = request.app.state.web
    return _respond(await run_in_threadpool(open_answer, state.engine, state.secret, token, *_client(request)))


@router.get("/c/{token}")
async def click(request: Request, token: str) -> Response:
    from sendwell.tracking.answers import click_answer

    state = request.app.state.web
    return _respond(await run_in_threadpool(click_answer, state.engine, state.secret, token, *_client(request)))
