"""Errors as JSON for the API — {"detail": message, "field": name or null} — and as pages for the UI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from sendwell.errors import NotFound, UserError

# The services name the CLI option at fault; the API calls the same input by its JSON field name.
OPTION_FIELDS = {
    "--subject": "subject", "--from": "from_addr", "--reply-to": "reply_to", "--html": "html", "--text": "text",
    "--segment": "include", "--exclude": "exclude", "--skip": "skip_verdicts", "--track": "track",
    "campaign name": "name", "segment name": "name", "token name": "name", "user name": "username",
    "password": "password", "--reason": "reason", "--status": "statuses",
}
# Messages that name no option but still point at one input.
MESSAGE_FIELDS = (
    (re.compile(r"^give a body"), "html"),
    (re.compile(r"both included and excluded$"), "exclude"),
    (re.compile(r"^(campaign|segment) '.*' already exists"), "name"),
    (re.compile(r"^cannot edit "), None),
)


class FieldError(UserError):
    """A UserError whose input the web layer knows (e.g. the uploaded file)."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


@contextmanager
def blame(field: str) -> Iterator[None]:
    """Attribute any UserError raised inside to `field` (NotFound passes through: it is a 404)."""
    try:
        yield
    except NotFound:
        raise
    except FieldError:
        raise
    except UserError as err:
        raise FieldError(str(err), field) from None


def describe(err: UserError) -> tuple[str, str | None]:
    """(message in API terms, field at fault or None)."""
    message = str(err)
    if isinstance(err, FieldError):
        return message, err.field
    for option, name in OPTION_FIELDS.items():
        if message.startswith(option + ":") or message.startswith(option + " "):
            return name + message[len(option):], name
    for pattern, name in MESSAGE_FIELDS:
        if pattern.search(message):
            return message, name
    return message, None


def _validation_field(loc: tuple) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or None


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def install(app: FastAPI) -> None:
    """Register the handlers: UserError 400, NotFound 404, validation 422, HTTP errors in the same shape."""
    from sendwell.web.security import LoginRequired
    from sendwell.web.ui.render import error_page

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _err: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = "/login?" + urlencode({"next": target})
        if request.headers.get("hx-request"):  # htmx follows a redirect inside the page; make it reload instead
            return Response(status_code=204, headers={"HX-Redirect": login})
        return RedirectResponse(login, status_code=303)

    @app.exception_handler(DataError)
    async def bad_value(request: Request, err: DataError) -> Response:
        # A value the database refuses (a NUL byte, a number out of range): the input's fault, not ours.
        message = "a value is not valid here: " + str(err.orig).splitlines()[0]
        if is_api(request):
            return JSONResponse({"detail": message, "field": None}, status_code=400)
        return error_page(request, 400, message)

    @app.exception_handler(UserError)
    async def user_error(request: Request, err: UserError) -> Response:
        status = 404 if isinstance(err, NotFound) else 400
        message, field = describe(err)
        if is_api(request):
            return JSONResponse({"detail": message, "field": field}, status_code=status)
        return error_page(request, status, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> Response:
        errors = err.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _validation_field(tuple(first.get("loc", ())))
        message = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
        if is_api(request):
            detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors]
            return JSONResponse({"detail": message, "field": field, "errors": detail}, status_code=422)
        return error_page(request, 400, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> Response:
        if is_api(request) or not hasattr(request.app.state, "web"):
            field = "file" if err.status_code == 413 else None
            return JSONResponse({"detail": err.detail, "field": field}, status_code=err.status_code,
                                headers=getattr(err, "headers", None))
        return error_page(request, err.status_code, str(err.detail), headers=getattr(err, "headers", None))
