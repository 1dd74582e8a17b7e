"""HTML rewriting: links through /t/c/, one pixel before </body>, everything else untouched."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from sendwell.tracking import tokens
from sendwell.tracking.rewrite import campaign_links, rewrite_html

SECRET = "s"
BASE = "https://t.example"


def rewrite(html: str, reads: bool = True, clicks: bool = True, rid: int = 9) -> str:
    return rewrite_html(html, base_url=BASE, campaign_id=4, recipient_id=rid, secret=SECRET, reads=reads, clicks=clicks)


class Hrefs(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.imgs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("a", "area") and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))


KEPT = [
    "mailto:help@shop.example",
    "#top",
    "/relative",
    "tel:+3312345678",
    "https://x.example/unsubscribe/tok",
    "https://list.example/Unsubscribe?u=1",
    "ftp://files.example/a",
    "javascript:alert(1)",
]
DOC = (
    "<html><body>\n"
    + "".join(f'<p><a href="{h}">kept</a></p>\n' for h in KEPT)
    + '<p><a href="https://shop.example/a?x=1&amp;y=2" class="btn" title="A &quot;deal&quot;">A</a>\n'
    + "<A HREF='HTTP://Shop.Example/B'>B</A> <area shape=rect href=https://shop.example/c />\n"
    + '<a data-sendwell-notrack href="https://shop.example/d">not tracked</a>\n'
    + '<!-- <a href="https://shop.example/in-comment">x</a> -->\n'
    + "<script>var s = \"<a href='https://shop.example/in-script'>\";</script>\n"
    + "</body></html>\n"
)


def test_http_links_are_rewritten_and_the_others_kept():
    out = rewrite(DOC)
    hrefs = Hrefs(out).hrefs
    tracked = [h for h in hrefs if h.startswith(BASE + "/t/c/")]
    assert len(tracked) == 3
    for h in KEPT + ["https://shop.example/d"]:
        assert h in hrefs  # mailto, anchors, relative, unsubscribe, other schemes, opted out
    assert "https://shop.example/in-comment" in out and "https://shop.example/in-script" in out
    assert 'class="btn" title="A &quot;deal&quot;"' in out


def test_click_tokens_name_the_links_campaign_links_lists():
    out = rewrite(DOC)
    links = campaign_links(DOC)
    assert links == ["https://shop.example/a?x=1&y=2", "HTTP://Shop.Example/B", "https://shop.example/c"]
    got = [tokens.decode_click(SECRET, h.rsplit("/", 1)[1]) for h in Hrefs(out).hrefs if "/t/c/" in h]
    assert got == [(4, 9, 0), (4, 9, 1), (4, 9, 2)]


def test_one_pixel_just_before_the_closing_body():
    out = rewrite(DOC)
    imgs = Hrefs(out).imgs
    assert len(imgs) == 1 and tokens.decode_open(SECRET, imgs[0].split("/t/o/")[1]) == (4, 9)
    assert re.search(r'<img src="[^"]+/t/o/[^"]+"[^>]*width="1" height="1" alt=""[^>]*></body>', out)
    assert out.count("/t/o/") == 1


def test_pixel_goes_at_the_end_without_a_body_and_before_an_uppercase_one():
    assert rewrite("<p>short</p>", clicks=False).startswith('<p>short</p><img src="' + BASE + "/t/o/")
    assert re.search(r"/t/o/[^\"]+\"[^>]*></BODY></HTML>$", rewrite("<HTML><BODY>x</BODY></HTML>"))


def test_without_tracking_the_html_is_returned_unchanged():
    assert rewrite(DOC, reads=False, clicks=False) is DOC
    assert rewrite_html(DOC, base_url="", campaign_id=1, recipient_id=1, secret=SECRET, reads=True, clicks=True) is DOC


def test_reads_only_leaves_links_and_clicks_only_adds_no_pixel():
    assert "/t/c/" not in rewrite(DOC, clicks=False) and "/t/o/" in rewrite(DOC, clicks=False)
    assert "/t/o/" not in rewrite(DOC, reads=False) and "/t/c/" in rewrite(DOC, reads=False)


def test_each_recipient_gets_their_own_tokens_from_the_cached_plan():
    a, b = rewrite(DOC, rid=1), rewrite(DOC, rid=2)
    assert a != b
    assert re.sub(r"/t/[oc]/[A-Za-z0-9_-]+", "", a) == re.sub(r"/t/[oc]/[A-Za-z0-9_-]+", "", b)


def test_bytes_outside_rewritten_tags_are_kept():
    out = rewrite(DOC, reads=False)
    # Put the original href values back where the tracking URLs are: the rest is the input byte for byte.
    originals = iter(['"https://shop.example/a?x=1&amp;y=2"', "'HTTP://Shop.Example/B'", "https://shop.example/c"])
    assert re.sub(r'"[^"]*/t/c/[^"]*"', lambda m: next(originals), out) == DOC


def test_a_link_with_a_line_break_in_its_url_is_not_tracked():
    assert campaign_links('<a href="https://a.example/x\ny">x</a>') == []


@given(
    st.lists(
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "text ",
                "é€ ",
                "\n",
                "\r\n",
                "<br/>",
                "<!-- c -->",
                '<a href="https://s.example/p">l</a>',
                '<a href="mailto:a@b.c">m</a>',
                "<body>",
                "</body>",
                "<img src=x>",
                "&amp; ",
                "<",
            ]
        ),
        max_size=30,
    )
)
def test_rewriting_only_touches_link_tags_and_adds_one_pixel(parts):
    html = "".join(parts)
    out = rewrite(html)
    assert out.count("/t/o/") == 1
    assert out.count("/t/c/") == len(campaign_links(html))
    pixel = re.compile(r'<img src="' + re.escape(BASE) + r'/t/o/[^"]+"[^>]*>')
    restored = re.sub(
        r'<a href="' + re.escape(BASE) + r'/t/c/[^"]+">', '<a href="https://s.example/p">', pixel.sub("", out)
    )
    assert restored == html


def render(template: str, rid: int = 9, **fields) -> str:
    import jinja2

    from sendwell.tracking.rewrite import tracking_context

    ctx = {**fields, **tracking_context(secret=SECRET, campaign_id=4, recipient_id=rid)}
    return jinja2.Environment(autoescape=True, keep_trailing_newline=True).from_string(template).render(ctx)


def tracked(template: str) -> str:
    from sendwell.tracking.rewrite import tracked_template

    return tracked_template(template, base_url=BASE, reads=True, clicks=True)


def test_a_template_without_merge_fields_renders_as_rewrite_html_rewrites():
    assert render(tracked(DOC)) == rewrite(DOC)


def test_template_links_keep_their_merge_fields_and_other_template_code():
    template = (
        '<body><a title="{{ name|default(\'you\') }}" href="https://s.example/p?id={{ uid }}&amp;x=1">p</a>'
        '{% if vip %}<a href="https://s.example/vip">vip</a>{% endif %}</body>'
    )
    assert campaign_links(template) == ["https://s.example/p?id={{ uid }}&x=1", "https://s.example/vip"]
    out = render(tracked(template), uid="u7", vip=True)
    assert """title="you" href="https://t.example/t/c/""" in out
    got = [tokens.decode_click(SECRET, h.rsplit("/", 1)[1]) for h in Hrefs(out).hrefs]
    assert got == [(4, 9, 0), (4, 9, 1)]  # index 1 is the vip link whether or not it is rendered
    assert "/t/c/" in render(tracked(template), vip=False) and len(Hrefs(render(tracked(template))).hrefs) == 1


def test_template_links_whose_target_is_not_written_out_stay_untracked():
    template = (
        '<body><a href="{{ url }}">a</a> <a href="https://{{ host }}/x">b</a> '
        '<a href="https://s.example{{ path }}">c</a> '
        '{% for p in products %}<a href="https://s.example/{{ p }}">d</a>{% endfor %} '
        '<a {% if vip %}class="vip"{% endif %} href="https://s.example/e">e</a> '
        '{% raw %}<a href="https://s.example/raw">f</a>{% endraw %} '
        '<a href="https://s.example/g">g</a></body>'
    )
    assert campaign_links(template) == ["https://s.example/g"]
    assert tracked(template).count("sendwell_click(") == 1


def test_template_code_with_quotes_inside_a_link_is_left_alone():
    template = '<body><a href="https://s.example/{{ a|replace("x", "y") }}">q</a></body>'
    assert campaign_links(template) == []
    assert "{{ a|replace(" in tracked(template)
