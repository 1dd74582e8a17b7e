"""A report without our VERP token finds its recipient by the Message-ID it quotes: the ids in our Message-IDs
name the ledger row, and the whole Message-ID must match it (the ledger keeps no index of Message-IDs)."""

from datetime import timedelta

from sqlalchemy import inspect, select, update

from sendwell import campaigns, events, segments
from sendwell.bounces import ingest
from sendwell.config import Settings
from sendwell.db.engine import utcnow
from sendwell.db.schema import recipients
from sendwell.demo.server import Behaviour, SimulatedMX
from sendwell.sending import msgid


def two_campaigns_to(engine, address: str) -> dict[int, tuple[int, str]]:
    """Two sent campaigns to `address`, the second sent later; {campaign: (recipient id, Message-ID)}."""
    segments.create(engine, "s")
    segments.add(engine, "s", [address])
    sent = {}
    for minutes_ago, name in ((60, "first"), (5, "second")):
        cid = campaigns.create_campaign(
            engine, name=name, subject="s", from_addr="me@example.com", text="t", include=["s"]
        )
        campaigns.start_campaign(engine, cid)
        with engine.begin() as conn:
            rid = conn.execute(select(recipients.c.id).where(recipients.c.campaign_id == cid)).scalar_one()
            mid = msgid.new(cid, rid, "example.com")
            conn.execute(
                update(recipients)
                .where(recipients.c.id == rid)
                .values(status="sent", message_id=mid, sent_at=utcnow() - timedelta(minutes=minutes_ago))
            )
        sent[cid] = (rid, mid)
    return sent


def status(engine, rid: int) -> str:
    with engine.connect() as conn:
        return conn.execute(select(recipients.c.status).where(recipients.c.id == rid)).scalar_one()


def test_a_bounce_quoting_an_older_message_id_is_that_campaigns(engine):
    (first, (rid1, mid1)), (second, (rid2, _)) = two_campaigns_to(engine, "x@example.com").items()
    original = f"Message-ID: {mid1}\r\nTo: x@example.com\r\nSubject: s\r\n\r\nbody".encode()
    raw = SimulatedMX(Behaviour())._dsn("someone-else@example.org", "x@example.com", original)
    outcome = ingest.process(engine, Settings(), raw, "test")
    assert outcome.matched
    # by the address alone, the most recent send (the second campaign) would have been blamed
    assert (status(engine, rid1), status(engine, rid2)) == ("error", "sent")


def test_only_the_whole_message_id_of_a_row_finds_it(engine):
    sent = two_campaigns_to(engine, "x@example.com")
    (c1, (rid1, mid1)), (c2, (rid2, mid2)) = sent.items()
    random1 = mid1.split(".")[2].split("@")[0]
    with engine.connect() as conn:

        def found(message_id: str):
            row = events.find_recipient(conn, "", message_id=message_id)
            return row and row.id

        assert found(mid1) == rid1 and found(mid2) == rid2
        assert found(f"  {mid1}\n") == rid1  # as a header value may come
        assert found(mid1.replace(random1, "0" * len(random1))) is None  # another attempt's, or a guess
        assert found(f"<{c2}.{rid2:010d}.{random1}@example.com>") is None  # one row's ids, another's random part
        assert found(f"<{c2}.{rid1:010d}.{random1}@example.com>") is None  # the row is not in that campaign
        assert found("<CAF1234.5678@mail.example.org>") is None  # not one of ours
        assert found("<9999999999999999999.1.ab@x>") is None  # past a 64-bit id: not ours, and no error


def test_the_ledger_keeps_no_message_id_index(engine):
    with engine.connect() as conn:
        indexed = {tuple(ix["column_names"]) for ix in inspect(conn).get_indexes("recipients")}
    assert ("message_id",) not in indexed and ("campaign_id", "status", "next_attempt_at") in indexed


def test_message_ids_name_their_row_and_sort_in_sending_order():
    ids = [msgid.new(7, rid, "news.example") for rid in (9, 10, 123456)]
    assert [msgid.row_of(m) for m in ids] == [(7, 9), (7, 10), (7, 123456)]
    assert ids == sorted(ids) and len({m.split(".")[2] for m in ids}) == 3
