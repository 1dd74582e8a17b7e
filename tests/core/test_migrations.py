"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

import io
import os
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from sendwell import campaigns, contacts, stats
from sendwell.db import migrate
from sendwell.db.engine import as_utc, make_engine
from sendwell.db.schema import metadata

HEAD = "0019_member_key_spelling"  # the latest revision


def test_migrated_database_matches_the_declared_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    if engine.dialect.name == "postgresql":
        # 0016: on PostgreSQL the key recipients.campaign_id -> campaigns is kept by triggers, checked once per
        # statement (tests/core/test_pg_recipient_key.py); schema.py declares it for SQLite
        replaced = [d for d in diff if d[0] == "add_fk" and d[1].name == "fk_recipients_campaign_id_campaigns"]
        assert len(replaced) == 1
        diff = [d for d in diff if d not in replaced]
    assert diff == []


@pytest.fixture(params=["sqlite", "postgres"])
def blank_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    base = request.getfixturevalue("pg_database_url")  # skips (or fails on CI) without PostgreSQL
    name = f"sendwell_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_rebuilding_the_ledger_keeps_its_rows_and_the_events_pointing_into_it(blank_url):
    # 0004 rebuilds `recipients` on SQLite (copy, drop, rename): with foreign keys enforced, the drop
    # would set every event's recipient_id to NULL. Data written at 0003 must come through unchanged.
    engine = make_engine(blank_url)
    cfg = migrate._config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    contacts.import_contacts(engine, io.BytesIO(b"email,first_name\na@example.com,Ann\nb@example.com,Bob\n"))
    cid = campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", text="t")
    with engine.begin() as conn:  # started as the code of 0003 did: every column filled, the contact linked
        conn.execute(
            text("UPDATE campaigns SET state = 'sending', started_at = CURRENT_TIMESTAMP WHERE id = :c"), {"c": cid}
        )
        conn.execute(
            text(
                "INSERT INTO recipients (campaign_id, contact_id, email, display, status, attempts, "
                "queued_at) SELECT :c, id, email, display, 'queued', 0, CURRENT_TIMESTAMP FROM contacts"
            ),
            {"c": cid},
        )
        before = conn.execute(text("SELECT id, email, status FROM recipients ORDER BY id")).all()
        conn.execute(
            text(
                "INSERT INTO events (at, type, email, campaign_id, recipient_id) "
                "SELECT queued_at, 'bounce', email, campaign_id, id FROM recipients"
            )
        )

    migrate.upgrade(engine)

    with engine.begin() as conn:
        assert conn.execute(text("SELECT id, email, status FROM recipients ORDER BY id")).all() == before
        linked = conn.execute(text("SELECT recipient_id FROM events ORDER BY recipient_id")).scalars().all()
        assert linked == [r.id for r in before]
        columns = {c["name"] for c in inspect(conn).get_columns("recipients")}
        assert "contact_id" not in columns
        with pytest.raises(IntegrityError), conn.begin_nested():
            conn.execute(
                text(
                    "INSERT INTO recipients (campaign_id, email, status, attempts) "
                    "SELECT campaign_id, email, status, 0 FROM recipients LIMIT 1"
                )
            )
    # and the fields of a contact reach the ledger's readers by address
    columns, rows = stats.iter_recipients(engine, cid, ["queued"])
    assert {r["email"]: r["first_name"] for r in rows} == {"a@example.com": "Ann", "b@example.com": "Bob"}

    # back to 0003 (an operator rolling back a release): another rebuild, with the same care
    migrate.downgrade(engine, "0003")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT id, email, status FROM recipients ORDER BY id")).all() == before
        assert conn.execute(text("SELECT recipient_id FROM events ORDER BY recipient_id")).scalars().all() == linked
        by_email = dict(
            conn.execute(
                text("SELECT r.email, r.contact_id = c.id FROM recipients r JOIN contacts c ON c.email = r.email")
            ).all()
        )
        assert by_email == {"a@example.com": True, "b@example.com": True}
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
    engine.dispose()


