"""Put tracking into HTML: links through `/t/c/<token>`, a 1×1 image before `</body>`; pure.

One plan serves two uses. `tracked_template` rewrites a campaign's Jinja2 HTML template once per
campaign: each trackable link becomes `{base}/t/c/{{ sendwell_click(N) }}` and the image calls
`sendwell_open()`, so each recipient costs only the render the message builder does anyway plus
its HMACs (`tracking_context` gives those two functions). `rewrite_html` does the same to HTML that
is already final. Either way a link's index N is its position among the trackable links of the
string the plan was made from, and `campaign_links` of that same string names it: a click's target
comes from our stored campaign, never from the request.

The HTML is read with the standard `html.parser`; in a rewritten tag only the href value is replaced
(located with html.parser's own attribute pattern), every other byte is kept. In a template, a link
whose tag carries template code outside attribute values, whose scheme or host is not written out,
or that sits in a `{% for %}` loop (one index, many URLs) is left untracked.
"""

from __future__ import annotations

import html.parser as _hp
import re
from collections.abc import Callable
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sendwell.tracking.tokens import RecipientTokens

OPEN_PATH = "/t/o/"  # {base_url}/t/o/<token>: the 1×1 image
CLICK_PATH = "/t/c/"  # {base_url}/t/c/<token>: 302 to the link
LINK_TAGS = frozenset({"a", "area"})
NO_TRACK_ATTR = "data-sendwell-notrack"  # <a href=… data-sendwell-notrack> is left as written
# Never rewritten: an unsubscribe link must work without us and must not count as a click; a
# scanner following it through our redirect would unsubscribe people (RFC 8058 wants a POST anyway).
_UNTRACKED_PATH_WORDS = ("unsubscribe",)
_PIXEL = (
    '<img src="{base}' + OPEN_PATH + '{slot}" width="1" height="1" alt="" border="0" '
    'style="width:1px;height:1px;border:0">'
)
_JINJA = ("{{", "{%", "{#")
_LOOP = re.compile(r"\{%-?\s*(for|endfor|raw|endraw)\b")  # Jinja2 statements, in text between tags
# How html.parser itself reads a start tag (module attributes since Python 3.2; the tests fail loudly,
# rather than tracking silently stopping, should they ever go).
_TAG_NAME, _ATTR = _hp.tagfind_tolerant, _hp.attrfind_tolerant  # type: ignore[attr-defined]


def trackable_url(href: str | None) -> str | None:
    """The URL a link is tracked for: absolute http(s) with a written-out host, not an unsubscribe link."""
    if not href:
        return None
    url = href.strip()
    if any(ord(c) < 0x20 or c == "\x7f" for c in url):  # would break the Location header
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(mark in parts.scheme + parts.netloc for mark in ("{", "}", "%}")):  # host from a merge field
        return None
    if any(word in parts.path.lower() for word in _UNTRACKED_PATH_WORDS):
        return None
    return url


def _balanced(text: str) -> bool:
    return text.count("{{") == text.count("}}") and text.count("{%") == text.count("%}")


def _href_span(raw: str) -> tuple[int, int] | None:
    """Where the first href value (quotes included) lies in a start tag's text."""
    m = _TAG_NAME.match(raw, 1)
    k = m.end() if m else len(raw)
    while k < len(raw):
        m = _ATTR.match(raw, k)
        if not m or m.end() == k:
            return None
        if m.group(1).lower() == "href" and m.group(3) is not None:
            return m.span(3)
        k = m.end()
    return None


