"""The preview is the message the engine sends, and the merge-field check counts blank fields over the audience
(SQLite file and PostgreSQL, a real aiosmtpd server)."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from sqlalchemy import func, select

from sendwell import blacklist, campaigns, preview, segments
from sendwell.db.schema import contacts
from sendwell.errors import UserError
from sendwell.sending.engine import send

from factories import add_contacts, campaign
from sending.conftest import sender_settings
from sending.smtpd import ScriptedServer

PEOPLE = {
    "ann@example.org": {"first_name": "Ann", "city": "Hanoi"},
    "bob@example.org": {"first_name": "", "city": "Paris"},  # there, but blank
    "cy@example.org": {"last_name": "Young"},  # no first_name, no city
    "dee@example.org": {"first_name": "Dee", "city": ""},
}
SUBJECT = "News for {{ first_name | default('you') }}"
HTML = '<p>Hi {{ first_name | default("there") }}, news for {{ city }}.</p><a href="{{ unsubscribe_url }}">stop</a>'
TEXT = "Hi {{ first_name | default('there', true) }}\nfrom {{ city }} ({{ name }})\nStop: {{ unsubscribe_url }}\n"


@pytest.fixture
def server():
    with ScriptedServer() as srv:
        yield srv


def _without_date_and_id(data: bytes) -> bytes:
    """What is made anew for each message taken out (the Date, the Message-ID, the MIME boundary), only that."""
    boundary = re.search(rb'boundary="([^"]+)"', data).group(1)
    return re.sub(rb"(?m)^(Date|Message-ID): [^\r\n]*\r\n", b"", data).replace(boundary, b"BOUNDARY")


def test_the_preview_is_byte_for_byte_what_the_engine_sends(engine, server, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDWELL_DKIM_DIR", str(tmp_path))  # no key: unsigned, as the engine sends it
    cid = campaign(engine, PEOPLE, subject=SUBJECT, html=HTML, text=TEXT)
    settings = sender_settings(server.url)
    drafts = {a: preview.preview(engine, settings, cid, a) for a in PEOPLE}
    campaigns.start_campaign(engine, cid)
    report = send(engine, settings)
    assert report.counts["sent"] == 4 and len(server.accepted) == 4
    for got in server.accepted:
        shown = preview.preview(engine, settings, cid, got.rcpt)  # started: the recipient's own ledger row
        assert shown.recipient_id > 0
        assert _without_date_and_id(shown.eml) == _without_date_and_id(got.data)
        assert shown.envelope_from == got.mail_from
        sent = got.message
        assert shown.subject == sent["Subject"]
        assert shown.text == sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert shown.html == sent.get_body(("html",)).get_content().replace("\r\n", "\n")
        # Before the start the tokens name no one (recipient 0); everything else is the same text.
        draft = drafts[got.rcpt]
        assert draft.recipient_id == 0 and draft.subject == shown.subject
        token = re.compile(r"unsubscribe(?:\+|%20)[0-9a-z.]+@?")  # to the bounce domain, or in the Subject
        assert token.sub("", draft.text) == token.sub("", shown.text)
    bob = preview.preview(engine, settings, cid, "bob@example.org")
    assert bob.text.startswith("Hi there\nfrom Paris ()")  # default(…, true) covers the blank first_name
    assert "<p>Hi , news" in bob.html  # default(…) alone does not: the field is there, blank


def test_default_recipient_is_the_first_of_the_audience_and_unknown_contacts_are_refused(engine, tmp_path):
    cid = campaign(engine, PEOPLE, subject=SUBJECT, html=HTML, text=TEXT)
    settings = sender_settings("smtp://127.0.0.1:1")
    assert preview.preview(engine, settings, cid).recipient == "ann@example.org"
    with pytest.raises(UserError, match="neither a contact nor a recipient"):
        preview.preview(engine, settings, cid, "stranger@example.org")
    with pytest.raises(UserError, match="not an address") as refused:
        preview.preview(engine, settings, cid, "not an address")
    assert refused.value.field == "contact"  # each front end names it its own way (--contact, the picker)


def test_field_check_counts_missing_and_blank_and_honours_defaults(engine):
    cid = campaign(engine, PEOPLE, subject=SUBJECT, html=HTML, text=TEXT)
    check = preview.field_check(engine, cid)
    got = {f.name: (f.cover, f.missing, f.blank, f.unfilled) for f in check.fields}
    assert check.recipients == 4
    assert got == {
        # subject default('you') and html default("there") cover a missing one; the text's default(…, true) is
        # not the least covered use, so bob's blank value still shows blank in the html
        "first_name": ("missing", 1, 1, 1),
        "city": ("none", 1, 1, 2),  # cy has none, dee has ""
        "name": ("none", 0, 1, 1),  # built from name or first/last name: only bob has neither
    }
    assert [f.name for f in check.unfilled] == ["city", "first_name", "name"]


def test_field_check_follows_the_audience_rules(engine):
    """Excluded segments, the black list and skipped verdicts are not counted: the same rules as the ledger."""
    cid = campaign(engine, PEOPLE, subject=SUBJECT, html=HTML, text=TEXT)
    segments.create(engine, "no-cy")
    segments.add(engine, "no-cy", ["cy@example.org"])
    campaigns.edit_campaign(engine, cid, exclude=["no-cy"])
    blacklist.add(engine, ["bob@example.org"])
    with engine.begin() as conn:
        conn.execute(contacts.update().where(contacts.c.email == "dee@example.org").values(verdict="invalid"))
    check = preview.field_check(engine, cid)
    assert check.recipients == 1  # ann only
    assert all(f.unfilled == 0 for f in check.fields)
    assert preview.audience_sample(engine, cid) == ["ann@example.org"]
    # once started, the ledger is the audience
    queued = campaigns.start_campaign(engine, cid)
    assert queued == 2  # ann queued, dee skipped as invalid
    assert preview.field_check(engine, cid).recipients == 1


def test_field_check_counts_a_large_audience_in_sql(engine):
    """20,000 contacts: one query, the counts exact."""
    people = {f"p{i:05d}@example.org": ({"first_name": f"P{i}"} if i % 4 else {}) for i in range(20_000)}
    add_contacts(engine, list(people), people)
    cid = campaigns.create_campaign(
        engine, name="big", subject="Hi {{ first_name }}", from_addr="a@shop.example", text="x"
    )
    check = preview.field_check(engine, cid)
    assert check.recipients == 20_000
    assert check.fields[0].missing == 5_000 and check.fields[0].unfilled == 5_000
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contacts)).scalar() == 20_000


def test_parts_are_what_a_mail_reader_shows(engine):
    cid = campaign(engine, PEOPLE, subject=SUBJECT, html=HTML, text=TEXT)
    shown = preview.preview(engine, sender_settings("smtp://127.0.0.1:1"), cid, "ann@example.org")
    msg = email.message_from_bytes(shown.eml, policy=policy.default)
    assert msg["To"] == "Ann <ann@example.org>" and msg["From"] == "Shop <news@shop.example>"
    assert shown.subject == "News for Ann"
    # No bounce domain set up: the unsubscribe mailto goes to the sender, the token in its Subject.
    assert shown.text.startswith("Hi Ann\nfrom Hanoi (Ann)\nStop: mailto:news@shop.example?subject=unsubscribe%20")
    assert shown.html.startswith("<p>Hi Ann, news for Hanoi.</p>")
