"""Messages: the prepared fast path equals the plain `email` construction, encodes names, resists injection."""

import email
from email import policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sendwell.sending import verp
from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign, build_message

LINKS = Links("test-secret", "bounces.example")
HTML = "<h1>Hello {{ first_name }}</h1>\n<p>{{ city }} &amp; more</p>\n" + "<p>lorem ipsum dolor sit amet</p>\n" * 200
TEXT = "Hello {{ first_name }}!\n\nNews from {{ city }}.\n" + "lorem ipsum dolor sit amet\n" * 200


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def content(**kw) -> CampaignContent:
    base = {
        "id": 9,
        "subject": "Hi {{ first_name }}, news",
        "from_addr": "Shop <news@shop.example>",
        "html": HTML,
        "text": TEXT,
    }
    return CampaignContent(**(base | kw))


def same_message(fast: email.message.EmailMessage, slow: email.message.EmailMessage) -> None:
    for header in ("From", "To", "Subject", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "Reply-To"):
        assert fast.get(header) == slow.get(header), header
    assert fast.get_content_type() == slow.get_content_type()
    for kind in ("plain", "html"):
        a, b = fast.get_body((kind,)), slow.get_body((kind,))
        assert (a is None) == (b is None)
        if a is not None:
            assert a.get_content().replace("\r\n", "\n") == b.get_content().replace("\r\n", "\n")


@pytest.mark.parametrize("parts", [("html", "text"), ("html",), ("text",)])
def test_prepared_bytes_match_the_email_package(parts):
    c = content(html=HTML if "html" in parts else None, text=TEXT if "text" in parts else None)
    prepared = PreparedCampaign(c, LINKS)
    p = Personal(5, "ann@example.com", {"first_name": "Ann", "city": "Köln"})
    fast = prepared.render(p)
    assert b"\r\n" in fast.data and b"\n" not in fast.data.replace(b"\r\n", b"")
    msg = parse(fast.data)
    same_message(msg, build_message(c, p, LINKS, fast.message_id))
    assert msg.get_content_type() == (
        "multipart/alternative" if len(parts) == 2 else f"text/{parts[0]}".replace("text/text", "text/plain")
    )


def test_non_ascii_names_and_subjects_are_encoded():
    prepared = PreparedCampaign(content(subject="Grüße, {{ first_name }} — 日本"), LINKS)
    r = prepared.render(Personal(1, "jorg@example.com", {"first_name": "Jörg", "city": "Wien"}))
    raw_head = r.data.split(b"\r\n\r\n", 1)[0]
    assert raw_head.isascii()
    msg = parse(r.data)
    assert msg["Subject"] == "Grüße, Jörg — 日本"
    assert msg["To"].addresses[0].display_name == "Jörg"


def test_html_merge_fields_are_escaped_text_ones_are_not():
    prepared = PreparedCampaign(content(), LINKS)
    msg = parse(prepared.render(Personal(1, "a@example.com", {"first_name": "<b>A&B</b>"})).data)
    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in msg.get_body(("html",)).get_content()
    assert "Hello <b>A&B</b>!" in msg.get_body(("plain",)).get_content()


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \r\n:\x00\tBcc:evil@x.com"), max_size=40))
def test_merge_fields_cannot_inject_headers(value):
    prepared = PreparedCampaign(content(subject="Hi {{ first_name }}"), LINKS)
    r = prepared.render(Personal(1, "a@example.com", {"first_name": value, "name": value}))
    head = r.data.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n") if line and line[:1] not in (b" ", b"\t")]
    assert b"Bcc" not in names and len(names) == len(set(names))
    msg = parse(r.data)
    assert "\n" not in str(msg["Subject"]) and "\r" not in str(msg["Subject"])


def test_each_recipient_gets_a_unique_message_id_and_a_signed_return_path():
    prepared = PreparedCampaign(content(), LINKS)
    rendered = [prepared.render(Personal(i, f"r{i}@example.com", {})) for i in range(1, 200)]
    assert len({r.message_id for r in rendered}) == len(rendered)
    for i, r in enumerate(rendered, start=1):
        assert verp.decode_address(LINKS.secret, r.envelope_from) == (9, i)
        assert r.envelope_from.endswith("@bounces.example")


def test_list_unsubscribe_mailto_and_one_click():
    plain = parse(PreparedCampaign(content(), LINKS).render(Personal(3, "a@example.com", {})).data)
    assert plain["List-Unsubscribe"].startswith("<mailto:unsubscribe+9.3.")
    assert plain["List-Unsubscribe-Post"] is None
    links = Links("test-secret", "bounces.example", "https://mail.example/")
    msg = parse(
        PreparedCampaign(content(text="{{ unsubscribe_url }}", html=None), links)
        .render(Personal(3, "a@example.com", {}))
        .data
    )
    url = msg["List-Unsubscribe"].split(">")[0].lstrip("<")
    assert url.startswith("https://mail.example/unsubscribe/9.3.")
    assert verp.decode_unsubscribe("test-secret", url.rsplit("/", 1)[1]) == (9, 3)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content().strip() == url


def test_long_names_are_folded_and_encoded_word_lookalikes_stay_text():
    prepared = PreparedCampaign(content(subject="Hi {{ first_name }}"), LINKS)
    r = prepared.render(Personal(1, "a@example.com", {"first_name": "=?utf-8?q?=0D=0ABcc:_x?="}, name="N" * 3000))
    assert max(len(line) for line in r.data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")) <= 998
    msg = parse(r.data)
    assert str(msg["Subject"]) == "Hi =?utf-8?q?=0D=0ABcc:_x?=" and msg["Bcc"] is None
    # (Python's parser keeps a space between the folded encoded-words of a phrase; RFC 2047 drops it)
    assert msg["To"].addresses[0].display_name.replace(" ", "") == "N" * 3000


def test_date_header_has_a_numeric_zone_not_gmt():
    data = PreparedCampaign(content(), LINKS).render(Personal(1, "a@example.com", {})).data
    date = parse(data)["Date"]
    assert str(date).endswith(" +0000") and "GMT" not in str(date), date
    assert date.datetime.utcoffset().total_seconds() == 0