def test_a_ledger_row_holds_no_spelling_or_queue_time_that_its_readers_can_derive(blank_url):
    """0005: `display` is NULL when it is the address, `queued_at` NULL for rows queued at the start; every
    reader (claims, exports, segments and black-list entries from a campaign) still sees both, and a
    downgrade writes them back."""
    from sendwell import blacklist, segments
    from sendwell.sending import queue

    engine = make_engine(blank_url)
    migrate.upgrade(engine)
    contacts.import_contacts(engine, io.BytesIO(b"email\nAnn@Example.COM\nbob@example.com\n"))
    cid = campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", text="t")
    assert campaigns.start_campaign(engine, cid) == 2
    started = as_utc(campaigns.get_campaign(engine, cid).started_at)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT email, display FROM recipients")).all())
        assert stored == {"ann@example.com": "Ann@Example.COM", "bob@example.com": None}
        assert conn.execute(text("SELECT COUNT(*) FROM recipients WHERE queued_at IS NULL")).scalar() == 2
    expected = {"ann@example.com": "Ann@Example.COM", "bob@example.com": "bob@example.com"}

    _, rows = stats.iter_recipients(engine, cid, ["queued"])
    rows = list(rows)
    assert {r["email"]: r["display"] for r in rows} == expected
    assert {r["queued_at"] for r in rows} == {started.isoformat()}
    segments.create_from_campaign(engine, "again", cid, ["queued"])
    assert {m.email: m.display for m in segments.iter_members(engine, "again")} == expected
    with engine.begin() as conn:
        jobs, _ = queue.claim(conn, campaign_id=cid, owner="t", limit=10, lease_seconds=60, now=started)
    assert {j.email: j.display for j in jobs} == expected
    assert {j.queued_at for j in jobs} == {started}
    blacklist.add_from_campaign(engine, cid, ["queued"])  # after the claim: it would skip blacklisted rows
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT email, display FROM blacklist")).all()) == expected

    migrate.downgrade(engine, "0004")
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT email, display FROM recipients")).all()) == expected
        assert conn.execute(text("SELECT COUNT(*) FROM recipients WHERE queued_at IS NULL")).scalar() == 0
        assert {
            c["name"]: c["nullable"]
            for c in inspect(conn).get_columns("recipients")
            if c["name"] in ("display", "queued_at")
        } == {"display": False, "queued_at": False}
    migrate.upgrade(engine)
    _, rows = stats.iter_recipients(engine, cid, ["queued"])
    assert {r["email"]: r["display"] for r in rows} == expected
    engine.dispose()


def test_references_broken_before_a_migration_do_not_stop_it(tmp_path):
    """A row orphaned by hand (the sqlite3 shell has foreign keys off) is not the migration's doing."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = migrate._config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    with engine.connect() as conn:
        conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            conn.execute(
                text(
                    "INSERT INTO events (at, type, email, campaign_id) "
                    "VALUES (CURRENT_TIMESTAMP, 'bounce', 'x@example.com', 999)"
                )
            )
        conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
        assert conn.execute(text("SELECT campaign_id FROM events")).scalar() == 999  # left as it was
    engine.dispose()


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs Linux's /proc/locks to see a waiting flock")
def test_a_sqlite_starter_waits_for_the_process_that_migrates(tmp_path):
    """One process migrates, the others wait on `<file>-migrate` (a big ledger rebuild outlasts SQLite's 30 s
    busy timeout, after which a waiting BEGIN would fail with "database is locked")."""
    import fcntl
    import subprocess
    import sys
    import time

    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    cfg = migrate._config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    fd = os.open(f"{path}-migrate", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as if another process were migrating
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from sendwell.db.engine import open_database; open_database(sys.argv[1]).dispose()",
            f"sqlite:///{path}",
        ]
    )
    try:
        inode = os.fstat(fd).st_ino
        deadline = time.monotonic() + 30
        while not _waiting_on(inode) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is None and _waiting_on(inode), "the starter did not wait for the migrator"
        assert migrate._revision(engine) == "0003"
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert child.wait(60) == 0
    assert migrate._revision(engine) == HEAD
    engine.dispose()


def _waiting_on(inode: int) -> bool:
    """Whether some process is blocked on an flock of this file (Linux /proc/locks marks waiters with "->")."""
    with open("/proc/locks") as f:
        return any("->" in line and line.split()[-3].endswith(f":{inode}") for line in f)
