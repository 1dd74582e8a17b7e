"""Render pages with Jinja2 (autoescaping on: contact fields, notes and bounce texts are attacker-controlled)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50


def when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _query(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (for pagers and filters)."""
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: v for k, v in changes.items() if v not in (None, "")})
    return "?" + urlencode(params) if params else "?"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.globals["query"] = _query
    return env


def render(
    request: Request, template: str, status: int = 200, headers: Mapping[str, str] | None = None, **context: Any
) -> HTMLResponse:
    session = request.scope.get("session") or {}
    base = {
        "request": request,
        "user": session.get("user"),
        "csrf": session.get("csrf", ""),
        "path": request.url.path,
        "report": None,
        "report_noun": None,
        "error": None,
    }
    html = environment().get_template(template).render({**base, **context})
    return HTMLResponse(html, status_code=status, headers=headers)


def error_page(request: Request, status: int, message: str, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    return render(request, "error.html", status=status, headers=headers, status_code=status, message=message)


class Pager:
    """Page numbers for a list of `total` rows shown PAGE_SIZE at a time."""

    def __init__(self, page: int, total: int, size: int = PAGE_SIZE) -> None:
        self.size, self.total = size, total
        self.pages = max(1, -(-total // size))
        self.page = min(max(1, page), self.pages)
        self.offset = (self.page - 1) * size
