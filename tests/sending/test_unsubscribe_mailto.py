"""Without public_url the unsubscribe link is a mailto: an address the installation reads. With a bounce domain
that receives mail, unsubscribe+<token>@ it; while the bounce domain is the unreachable default, the campaign's
Reply-To (or From) with the token in the Subject, which the bounce reader recognises too; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict, replace
from email import message_from_bytes, policy
from urllib.parse import unquote, urlparse

from sendwell import blacklist, campaigns
from sendwell.bounces import ingest
from sendwell.config import SendingSettings, Settings
from sendwell.keys import app_secret
from sendwell.preview import links_of
from sendwell.sending import verp
from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign

from factories import sent_campaign


def _mailto(engine, cid: int, rid: int, links: Links) -> str:
    content = CampaignContent.of(asdict(campaigns.get_campaign(engine, cid)))
    data = PreparedCampaign(content, links).render(Personal(rid, "bye@example.com", {})).data
    header = str(message_from_bytes(data, policy=policy.default)["List-Unsubscribe"])
    assert header.count("<") == 1  # no https link without public_url
    return header.strip("<>")


def test_without_a_bounce_domain_the_mailto_goes_to_the_reply_to_and_is_processed(engine):
    settings = replace(Settings(), sending=replace(SendingSettings(), secret="k"))
    cid, ids = sent_campaign(engine, ["bye@example.com"], from_addr="News <news@shop.example>")
    mailto = _mailto(engine, cid, ids["bye@example.com"], links_of(engine, settings))
    url = urlparse(mailto)
    assert url.scheme == "mailto" and url.path == "news@shop.example"  # reachable: the sender's own mailbox
    assert "localdomain" not in mailto
    subject = unquote(url.query.removeprefix("subject="))
    # The person's mail program sends it; the mailbox is handed to the bounce reader.
    raw = f"From: bye@example.com\r\nTo: news@shop.example\r\nSubject: Re: {subject}\r\n\r\nplease\r\n".encode()
    outcome = ingest.process(engine, settings, raw, "test")
    assert outcome.kind == "unsubscribe" and outcome.matched
    assert blacklist.show(engine, "bye@example.com").entry.reason == "unsubscribe"
    forged = raw.replace(subject[-4:].encode(), b"0000")
    assert verp.unsubscribe_in_subject(app_secret(engine, settings), forged.decode().split("Subject: ")[1]) is None


def test_with_a_bounce_domain_the_mailto_goes_to_it(engine):
    settings = replace(Settings(), sending=replace(SendingSettings(), secret="k", bounce_domain="bounces.shop.example"))
    cid, ids = sent_campaign(engine, ["bye@example.com"])
    mailto = _mailto(engine, cid, ids["bye@example.com"], links_of(engine, settings))
    assert mailto.startswith(f"mailto:{verp.UNSUBSCRIBE_PREFIX}{cid}.") and "@bounces.shop.example?" in mailto


def test_which_bounce_domains_can_receive_mail():
    assert not verp.reachable_domain("bounces.localhost.localdomain")
    assert not verp.reachable_domain("localhost")
    assert not verp.reachable_domain("bounces.corp.internal")
    assert verp.reachable_domain("bounces.shop.example")
    assert verp.reachable_domain("bounces.example.com")
