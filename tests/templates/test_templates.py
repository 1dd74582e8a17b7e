"""The templates service on SQLite and PostgreSQL, and a campaign sent in its layout through a real SMTP server:
the recipient gets the layout-wrapped, personalised HTML and a text part, as the preview and the field check said."""

from __future__ import annotations

import pytest

from sendwell import campaigns, preview, templates
from sendwell.errors import NotFound, UserError
from sendwell.sending.engine import send

from factories import add_contacts
from sending.conftest import sender_settings
from sending.smtpd import Script, ScriptedServer

LAYOUT = (
    '<table role="presentation"><tr><td style="color:#111">'
    "<p>Header for {{ first_name | default('friend') }}</p>{{ content }}"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></td></tr></table>'
)
PEOPLE = {"ann@example.org": {"first_name": "Ann", "city": "Oslo"}, "bob@example.org": {"first_name": "Bob"}}


def test_the_two_built_in_layouts_are_there_from_the_start_and_can_be_restored(engine):
    assert [(t.name, t.built_in, t.id) for t in templates.list_templates(engine)] == [
        ("newsletter", True, None),
        ("simple", True, None),
    ]
    for name in templates.BUILT_IN:
        t = templates.get_template(engine, name)
        assert "{{ content }}" in t.html and "{{ unsubscribe_url }}" in t.html and t.text is None
        assert 'role="presentation"' in t.html and "style=" in t.html  # table-based, inline styles
        shown = templates.preview(engine, name)
        assert "The campaign's body goes here" in shown.html and "Unsubscribe" in shown.text
    edited = templates.edit_template(engine, "simple", html=templates.shipped("simple") + "<!-- ours -->")
    assert edited.id is not None and edited.html.endswith("<!-- ours -->")
    assert templates.get_template(engine, "simple").html.endswith("<!-- ours -->")
    templates.delete_template(engine, "simple")  # back to how it shipped
    assert templates.get_template(engine, "simple").html == templates.shipped("simple")
    with pytest.raises(UserError, match="built in and as shipped"):
        templates.delete_template(engine, "simple")
    with pytest.raises(UserError, match="'newsletter' is built in"):
        templates.create_template(engine, "newsletter", "{{ content }}")


def test_create_show_edit_and_delete(engine):
    t = templates.create_template(engine, "brand", LAYOUT)
    assert templates.get_template(engine, "brand") == t and templates.get_template(engine, t.id).name == "brand"
    edited = templates.edit_template(engine, "brand", name="brand2", text="TOP\n{{ content }}\n")
    assert edited.name == "brand2" and edited.text == "TOP\n{{ content }}\n" and edited.html == LAYOUT
    assert templates.edit_template(engine, "brand2", generated_text=True).text is None
    templates.delete_template(engine, "brand2")
    with pytest.raises(NotFound, match="template 'brand2' does not exist"):
        templates.get_template(engine, "brand2")


def test_bad_templates_are_refused_naming_the_field(engine):
    with pytest.raises(UserError, match="has no {{ content }}") as err:
        templates.create_template(engine, "x", "<p>no body slot</p>")
    assert err.value.field == "html"
    with pytest.raises(UserError, match="template error on line 2") as err:
        templates.create_template(engine, "x", "<p>\n{{ content }</p>")
    with pytest.raises(UserError, match="must not be empty"):
        templates.create_template(engine, "  ", LAYOUT)
    templates.create_template(engine, "x", LAYOUT)
    with pytest.raises(UserError, match="template 'x' already exists"):
        templates.create_template(engine, "x", LAYOUT)
    with pytest.raises(UserError, match="has no {{ content }}") as err:
        templates.edit_template(engine, "x", text="plain without the body")
    assert err.value.field == "text"


