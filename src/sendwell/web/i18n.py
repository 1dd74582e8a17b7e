"""The web UI's languages: the language of a request, and dates and numbers written the way that language writes
them (the catalogues themselves are in sendwell.translations: the emails sendwell writes use them too)."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from babel.support import Translations as Translations
from fastapi import Request

from sendwell.config import LANGUAGES
from sendwell.translations import LOCALE_DIR as LOCALE_DIR
from sendwell.translations import translations as translations

NAMES = {"en": "English", "vi": "Tiếng Việt"}  # each language by its own name, for the picker


def from_accept_language(header: str | None) -> str | None:
    """The first language of ours the browser asks for (by its q-value), or None."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().replace("_", "-").split("-")[0]
        if primary in LANGUAGES and q > 0:
            ranked.append((-q, i, primary))
    return min(ranked)[2] if ranked else None


def request_language(request: Request, chosen: str | None = None) -> str:
    """The user's own choice, else the browser's Accept-Language, else the installation's `[web] language`."""
    if chosen is not None and chosen in LANGUAGES:
        return chosen
    found = from_accept_language(request.headers.get("accept-language"))
    if found:
        return found
    web = getattr(request.app.state, "web", None)
    return web.settings.web.language if web is not None else "en"


def when(value: object, language: str) -> str:
    """A stored time as the language writes a short date and a 24-hour time (UTC, as stored; no seconds)."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return format_date(date.fromisoformat(value), "medium", locale=language)
        except ValueError:
            return value
    if isinstance(value, str) and len(value) >= 16 and value[4] == "-":
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return f"{format_date(value, 'medium', locale=language)} {format_datetime(value, 'HH:mm', locale=language)}"
    if isinstance(value, date):
        return format_date(value, "medium", locale=language)
    return "" if value is None else str(value)


def number(value: float | int | None, language: str) -> str:
    return "" if value is None else format_decimal(value, locale=language)


def percent(value: float | None, language: str, digits: int = 1) -> str:
    """A ratio (0.1) as a percentage ("10.0%", "10,0%")."""
    if value is None:
        return ""
    return format_percent(value, format="#,##0." + "0" * digits + "%" if digits else None, locale=language)
