"""The words sendwell writes into a layout (its built-in ones' greeting and unsubscribe footer), put in a
campaign's language once, when its layout is set around its body: the per-recipient rendering then sees a plain
Jinja2 template with only merge fields left.

A layout marks them as Jinja2's i18n extension does, so `make messages` extracts them (babel.cfg):
`{% trans %}You receive this email as {{ email }}.{% endtrans %}` (names of merge fields only, no filters) and
`_("there")` inside an expression. A layout without either (a user's own) is left as written.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from sendwell.translations import translations

_TRANS = re.compile(r"\{%-?\s*trans\s*-?%\}(.*?)\{%-?\s*endtrans\s*-?%\}", re.DOTALL)
_CALL = re.compile(r"""\b_\(\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*\)""")
_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")  # a merge field inside a trans block
_PLACEHOLDER = re.compile(r"%\(([A-Za-z_][A-Za-z0-9_]*)\)s")


def msgid(block: str) -> str:
    """The catalogue's key for a trans block's text, as Babel extracts it (babel.cfg: newstyle_gettext)."""
    return _FIELD.sub(r"%(\1)s", block.replace("%", "%%"))


def _as_template(translated: str) -> str:
    """A translation back as layout source: its placeholders as merge fields again."""
    return _PLACEHOLDER.sub(r"{{ \1 }}", translated).replace("%%", "%")


@lru_cache(maxsize=64)
def localize(source: str, language: str) -> str:
    """`source` with its marked words in `language` (English when the catalogue lacks one)."""
    if "trans" not in source and "_(" not in source:
        return source
    gettext = translations(language).gettext
    out = _TRANS.sub(lambda m: _as_template(gettext(msgid(m.group(1)))), source)
    # json.dumps gives a string literal Jinja2 reads back (its escapes are Python's for these characters)
    return _CALL.sub(lambda m: json.dumps(gettext(m.group(1) or m.group(2)), ensure_ascii=False), out)