class _Scan(HTMLParser):
    """The trackable link tags (span of the href value, URL) and where the last </body> starts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.line_starts = [0]
        at = html.find("\n")
        while at >= 0:
            self.line_starts.append(at + 1)
            at = html.find("\n", at + 1)
        self.links: list[tuple[int, int, str]] = []  # value start, value end, URL (or URL template)
        self.body_end: int | None = None
        self.blocked = 0  # inside Jinja2 {% for %} or {% raw %}
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_data(self, data: str) -> None:
        if "{%" in data:
            for m in _LOOP.finditer(data):
                self.blocked = max(0, self.blocked + (-1 if m.group(1).startswith("end") else 1))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in LINK_TAGS or self.blocked > 0:
            return
        names = [name for name, _ in attrs]
        if "href" not in names or NO_TRACK_ATTR in names or any(c in n for n in names for c in "{}%#"):
            return
        url = trackable_url(attrs[names.index("href")][1])
        if url and not _balanced(url):  # quotes inside template code cut the value short: not what renders
            return
        raw = self.get_starttag_text()
        span = _href_span(raw) if url and raw else None
        if span is None or url is None:
            return
        start = self._offset()
        self.links.append((start + span[0], start + span[1], url))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self.body_end = self._offset()


def campaign_links(html: str) -> list[str]:
    """The trackable links of an HTML body or template in document order: a click token's index points here.

    From a template, a link may still hold merge fields (`https://shop.example/?id={{ uid }}`).
    """
    return [url for _s, _e, url in _Scan(html).links]


Plan = tuple[tuple[tuple[str, int], ...], str]  # ((text before, slot), …), text after; slot -1 is the image


@lru_cache(maxsize=64)
def _plan(html: str, base: str, reads: bool, clicks: bool) -> Plan:
    scan = _Scan(html)
    cuts: list[tuple[int, int, str, str, int]] = []  # start, end, text up to the slot, text after, slot
    if clicks:
        for index, (start, end, _url) in enumerate(scan.links):
            cuts.append((start, end, '"' + base + CLICK_PATH, '"', index))
    if reads:
        at = len(html) if scan.body_end is None else scan.body_end
        head, tail = _PIXEL.replace("{base}", base).split("{slot}")
        cuts.append((at, at, head, tail, -1))
        cuts.sort(key=lambda c: c[0])  # a link after </body> stays after the image
    pairs, done, pending = [], 0, ""
    for start, end, head, tail, slot in cuts:
        pairs.append((pending + html[done:start] + head, slot))
        pending, done = tail, end
    return tuple(pairs), pending + html[done:]


def _fill(plan: Plan, slot_text: Callable[[int], str]) -> str:
    pairs, after = plan
    out = []
    for text, slot in pairs:
        out.append(text)
        out.append(slot_text(slot))
    out.append(after)
    return "".join(out)


def rewrite_html(
    html: str, *, base_url: str, campaign_id: int, recipient_id: int, secret: str, reads: bool, clicks: bool
) -> str:
    """Final HTML with trackable links sent through `{base_url}/t/c/<token>` (clicks) and a 1×1 image
    `{base_url}/t/o/<token>` before the last `</body>`, or at the end (reads).

    Returned unchanged when neither is asked for, or without a base URL (nothing could serve them).
    The plan is cached by HTML text: the same HTML for many recipients is parsed once.
    """
    if not (reads or clicks) or not base_url:
        return html
    plan = _plan(html, base_url.rstrip("/"), reads, clicks)
    mine = RecipientTokens(secret, campaign_id, recipient_id)
    return _fill(plan, lambda slot: mine.open() if slot < 0 else mine.click(slot))


def tracked_template(template: str, *, base_url: str, reads: bool, clicks: bool) -> str:
    """A campaign's Jinja2 HTML template with tracking built in (once per campaign); render it with
    `tracking_context(...)` added to each recipient's context. Unchanged when nothing is tracked."""
    if not (reads or clicks) or not base_url:
        return template
    plan = _plan(template, base_url.rstrip("/"), reads, clicks)
    return _fill(plan, lambda slot: "{{ sendwell_open() }}" if slot < 0 else f"{{{{ sendwell_click({slot}) }}}}")


def tracking_context(*, secret: str, campaign_id: int, recipient_id: int) -> dict[str, Callable[..., str]]:
    """The two template functions `tracked_template` calls, for one recipient."""
    mine = RecipientTokens(secret, campaign_id, recipient_id)
    return {"sendwell_open": mine.open, "sendwell_click": mine.click}
