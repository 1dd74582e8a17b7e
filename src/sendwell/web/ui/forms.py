"""Helpers the UI's form handlers share: pasted text or an uploaded file as one stream, who acted, redirects."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Literal, overload

from babel.support import Translations
from fastapi import UploadFile
from fastapi.responses import RedirectResponse

from sendwell.errors import UserError
from sendwell.web.api.common import upload_name
from sendwell.web.ui import messages


def given(upload: UploadFile | None) -> bool:
    # A form's empty file input still sends a part, with no filename.
    return upload is not None and bool(upload.filename)


@overload
def pasted_or_file(text: str, upload: UploadFile | None) -> tuple[str, IO[bytes]]: ...
@overload
def pasted_or_file(text: str, upload: UploadFile | None, *, required: Literal[True]) -> tuple[str, IO[bytes]]: ...
@overload
def pasted_or_file(text: str, upload: UploadFile | None, *, required: bool) -> tuple[str, IO[bytes]] | None: ...
def pasted_or_file(text: str, upload: UploadFile | None, *, required: bool = True) -> tuple[str, IO[bytes]] | None:
    """(name, stream) of the uploaded file, else of the pasted text."""
    if upload is not None and given(upload):
        return upload_name(upload), upload.file
    if text.strip():
        return "pasted", io.BytesIO(text.encode("utf-8"))
    if required:
        raise UserError("paste some addresses or choose a file", field="text", named=True)
    return None


def form_error(err: UserError, labels: Mapping[str, str], t: Translations | None = None) -> tuple[str, str | None]:
    """(message as the page shows it, form field to outline): the field is called by its label on the form;
    with the reader's catalogue `t`, label and message are in the reader's language (web/ui/messages.py)."""
    if err.field is None or err.named:
        return (service_message(t, err) if t else str(err)), err.field
    label = labels.get(err.field, err.field)
    if t is None:
        return f"{label}: {err.message}", err.field
    return f"{t.gettext(label)}: {messages.translate(t, err.message)}", err.field


def service_message(t: Translations, err: UserError) -> str:
    """A service's error as one line in the reader's language (the field named as the service names it)."""
    if err.field is None or err.named:
        return messages.translate(t, err.message)
    return f"{err.field}: {messages.translate(t, err.message)}"


def actor(user: str) -> str:
    return f"web:{user}"[:200]  # the history's `actor` column holds 200 characters


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def local_path(target: str | None) -> str:
    """Only redirect within this site after login (no open redirect to //evil.example)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
