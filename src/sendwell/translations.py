"""The gettext catalogues (locale/<language>/LC_MESSAGES/messages.po) of everything sendwell writes for a person in
their language: the web pages, the public pages and the emails it writes itself (a subscription's confirmation).

A built wheel carries each catalogue compiled (messages.mo, made by setup.py's build step); an editable install or
a fresh clone has only the .po files, compiled in memory at first use, so no build step is ever needed to run.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from sendwell.config import LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# pip writes a wheel's files in name order and does not keep their times: messages.mo lands an instant before its
# messages.po. A .po newer than its .mo by more than this was edited after the build.
SAME_INSTALL_SECONDS = 2.0


def N_(text: str) -> str:
    """Marks a string for `make messages` where it is defined; it is translated where a person is shown it."""
    return text


def catalogue(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def compiled(language: str) -> Path | None:
    """The built messages.mo of `language` when it is there and not older than its .po, else None."""
    po = catalogue(language)
    mo = po.with_suffix(".mo")
    try:
        fresh = mo.stat().st_mtime + SAME_INSTALL_SECONDS >= po.stat().st_mtime
    except FileNotFoundError:
        return None
    return mo if fresh else None


@cache
def translations(language: str) -> Translations:
    """The catalogue of `language` (a language sendwell has no catalogue for: the English text as written)."""
    if language not in LANGUAGES:
        return Translations()
    mo = compiled(language)
    if mo is not None:
        with mo.open("rb") as f:
            return Translations(f, domain="messages")
    with catalogue(language).open("rb") as f:
        catalog = read_po(f, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)  # fuzzy entries are left out: they fall back to the English text
    buf.seek(0)
    return Translations(buf, domain="messages")