def test_a_template_in_use_is_not_deleted_and_not_changed_while_sending(engine):
    templates.create_template(engine, "brand", LAYOUT)
    cid = campaigns.create_campaign(
        engine, name="c", subject="s", from_addr="me@example.com", html="<p>x</p>", template="brand"
    )
    assert templates.get_template(engine, "brand").used_by == ("c",)
    with pytest.raises(UserError, match=r"template 'brand' is used by 1 campaign\(s\): 'c'"):
        templates.delete_template(engine, "brand")
    campaigns.start_campaign(engine, cid)
    with pytest.raises(UserError, match="is used by campaign 'c', which is sending"):
        templates.edit_template(engine, "brand", html=LAYOUT + "<p>new</p>")
    templates.edit_template(engine, "brand", name="renamed")  # a new name changes no message
    assert campaigns.get_campaign(engine, cid).template == "renamed"


def test_a_campaign_names_a_template_that_exists(engine):
    with pytest.raises(UserError, match="template 'nope' does not exist") as err:
        campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", html="x", template="nope")
    assert err.value.field == "template"
    cid = campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", html="x")
    campaigns.edit_campaign(engine, cid, template="simple")
    assert campaigns.get_campaign(engine, cid).template == "simple"
    campaigns.edit_campaign(engine, cid, template="")
    assert campaigns.get_campaign(engine, cid).template is None
    with pytest.raises(UserError, match="'rst' is not one of html, markdown"):
        campaigns.edit_campaign(engine, cid, body_format="rst")


def test_the_field_check_and_the_preview_include_the_layout(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    add_contacts(engine, list(PEOPLE), PEOPLE)
    templates.create_template(engine, "brand", LAYOUT + "<p>{{ city }}</p>")
    cid = campaigns.create_campaign(
        engine, name="c", subject="s", from_addr="me@example.com", html="<p>Dear {{ first_name }}</p>", template="brand"
    )
    check = {f.name: f for f in preview.field_check(engine, cid).fields}
    assert set(check) == {"city", "first_name"} and check["city"].unfilled == 1  # Bob has no city
    shown = preview.preview(engine, sender_settings("smtp://127.0.0.1:1"), cid, "ann@example.org")
    assert shown.html is not None and "Header for Ann" in shown.html and "<p>Dear Ann</p>" in shown.html
    assert shown.text is not None and "Header for Ann" in shown.text and "Dear Ann" in shown.text


def test_a_markdown_campaign_in_a_layout_is_delivered_personalised_with_a_text_part(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))
    add_contacts(engine, list(PEOPLE), PEOPLE)
    templates.create_template(engine, "brand", LAYOUT)
    cid = campaigns.create_campaign(
        engine,
        name="launch",
        subject="Hi {{ first_name }}",
        from_addr="Shop <news@shop.example>",
        html='# Big news, {{ first_name | default("you") }}\n\nRead **more** [here](https://shop.example/new).\n',
        body_format="markdown",
        template="brand",
    )
    with ScriptedServer(Script()) as server:
        settings = sender_settings(server.url)
        campaigns.start_campaign(engine, cid)
        send(engine, settings)
    got = {a.rcpt: a.message for a in server.accepted}
    assert sorted(got) == ["ann@example.org", "bob@example.org"]
    msg = got["ann@example.org"]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert '<table role="presentation"><tr><td style="color:#111"><p>Header for Ann</p>' in html
    assert "<h1>Big news, Ann</h1>" in html and "<strong>more</strong>" in html
    assert '<a href="https://shop.example/unsubscribe/' not in html  # no public_url: the unsubscribe is a mailto
    assert msg["List-Unsubscribe"] and "mailto:" in html
    assert "Header for Ann" in text and "Big news, Ann" in text and "[Unsubscribe](mailto:" in text
    assert "<" not in text.replace("<mailto", "")  # plain text, not HTML
    bob = got["bob@example.org"].get_body(("html",)).get_content()
    assert "Header for Bob" in bob and "<h1>Big news, Bob</h1>" in bob
