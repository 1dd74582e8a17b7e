"""Put tracking into one recipient's HTML: links through `/t/c/<token>`, a 1×1 image before `</body>`; pure.

The HTML is read with the standard `html.parser` (comments, scripts, attribute quoting and character
references are its business, not a regular expression's). Only the tags that change are rewritten
from their parsed attributes; every other byte is kept. A link's index is its position among the
trackable links, so `campaign_links` on the same rendered HTML names the URL a click token points to:
the redirect target always comes from our stored campaign, never from the request.

Parsing costs far more than filling tokens, so the plan (static pieces and token slots) is cached by
HTML text: a campaign whose HTML has no merge fields is parsed once, every recipient then costs only
its HMACs and a join.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sendwell.tracking.tokens import click_token, open_token

OPEN_PATH = "/t/o/"  # {base_url}/t/o/<token>: the 1×1 image
CLICK_PATH = "/t/c/"  # {base_url}/t/c/<token>: 302 to the link
LINK_TAGS = frozenset({"a", "area"})
NO_TRACK_ATTR = "data-sendwell-notrack"  # <a href=… data-sendwell-notrack> is left as written
# Never rewritten: an unsubscribe link must work without us and must not count as a click; a
# scanner following it through our redirect would unsubscribe people (RFC 8058 wants a POST anyway).
_UNTRACKED_PATH_WORDS = ("unsubscribe",)
_PIXEL = '<img src="{src}" width="1" height="1" alt="" border="0" style="width:1px;height:1px;border:0">'


def trackable_url(href: str | None) -> str | None:
    """The URL a link would be tracked for: absolute http(s), not an unsubscribe link; else None."""
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
    path = parts.path.lower()
    if any(word in path for word in _UNTRACKED_PATH_WORDS):
        return None
    return url


class _Scan(HTMLParser):
    """Collects the trackable link tags (where, and their attributes) and where the last </body> starts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.line_starts = [0]
        at = html.find("\n")
        while at >= 0:
            self.line_starts.append(at + 1)
            at = html.find("\n", at + 1)
        self.links: list[tuple[int, int, str, list[tuple[str, str | None]], str, bool]] = []
        self.body_end: int | None = None
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._link(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._link(tag, attrs, closed=True)

    def _link(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if tag not in LINK_TAGS:
            return
        names = [name for name, _ in attrs]
        if "href" not in names or NO_TRACK_ATTR in names:
            return
        url = trackable_url(attrs[names.index("href")][1])
        raw = self.get_starttag_text()
        if url is None or raw is None:
            return
        start = self._offset()
        self.links.append((start, start + len(raw), tag, attrs, url, closed))

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self.body_end = self._offset()


def campaign_links(html: str) -> list[str]:
    """The trackable URLs of a rendered HTML body in document order; a click token's index points into this."""
    return [link[4] for link in _Scan(html).links]


def _tag_head(tag: str, attrs: list[tuple[str, str | None]]) -> tuple[str, str]:
    """The rewritten start tag cut where the token goes: `<a …href="<base>/t/c/` and `" …>`."""
    before, after, seen = [f"<{tag}"], [], False
    for name, value in attrs:
        if name == "href" and not seen:
            seen = True
            before.append(' href="')
            continue
        text = f" {name}" if value is None else f' {name}="{escape(value, quote=True)}"'
        (after if seen else before).append(text)
    return "".join(before), '"' + "".join(after)


Plan = tuple[tuple[tuple[str, int], ...], str]  # ((text before, slot), …), text after; slot -1 is the pixel


@lru_cache(maxsize=64)
def _plan(html: str, base: str, reads: bool, clicks: bool) -> Plan:
    scan = _Scan(html)
    cuts: list[tuple[int, int, str, str, int]] = []  # start, end, text up to the token, text after, slot
    if clicks:
        for index, (start, end, tag, attrs, _url, closed) in enumerate(scan.links):
            head, tail = _tag_head(tag, attrs)
            cuts.append((start, end, head + base + CLICK_PATH, tail + ("/>" if closed else ">"), index))
    if reads:
        at = len(html) if scan.body_end is None else scan.body_end
        head, tail = _PIXEL.split("{src}")
        cuts.append((at, at, head + base + OPEN_PATH, tail, -1))
        cuts.sort(key=lambda c: c[0])  # a link after </body> stays after the image
    pairs, done, pending = [], 0, ""
    for start, end, head, tail, slot in cuts:
        pairs.append((pending + html[done:start] + head, slot))
        pending, done = tail, end
    return tuple(pairs), pending + html[done:]


def rewrite_html(html: str, *, base_url: str, campaign_id: int, recipient_id: int, secret: str,
                 reads: bool, clicks: bool) -> str:
    """The HTML with trackable links sent through `{base_url}/t/c/<token>` (clicks) and a 1×1 image
    `{base_url}/t/o/<token>` before the last `</body>`, or at the end (reads).

    Returned unchanged when neither is asked for, or without a base URL (nothing could serve them).
    """
    if not (reads or clicks) or not base_url:
        return html
    pairs, after = _plan(html, base_url.rstrip("/"), reads, clicks)
    out = []
    for text, slot in pairs:
        out.append(text)
        out.append(open_token(secret, campaign_id, recipient_id) if slot < 0
                   else click_token(secret, campaign_id, recipient_id, slot))
    out.append(after)
    return "".join(out)
