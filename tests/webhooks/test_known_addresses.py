"""Only events about addresses sendwell has mailed (a contact or a campaign recipient) can suppress; the rest
are logged and counted. Even a provider's valid signature cannot fill the black list with strangers."""

from __future__ import annotations

import io
import json
import logging

from sqlalchemy import func, select

from sendwell.blacklist import count as blacklisted
from sendwell.bounces import webhooks
from sendwell.bounces.webhooks import store
from sendwell.contacts import import_contacts
from sendwell.db.schema import events

from .conftest import MAILGUN_KEY, configured, listed_as, mailgun_signature, setup_campaign, status_of
from .test_sendgrid import keypair, signed_headers


def _events(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar_one()


def test_signed_events_about_strangers_are_counted_not_blacklisted(engine, caplog):
    _, ids = setup_campaign(engine, ["bob@example.com"])
    import_contacts(engine, io.BytesIO(b"email\ncontact@example.com\n"))
    key, public = keypair()
    batch = [{"event": "spamreport", "email": f"stranger{i}@example.com"} for i in range(50)]
    batch += [
        {"event": "bounce", "email": "bob@example.com", "status": "5.1.1", "reason": "550 5.1.1 no such user"},
        {"event": "unsubscribe", "email": "Contact@Example.com"},
    ]
    raw = json.dumps(batch).encode()
    with caplog.at_level(logging.WARNING):
        outcome = webhooks.handle(engine, configured(sendgrid_key=public), "sendgrid", raw, signed_headers(key, raw))
    assert sorted(a.email for a in outcome.applied) == ["bob@example.com", "contact@example.com"]
    assert len(outcome.ignored) == 50 and blacklisted(engine) == 2 and _events(engine) == 2
    assert listed_as(engine, "stranger7@example.com") is None
    assert listed_as(engine, "bob@example.com") == "hard_bounce"
    assert status_of(engine, ids["bob@example.com"]) == "error"
    assert listed_as(engine, "contact@example.com") == "unsubscribe"
    assert sum("never mailed" in r.getMessage() for r in caplog.records) == 50
    counts = store.counts(engine)["sendgrid"]
    assert (counts.events, counts.ignored, counts.replays) == (2, 50, 0)


def test_a_mailgun_complaint_about_a_stranger_changes_nothing(engine):
    setup_campaign(engine, ["angry@example.com"])
    body = json.dumps(
        {
            "signature": mailgun_signature(),
            "event-data": {"event": "complained", "recipient": "ceo@example.com", "message": {"headers": {}}},
        }
    ).encode()
    outcome = webhooks.handle(engine, configured(mailgun_key=MAILGUN_KEY), "mailgun", body, {})
    assert outcome.applied == [] and outcome.ignored == ["ceo@example.com"]
    assert blacklisted(engine) == 0 and _events(engine) == 0
    assert store.counts(engine)["mailgun"].ignored == 1
