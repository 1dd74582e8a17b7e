"""Which URL a click token's link index names: the campaign's stored HTML, rendered as it was sent.

The index counts trackable links in the HTML one recipient received, so a personalised link (say
`https://shop.example/?id={{ customer_id }}`) is rendered again from the stored campaign and the
recipient's contact fields, exactly as the message builder does. A campaign without merge fields is
rendered once. Nothing of the request but the signed index chooses the target: no open redirect.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
import jinja2.meta

from sendwell.sending.message import Personal, display_name
from sendwell.tracking.rewrite import campaign_links

# As sending/message.py renders HTML bodies; the unsubscribe URL is never tracked, so any
# non-tracked stand-in keeps the indices (a mailto is one, as without a public URL).
_ENV = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
_UNSUBSCRIBE_STANDIN = "mailto:unsubscribe@invalid"


@lru_cache(maxsize=32)
def _compiled(source: str) -> tuple[jinja2.Template, tuple[str, ...] | None]:
    """(template, its links when it uses no variable at all)."""
    template = _ENV.from_string(source)
    if jinja2.meta.find_undeclared_variables(_ENV.parse(source)):
        return template, None
    return template, tuple(campaign_links(template.render()))


def links_for(html: str, recipient_id: int, email: str, fields: dict[str, Any] | None) -> list[str]:
    """The trackable links of the campaign HTML as this recipient received it ([] if it cannot render)."""
    try:
        template, static = _compiled(html)
        if static is not None:
            return list(static)
        ctx = dict(fields or {})
        ctx.update(email=email, name=display_name(Personal(recipient_id, email, fields or {})),
                   unsubscribe_url=_UNSUBSCRIBE_STANDIN)
        return campaign_links(template.render(ctx))
    except Exception:  # noqa: BLE001 - a template that cannot render for these fields sent no links either
        return []


def labels(html: str | None) -> list[str]:
    """The campaign's links with merge fields left empty: names for per-link statistics."""
    if not html:
        return []
    return links_for(html, 0, "", {})
