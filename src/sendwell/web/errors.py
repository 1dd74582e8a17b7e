"""Errors as JSON for the API — {"detail": message, "field": name or null, "pointer": "/name" or null} — and as
pages for the UI. The services name the field (UserError.field); nothing here branches on the message text (a page
shows it translated, web/ui/messages.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from sendwell.errors import NotFound, UserError


@contextmanager
def blame(field: str) -> Iterator[None]:
    """Attribute a UserError raised inside that names no field to `field` (NotFound passes through: it is a 404)."""
    try:
        yield
    except NotFound:
        raise
    except UserError as err:
        if err.field is not None:
            raise
        raise err.blamed_on(field) from None


def problem(message: str, field: str | None) -> dict[str, str | None]:
    """The API's error body: the message, the JSON field at fault and an RFC 6901 pointer to it."""
    pointer = "/" + field.replace("~", "~0").replace("/", "~1").replace(".", "/") if field else None
    return {"detail": message, "field": field, "pointer": pointer}


def _validation_field(loc: tuple) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or None


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def install(app: FastAPI) -> None:
    """Register the handlers: UserError 400, NotFound 404, validation 422, HTTP errors in the same shape."""
    from sendwell.web.security import LoginRequired
    from sendwell.web.ui.forms import service_message
    from sendwell.web.ui.render import error_page, gettext

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
            return JSONResponse(problem(message, None), status_code=400)
        return error_page(request, 400, message)

    @app.exception_handler(UserError)
    async def user_error(request: Request, err: UserError) -> Response:
        status = 404 if isinstance(err, NotFound) else 400
        if is_api(request):
            return JSONResponse(problem(str(err), err.field), status_code=status)
        # the page is in the reader's language: the sentence as web/ui/messages.py's table writes it
        return error_page(request, status, service_message(gettext(request), err))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> Response:
        errors = err.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _validation_field(tuple(first.get("loc", ())))
        message = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
        if is_api(request):
            detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors]
            return JSONResponse(problem(message, field) | {"errors": detail}, status_code=422)
        return error_page(request, 400, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> Response:
        if is_api(request) or not hasattr(request.app.state, "web"):
            field = "file" if err.status_code == 413 else None
            return JSONResponse(
                problem(err.detail, field), status_code=err.status_code, headers=getattr(err, "headers", None)
            )
        return error_page(request, err.status_code, str(err.detail), headers=getattr(err, "headers", None))
