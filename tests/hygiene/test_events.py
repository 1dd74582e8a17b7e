"""Events on SQLite and PostgreSQL: a late hard bounce marks the recipient and blacklists; replays are no-ops."""

from datetime import timedelta

from sqlalchemy import select, update

from sendwell import blacklist, campaigns, events, segments
from sendwell.config import Settings
from sendwell.db.engine import utcnow
from sendwell.db.schema import events as events_table
from sendwell.db.schema import recipients


def sent_campaign(engine, addrs):
    segments.create(engine, "s")
    segments.add(engine, "s", addrs)
    cid = campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", text="t", include=["s"])
    campaigns.start_campaign(engine, cid)
    with engine.begin() as conn:
        conn.execute(update(recipients).values(status="sent", sent_at=utcnow() - timedelta(hours=1)))
        rows = conn.execute(select(recipients.c.id, recipients.c.email)).all()
    return cid, {r.email: r.id for r in rows}


def status_of(engine, rid):
    with engine.connect() as conn:
        return conn.execute(select(recipients.c.status, recipients.c.kind).where(recipients.c.id == rid)).one()


def test_hard_bounce_marks_error_and_blacklists_with_evidence(engine):
    cid, ids = sent_campaign(engine, ["dead@example.com", "ok@example.com"])
    raw = b"the bounce message"
    a = events.record_bounce(
        engine,
        Settings(),
        email="Dead@Example.com",
        reason="userunknown",
        status_code="5.1.1",
        hard=True,
        detail="550 5.1.1 no such user",
        raw=raw,
        source="test",
        campaign_id=cid,
        recipient_id=ids["dead@example.com"],
    )
    assert a.status == "error" and a.blacklisted == "hard_bounce"
    assert tuple(status_of(engine, ids["dead@example.com"])) == ("error", "recipient")
    shown = blacklist.show(engine, "dead@example.com")
    assert shown.entry.reason == "hard_bounce" and shown.entry.source == f"campaign:{cid}"
    assert shown.events[0].raw == "the bounce message"
    again = events.record_bounce(
        engine,
        Settings(),
        email="dead@example.com",
        reason="userunknown",
        status_code="5.1.1",
        hard=True,
        detail="",
        raw=raw,
        source="test",
    )
    assert again.duplicate
    with engine.connect() as conn:
        assert len(conn.execute(select(events_table.c.id)).all()) == 1


def test_spam_rejection_fails_the_recipient_but_never_blacklists(engine):
    cid, ids = sent_campaign(engine, ["a@example.com"])
    a = events.record_bounce(
        engine,
        Settings(),
        email="a@example.com",
        reason="spamdetected",
        status_code="5.7.1",
        hard=False,
        detail="550 5.7.1 spam",
        raw=b"x",
        source="test",
    )
    assert a.recipient_id == ids["a@example.com"]  # matched by address and recent send
    assert tuple(status_of(engine, ids["a@example.com"])) == ("failed", "policy")
    assert not blacklist.is_blacklisted(engine, "a@example.com")


def test_unmatched_bounce_is_stored_not_lost(engine):
    a = events.record_bounce(
        engine,
        Settings(),
        email="stranger@example.com",
        reason="userunknown",
        status_code="5.1.1",
        hard=True,
        detail="",
        raw=b"y",
        source="test",
    )
    assert a.recipient_id is None and a.event_id is not None
    assert blacklist.is_blacklisted(engine, "stranger@example.com")


def test_soft_bounces_blacklist_past_the_threshold(engine):
    settings = Settings()
    now = utcnow()
    for day in range(6):
        a = events.record_bounce(
            engine,
            settings,
            email="full@example.com",
            reason="mailboxfull",
            status_code="4.2.2",
            hard=False,
            detail="",
            raw=b"b%d" % day,
            source="test",
            at=now + timedelta(days=day),
        )
    assert a.blacklisted == "soft_bounce"
    assert blacklist.show(engine, "full@example.com").entry.reason == "soft_bounce"


def test_complaint_and_unsubscribe_blacklist(engine):
    cid, ids = sent_campaign(engine, ["angry@example.com", "bye@example.com"])
    a = events.record_suppression(engine, kind="complaint", email="angry@example.com", raw=b"arf", source="arf")
    assert a.blacklisted == "complaint" and a.campaign_id == cid
    b = events.record_suppression(
        engine,
        kind="unsubscribe",
        email="",
        raw=b"post",
        source="one-click",
        campaign_id=cid,
        recipient_id=ids["bye@example.com"],
    )
    assert b.blacklisted == "unsubscribe" and b.email == "bye@example.com"


def test_late_hard_bounce_moves_a_send_to_the_address_errors_of_its_day(engine):
    from sendwell.db.schema import daily_usage
    from sendwell.sending.limit import day_of

    settings = Settings()
    cid, ids = sent_campaign(engine, ["late@example.com"])
    with engine.begin() as conn:
        sent_at = conn.execute(select(recipients.c.sent_at)).scalar_one()
        from sendwell.db.engine import as_utc

        day = day_of(as_utc(sent_at), settings.limit)
        conn.execute(daily_usage.insert().values(day=day, limit=1000, sent=10, address_errors=0, complaints=0))
    events.record_bounce(
        engine,
        settings,
        email="late@example.com",
        reason="userunknown",
        status_code="5.1.1",
        hard=True,
        detail="550 5.1.1 unknown",
        raw=b"z",
        source="test",
        campaign_id=cid,
        recipient_id=ids["late@example.com"],
    )
    with engine.connect() as conn:
        r = conn.execute(select(daily_usage).where(daily_usage.c.day == day)).one()
        code = conn.execute(select(recipients.c.smtp_code)).scalar_one()
    assert (r.sent, r.address_errors) == (9, 1) and code == 550
