"""Which URL a click token's link index names: the campaign's stored HTML template, rendered for that recipient.

The index counts the trackable links of the template (`rewrite.campaign_links`), which is how
`tracked_template` numbered them when the message was built. A personalised link
(`https://shop.example/?id={{ uid }}`) is rendered with the recipient's contact fields as the message
builder renders them; its scheme and host are always written out in the template. Nothing of the
request but the signed index chooses the target: no open redirect.

The target goes out in a `Location` header, which holds ASCII only: `as_uri` percent-encodes (RFC 3986)
what a URI cannot hold, merged values and literal text alike (`café€` → `caf%C3%A9%E2%82%AC`, a space →
`%20`; tab and line breaks dropped, as browsers drop them), and writes a non-ASCII host in IDNA.
Reserved characters (`/ ? & = # …`) and existing `%XX` escapes are kept, so the redirect lands where a
browser would have gone with the untracked link.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import jinja2

from sendwell.sending.message import Personal, display_name
from sendwell.tracking.rewrite import campaign_links, trackable_url

# The href was read by html.parser, so its entities are already decoded: render it as plain text.
_ENV = jinja2.Environment(autoescape=False)
_UNSUBSCRIBE_STANDIN = "mailto:unsubscribe@invalid"  # never a tracked link's part; kept for odd templates
# RFC 3986 reserved characters keep their meaning; "%" stays only as the start of an escape (below).
_URI_SAFE = ":/?#[]@!$&'()*+,;=%"
_URI = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]*\Z")  # nothing to encode (no "%" either)
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def as_uri(url: str) -> str | None:
    """The URL in ASCII: non-ASCII, spaces, controls and other characters a URI cannot hold percent-encoded
    as UTF-8, an international host in IDNA; None when the host cannot be written so."""
    if _URI.match(url):
        return url  # the common case, a URL that is already a URI
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return None
    netloc = parts.netloc
    if not netloc.isascii():
        userinfo, at, hostport = netloc.rpartition("@")
        host, colon, port = hostport.partition(":")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        netloc = quote(userinfo, safe=_URI_SAFE) + at + host + colon + port
    rest = [quote(_STRAY_PERCENT.sub("%25", p), safe=_URI_SAFE) for p in (parts.path, parts.query, parts.fragment)]
    uri = urlunsplit((parts.scheme, netloc, *rest))
    return uri if uri.isascii() else None  # e.g. a port in full-width digits: no URL to send anyone to


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
        return as_uri(href.strip())
    ctx = dict(fields or {})
    ctx.update(
        email=email,
        name=display_name(Personal(recipient_id, email, fields or {})),
        unsubscribe_url=_UNSUBSCRIBE_STANDIN,
    )
    try:
        rendered = compiled.render(ctx)
    except Exception:  # a link that cannot render for these fields was never sent either
        return None
    url = as_uri(rendered.strip())  # before the check: a merged line break is dropped (as browsers do), not refused
    return trackable_url(url) if url else None


def labels(template: str | None) -> list[str]:
    """The campaign's links as written (merge fields shown): names for per-link statistics."""
    return [href for href, _ in _links(template)] if template else []
