"""A report without our VERP token finds its recipient by the Message-ID it quotes: the ids in our Message-IDs
name the ledger row, and the whole Message-ID must match it (the ledger keeps no index of Message-IDs)."""

from sqlalchemy import inspect, select

from sendwell import events
from sendwell.bounces import ingest
from sendwell.config import Settings
from sendwell.db.schema import recipients
from sendwell.demo.server import Behaviour, SimulatedMX
from sendwell.sending import msgid

from factories import two_sent_campaigns


def status(engine, rid: int) -> str:
    with engine.connect() as conn:
        return conn.execute(select(recipients.c.status).where(recipients.c.id == rid)).scalar_one()


def test_a_bounce_quoting_an_older_message_id_is_that_campaigns(engine):
    (_, rid1, mid1), (_, rid2, _) = two_sent_campaigns(engine, "x@example.com")
    original = f"Message-ID: {mid1}\r\nTo: x@example.com\r\nSubject: s\r\n\r\nbody".encode()
    raw = SimulatedMX(Behaviour())._dsn("someone-else@example.org", "x@example.com", original)
    outcome = ingest.process(engine, Settings(), raw, "test")
    assert outcome.matched
    # by the address alone, the most recent send (the second campaign) would have been blamed
    assert (status(engine, rid1), status(engine, rid2)) == ("error", "sent")


def test_only_the_whole_message_id_of_a_row_finds_it(engine):
    (c1, rid1, mid1), (c2, rid2, mid2) = two_sent_campaigns(engine, "x@example.com")
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
        assert found(mid1.strip("<>")) is None  # as stored, with its brackets, or not at all
        assert found(mid1[:-1]) is None and found(mid1 + ">") is None
        assert found("<CAF1234.5678@mail.example.org>") is None  # not one of ours
        assert found("<9999999999999999999.1.ab@x>") is None  # past a 64-bit id: not ours, and no error


def test_message_ids_written_before_the_zero_padding_still_find_their_row(engine):
    (_, rid1, old), _ = two_sent_campaigns(
        engine, "x@example.com", message_id=lambda cid, rid: f"<{cid}.{rid}.a1b2c3d4e5f6@example.com>"
    )
    with engine.connect() as conn:
        assert events.find_recipient(conn, "", message_id=old).id == rid1


def test_the_ledger_keeps_no_message_id_index(engine):
    with engine.connect() as conn:
        indexed = {tuple(ix["column_names"]) for ix in inspect(conn).get_indexes("recipients")}
    assert ("message_id",) not in indexed and ("campaign_id", "status", "next_attempt_at") in indexed


def test_message_ids_name_their_row_and_sort_in_sending_order():
    ids = [msgid.new(7, rid, "news.example") for rid in (9, 10, 123456)]
    assert [msgid.row_of(m) for m in ids] == [(7, 9), (7, 10), (7, 123456)]
    assert ids == sorted(ids) and len({m.split(".")[2] for m in ids}) == 3
