"""Putting a campaign's sources together (pure): Markdown with merge fields, a body inside a layout, and the
plain-text part generated from the HTML with its Jinja2 tags intact."""

from __future__ import annotations

import jinja2

from sendwell import compose, mergefields
from sendwell.compose import BodyFormat

LAYOUT = (
    '<table><tr><td><h1>News</h1>{{ content }}<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></td></tr></table>'
)


def _render(source: str, **ctx) -> str:
    return jinja2.Environment(autoescape=True).from_string(source).render(ctx)


def test_markdown_keeps_merge_fields_with_quotes_and_in_link_targets():
    md = '# Hi {{ first_name | default("there") }}\n\nRead [the post]({{ post_url }}) *today*.\n'
    html = compose.markdown_to_html(md)
    assert '<h1>Hi {{ first_name | default("there") }}</h1>' in html
    assert '<a href="{{ post_url }}">the post</a>' in html and "<em>today</em>" in html
    assert _render(html, post_url="https://example.com/p?a=1&b=2") == (
        '<h1>Hi there</h1>\n<p>Read <a href="https://example.com/p?a=1&amp;b=2">the post</a> <em>today</em>.</p>'
    )


def test_a_markdown_body_gets_a_text_part_too():
    sources = compose.body_sources("Hello **{{ name }}**\n\n- one\n- two\n", None, BodyFormat.MARKDOWN)
    assert sources.html is not None and "<strong>{{ name }}</strong>" in sources.html
    assert sources.text is not None and "Hello {{ name }}" in sources.text and "one" in sources.text


def test_the_body_goes_where_the_layout_says_content_and_the_text_is_generated():
    sources = compose.compose("<p>Dear {{ first_name }},</p>", None, BodyFormat.HTML, LAYOUT, None)
    assert sources.html == LAYOUT.replace("{{ content }}", "<p>Dear {{ first_name }},</p>")
    assert sources.text is not None
    text = _render(sources.text, first_name="Ann", unsubscribe_url="https://x.example/u/1")
    assert "News" in text and "Dear Ann," in text and "[Unsubscribe](https://x.example/u/1)" in text
    assert text.index("News") < text.index("Dear Ann") < text.index("Unsubscribe")


def test_a_given_text_part_goes_into_the_layouts_text():
    sources = compose.compose("<p>x</p>", "Plain {{ first_name }}", BodyFormat.HTML, LAYOUT, "Top\n{{ content }}\nBye")
    assert sources.text == "Top\nPlain {{ first_name }}\nBye"


def test_a_text_only_body_in_a_layout_becomes_escaped_paragraphs():
    sources = compose.compose(None, "a < b\n\nHi {{ name }}", BodyFormat.HTML, LAYOUT, None)
    assert sources.html is not None and "<p>a &lt; b</p>\n<p>Hi {{ name }}</p>" in sources.html


def test_without_a_layout_an_html_body_is_sent_as_given():
    assert compose.compose("<p>x</p>", None) == compose.Sources("<p>x</p>", None)


def test_the_field_check_sees_the_layouts_fields_and_the_bodys():
    sources = compose.compose("<p>{{ first_name }}</p>", None, BodyFormat.HTML, LAYOUT + "{{ city }}", None)
    used = {u.name for u in mergefields.fields_used([sources.html, sources.text])}
    assert used == {"first_name", "city"}
