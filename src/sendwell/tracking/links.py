"""Which URL a click token's link index names: the campaign's stored HTML template, rendered for that recipient.

The index counts the trackable links of the template (`rewrite.campaign_links`), which is how
`tracked_template` numbered them when the message was built. A personalised link
(`https://shop.example/?id={{ uid }}`) is rendered with the recipient's contact fields as the message
builder renders them; its scheme and host are always written out in the template. Nothing of the
request but the signed index chooses the target: no open redirect.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from sendwell.sending.message import Personal, display_name
from sendwell.tracking.rewrite import campaign_links, trackable_url

# The href was read by html.parser, so its entities are already decoded: render it as plain text.
_ENV = jinja2.Environment(autoescape=False)
_UNSUBSCRIBE_STANDIN = "mailto:unsubscribe@invalid"  # never a tracked link's part; kept for odd templates


@lru_cache(maxsize=32)
def _links(template: str) -> tuple[tuple[str, jinja2.Template | None], ...]:
    """(link as written, its compiled template when it holds merge fields) per index."""
    return tuple((href, _ENV.from_string(href) if "{" in href else None) for href in campaign_links(template))


def link_count(template: str) -> int:
    return len(_links(template))


def link_for(template: str, index: int, recipient_id: int, email: str, fields: dict[str, Any] | None) -> str | None:
    """The URL link `index` of the campaign template had in this recipient's message, or None."""
    links = _links(template)
    if not 0 <= index < len(links):
        return None
    href, compiled = links[index]
    if compiled is None:
        return href.strip()
    ctx = dict(fields or {})
    ctx.update(email=email, name=display_name(Personal(recipient_id, email, fields or {})),
               unsubscribe_url=_UNSUBSCRIBE_STANDIN)
    try:
        return trackable_url(compiled.render(ctx))  # a merge value with a line break makes no Location header
    except Exception:  # noqa: BLE001 - a link that cannot render for these fields was never sent either
        return None


def labels(template: str | None) -> list[str]:
    """The campaign's links as written (merge fields shown): names for per-link statistics."""
    return [href for href, _ in _links(template)] if template else []
