"""A campaign's message sources put together: its body (HTML or Markdown) rendered and set into a layout's
`{{ content }}` with the layout's own words in the campaign's language (layoutwords), and a plain-text part
generated from the HTML when none is given. Pure: no database.

Everything here works on Jinja2 template *sources*, once per campaign, so a recipient still costs one render
of one template and the merge-field check reads the layout and the body together. The Jinja2 tags are put
aside while Markdown and the HTML→text conversion run (they would escape the quotes of
`default("there")` or drop a tag inside an attribute) and put back after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sendwell.layoutwords import localize

CONTENT = re.compile(r"\{\{-?\s*content\s*-?\}\}")  # where a layout takes the campaign's body
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_MARK = "SWJINJA{}Z"  # letters and digits only: Markdown and HTML leave it alone, even inside a link target
_MARK_RE = re.compile(r"SWJINJA(\d+)Z")
_BLANK_LINES = re.compile(r"\n{3,}")


class BodyFormat(StrEnum):
    HTML = "html"
    MARKDOWN = "markdown"


@dataclass(frozen=True, slots=True)
class Sources:
    """The Jinja2 sources a campaign sends: HTML and plain text (either may be None, not both)."""

    html: str | None
    text: str | None


def _aside(source: str) -> tuple[str, list[str]]:
    tags: list[str] = []

    def keep(m: re.Match[str]) -> str:
        tags.append(m.group(0))
        return _MARK.format(len(tags) - 1)

    return _TAG.sub(keep, source), tags


def _back(out: str, tags: list[str]) -> str:
    return _MARK_RE.sub(lambda m: tags[int(m.group(1))], out)


def markdown_to_html(source: str) -> str:
    """CommonMark plus tables and strikethrough; raw HTML in the Markdown is kept (the author's own)."""
    from markdown_it import MarkdownIt

    body, tags = _aside(source)
    return _back(MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(body), tags)


def html_to_text(source: str) -> str:
    """Readable plain text of an HTML template (links shown as `[text](url)`), its Jinja2 tags intact."""
    from inscriptis import get_text
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    body, tags = _aside(source)
    if not body.strip():
        return ""
    out = get_text(body, ParserConfig(css=CSS_PROFILES["strict"], display_links=True))
    lines = "\n".join(line.rstrip() for line in out.splitlines()).strip("\n")
    return _back(_BLANK_LINES.sub("\n\n", lines), tags) + "\n"


def body_sources(body: str | None, text: str | None, body_format: str = BodyFormat.HTML) -> Sources:
    """The campaign's own HTML and text: Markdown rendered to both (its given text part wins)."""
    if body is not None and body_format == BodyFormat.MARKDOWN:
        html = markdown_to_html(body)
        return Sources(html, text if text is not None else html_to_text(html))
    return Sources(body, text)


def into(layout: str, content: str) -> str:
    """`content` set where the layout says `{{ content }}` (every place it does)."""
    return CONTENT.sub(lambda _: content, layout)


def compose(
    body: str | None,
    text: str | None,
    body_format: str = BodyFormat.HTML,
    layout_html: str | None = None,
    layout_text: str | None = None,
    language: str = "en",
) -> Sources:
    """What is sent: the body alone, or set into the layout. With a layout, the text part is the layout's text
    (or its HTML as text) around the body's text (or its HTML as text): a layout always sends both parts. The
    layout's marked words are put in `language` first, so the generated text part carries them too."""
    own = body_sources(body, text, body_format)
    if layout_html is None:
        return own
    layout_html = localize(layout_html, language)
    layout_text = localize(layout_text, language) if layout_text is not None else None
    body_html = own.html if own.html is not None else _text_as_html(own.text or "")
    body_text = own.text if own.text is not None else html_to_text(body_html)
    if layout_text is not None:
        text = into(layout_text, body_text.strip("\n"))
    else:  # the body set apart from the generated header and footer by a blank line
        text = _BLANK_LINES.sub("\n\n", into(html_to_text(layout_html), "\n" + body_text.strip("\n") + "\n"))
    return Sources(into(layout_html, body_html), text)


def _text_as_html(text: str) -> str:
    """A plain-text body inside an HTML layout: paragraphs, its characters escaped, its Jinja2 tags intact."""
    import html

    body, tags = _aside(text)
    paras = [p for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    out = "\n".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paras)
    return _back(out, tags)
