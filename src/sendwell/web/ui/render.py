"""Render pages with Jinja2 (autoescaping on: contact fields, notes and bounce texts are attacker-controlled)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from sendwell.web import i18n
from sendwell.web.ui import messages, names
from sendwell.web.ui.notices import pop_notice

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50


def _query(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (for pagers and filters)."""
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: v for k, v in changes.items() if v not in (None, "")})
    return "?" + urlencode(params) if params else "?"


@cache
def environment(language: str = "en") -> jinja2.Environment:
    """One environment per language: its gettext catalogue and its date and number filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # newstyle: `_("… %(n)s", n=x)` formats and escapes like {% trans %}, and a missing variable is an error
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = lambda v: i18n.when(v, language)
    env.filters["num"] = lambda v: i18n.number(v, language)
    env.filters["pct"] = lambda v, digits=1: i18n.percent(v, language, digits)
    env.globals["query"] = _query
    t = i18n.translations(language)
    for name, table in names.TABLES.items():
        env.globals[name] = lambda value, table=table: t.gettext(table[value]) if value in table else (value or "")
    # a service's sentence (an error, a set-up finding) in the reader's language when web/ui/messages.py knows it
    env.globals["service_text"] = lambda text: messages.translate(t, text) if text else ""
    env.globals["language"] = language
    env.globals["languages"] = i18n.NAMES
    return env


def language_of(request: Request) -> str:
    """The language this request's pages are written in (looked up once per request)."""
    session = request.scope.get("session") or {}
    if "language" not in session:
        chosen = None
        if session.get("user"):
            from sendwell.auth import user_language

            chosen = user_language(request.app.state.web.engine, session["user"])
        language = i18n.request_language(request, chosen)
        if request.scope.get("session") is None:
            return language
        session["language"] = language
    return str(session["language"])


def gettext(request: Request) -> i18n.Translations:
    """The catalogue for the handlers' own messages (flash notices, form errors)."""
    return i18n.translations(language_of(request))


def render(
    request: Request, template: str, status: int = 200, headers: Mapping[str, str] | None = None, **context: Any
) -> HTMLResponse:
    session = request.scope.get("session") or {}
    language = language_of(request)
    base = {
        "request": request,
        "user": session.get("user"),
        "csrf": session.get("csrf", ""),
        "path": request.url.path,
        "report": None,
        "report_noun": None,
        "error": None,
        "notice": pop_notice(request, i18n.translations(language)),
    }
    html = environment(language).get_template(template).render({**base, **context})
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
