"""The ledger's campaign key keeps its rules on both databases; on PostgreSQL triggers keep it (migration 0016)."""

from __future__ import annotations

import io
import threading
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from sendwell import blacklist, campaigns, contacts, segments


def _campaign(engine: Engine, name: str = "c", **options) -> int:
    return campaigns.create_campaign(engine, name=name, subject="s", from_addr="me@example.com", text="t", **options)


def _add_recipients(conn, campaign_id: int, *emails: str) -> None:
    conn.execute(
        text("INSERT INTO recipients (campaign_id, email, status, attempts) VALUES (:c, :e, 'queued', 0)"),
        [{"c": campaign_id, "e": e} for e in emails],
    )


def test_a_recipient_of_no_campaign_is_refused(engine: Engine):
    cid = _campaign(engine)
    with engine.begin() as conn:
        _add_recipients(conn, cid, "a@example.com")
    with pytest.raises(IntegrityError, match="(?i)foreign key"), engine.begin() as conn:
        _add_recipients(conn, cid + 1, "b@example.com")
    with pytest.raises(IntegrityError, match="(?i)foreign key"), engine.begin() as conn:  # one bad row among good ones
        conn.execute(
            text(
                "INSERT INTO recipients (campaign_id, email, status, attempts) "
                "SELECT CASE WHEN n = 3 THEN :bad ELSE :c END, 'x' || n || '@example.com', 'queued', 0 "
                "FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) AS t"
            ),
            {"c": cid, "bad": cid + 7},
        )
    with pytest.raises(IntegrityError, match="(?i)foreign key"), engine.begin() as conn:  # moved to no campaign
        conn.execute(text("UPDATE recipients SET campaign_id = :c"), {"c": cid + 1})
    with engine.begin() as conn:
        conn.execute(text("UPDATE recipients SET status = 'sent'"))  # other columns: no check in the way
        assert conn.execute(text("SELECT email, status FROM recipients")).all() == [("a@example.com", "sent")]


def test_deleting_a_campaign_deletes_its_recipients_and_no_others(engine: Engine):
    first, second, third = _campaign(engine, "a"), _campaign(engine, "b"), _campaign(engine, "c")
    with engine.begin() as conn:
        _add_recipients(conn, first, "a@example.com", "b@example.com")
        _add_recipients(conn, second, "a@example.com")
        _add_recipients(conn, third, "c@example.com")
        conn.execute(text("DELETE FROM campaigns WHERE id IN (:a, :c)"), {"a": first, "c": third})
        left = conn.execute(text("SELECT campaign_id, email FROM recipients")).all()
    assert left == [(second, "a@example.com")]


def test_the_audience_still_resolves(engine: Engine):
    contacts.import_contacts(engine, io.BytesIO(b"email\n" + b"".join(b"u%d@example.com\n" % i for i in range(10))))
    segments.create(engine, "out")
    segments.import_members(engine, "out", io.BytesIO(b"email\nu1@example.com\nu2@example.com\n"))
    blacklist.add(engine, ["u3@example.com"])
    cid = _campaign(engine, exclude=["out"])
    assert campaigns.start_campaign(engine, cid) == 7
    with engine.connect() as conn:
        emails = set(conn.execute(text("SELECT email FROM recipients WHERE campaign_id = :c"), {"c": cid}).scalars())
    assert emails == {f"u{i}@example.com" for i in (0, 4, 5, 6, 7, 8, 9)}
    again = _campaign(engine, "again")  # a second campaign, into a ledger holding the first's rows
    assert campaigns.start_campaign(engine, again) == 9  # all but the black-listed


def _pg(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent sessions: PostgreSQL (SQLite has one writer at a time)")


def _in_thread(work) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as err:  # reported to the test
            outcome.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _waiting(engine: Engine, thread: threading.Thread) -> None:
    """Until the other session waits on a lock (or has ended: then the assertion after it fails)."""
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while thread.is_alive() and time.monotonic() < deadline:
            waits = conn.execute(
                text(
                    "SELECT COUNT(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar()
            if waits:
                return
            time.sleep(0.02)


def test_a_campaign_deleted_while_recipients_go_in_takes_them_along(engine: Engine):
    """The key's lock: deleting the campaign waits for the insert, then deletes the rows it committed."""
    _pg(engine)
    cid = _campaign(engine)
    with engine.connect() as inserting:
        with inserting.begin():
            _add_recipients(inserting, cid, "a@example.com")
            deleter, outcome = _in_thread(lambda: _delete(engine, cid))
            _waiting(engine, deleter)
            assert deleter.is_alive(), f"the deletion did not wait for the insert: {outcome}"
        deleter.join(10)
    assert outcome == [None]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM recipients")).scalar() == 0


def test_recipients_of_a_campaign_being_deleted_are_refused(engine: Engine):
    """The other order: the insert waits for the deletion, then fails as the key made it fail."""
    _pg(engine)
    cid = _campaign(engine)
    with engine.connect() as deleting:
        with deleting.begin():
            deleting.execute(text("DELETE FROM campaigns WHERE id = :c"), {"c": cid})
            inserter, outcome = _in_thread(lambda: _insert(engine, cid))
            _waiting(engine, inserter)
            assert inserter.is_alive(), f"the insert did not wait for the deletion: {outcome}"
        inserter.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], IntegrityError), outcome
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM recipients")).scalar() == 0


def _delete(engine: Engine, cid: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM campaigns WHERE id = :c"), {"c": cid})


def _insert(engine: Engine, cid: int) -> None:
    with engine.begin() as conn:
        _add_recipients(conn, cid, "a@example.com")
