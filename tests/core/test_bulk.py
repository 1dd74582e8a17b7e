"""bulk.Overlapped: batches written in order on one thread, errors surface in the caller."""

import threading

import pytest

from sendwell.db.bulk import Overlapped


def test_batches_are_written_in_order_one_at_a_time_off_the_caller_thread():
    written, threads, busy = [], set(), threading.Lock()

    def write(batch):
        assert busy.acquire(blocking=False), "two batches written at once"
        threads.add(threading.get_ident())
        written.append(batch)
        busy.release()

    with Overlapped(write) as writer:
        for i in range(50):
            writer.submit([(i,)])
        writer.submit([])  # nothing to write: skipped
    assert written == [[(i,)] for i in range(50)]
    assert threads and threading.get_ident() not in threads


def test_a_failed_write_is_raised_by_the_next_submit_or_at_the_end():
    def write(batch):
        if batch[0][0] == 1:
            raise ValueError("bad batch")

    with pytest.raises(ValueError, match="bad batch"), Overlapped(write) as writer:
        writer.submit([(0,)])
        writer.submit([(1,)])
        writer.submit([(2,)])  # waits for batch 1 and raises its error
    with pytest.raises(ValueError, match="bad batch"), Overlapped(write) as writer:
        writer.submit([(1,)])  # last batch: raised when the block ends


def test_the_callers_error_wins_and_the_batch_in_flight_is_finished_first():
    done = threading.Event()

    def write(batch):
        done.wait(1)
        raise ValueError("writer")

    with pytest.raises(KeyError), Overlapped(write) as writer:
        writer.submit([(0,)])
        done.set()
        raise KeyError("caller")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SQLite plans without statistics
def test_big_imports_leave_the_planner_statistics_on_postgresql(engine, db_url):
    """Without them (autovacuum off or late) PostgreSQL plans the audience as if the tables were empty."""
    import io

    from sqlalchemy import text

    from sendwell import blacklist, contacts, segments

    rows = "".join(f"u{i}@d{i % 50}.example.com\n" for i in range(12_000)).encode()
    contacts.import_contacts(engine, io.BytesIO(rows))
    segments.create(engine, "big")
    segments.import_members(engine, "big", io.BytesIO(rows))
    blacklist.import_file(engine, io.BytesIO(rows))
    with engine.connect() as conn:
        tuples = dict(
            conn.execute(
                text(
                    "SELECT relname, reltuples FROM pg_class "
                    "WHERE relname IN ('contacts', 'segment_members', 'blacklist')"
                )
            ).all()
        )
    assert tuples == {"contacts": 12_000, "segment_members": 12_000, "blacklist": 12_000}
