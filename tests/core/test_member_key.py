"""PostgreSQL reads an audience's members from their key alone (migration 0019, INCLUDE (display)), once the
import that wrote them has vacuumed them; the spellings come through unchanged. Migration up and down."""

import io

import pytest
from alembic import command
from sqlalchemy import select, text

from sendwell import audience, campaigns, contactbulk, contacts, segments
from sendwell.db import bulk, migrate
from sendwell.db.engine import make_engine
from sendwell.db.schema import recipients

from .test_migrations import blank_url  # noqa: F401 - blank_url is a fixture

N = bulk.ANALYZE_AFTER + 2_000  # a big import: analyzed and vacuumed


def _members_csv(n: int, step: int = 1) -> io.BytesIO:
    lines = ["email,name"] + [f"P{i:06d}@Example.com,Person {i}" for i in range(0, n, step)]
    return io.BytesIO("\n".join(lines).encode())


def _member_scans(engine, cid: int, include: list[int], exclude: list[int]) -> list[dict]:
    """The plan nodes that read segment_members when the audience statement runs (rolled back)."""
    stmt, params = audience.statement(cid, include=include, exclude=exclude, all_contacts=False, skip=[])
    found: list[dict] = []

    def walk(node: dict) -> None:
        if node.get("Relation Name") == "segment_members":
            found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    with engine.connect() as conn:
        # a small test table may be read whole (a sequential scan); the bench's 800,000 members are read by key
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_bitmapscan = off"))
        sql = stmt.bindparams(**params).compile(conn, compile_kwargs={"render_postcompile": True})
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + str(sql), sql.params)
        walk(plan.scalar_one()[0]["Plan"])
        conn.rollback()
    return found


POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SQLite's key holds no other column


@POSTGRES_ONLY
def test_a_big_import_leaves_members_readable_from_the_key_alone(engine):
    segments.create(engine, "in")
    segments.create(engine, "out")
    assert segments.import_members(engine, "in", _members_csv(N)).imported == N
    assert segments.import_members(engine, "out", _members_csv(2 * N, step=2)).imported == N
    ids = {s.name: s.id for s in segments.list_segments(engine)}
    cid = campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", text="t")
    scans = _member_scans(engine, cid, [ids["in"]], [ids["out"]])
    assert scans, "the audience reads the members"
    for node in scans:  # no member row fetched: the key holds address and spelling
        assert node["Node Type"] == "Index Only Scan", node["Node Type"]
        assert node["Heap Fetches"] == 0


def _all_visible(engine) -> tuple[int, int]:
    """(pages, pages marked all-visible) of segment_members, freshly counted."""
    with engine.begin() as conn:
        conn.execute(text("ANALYZE segment_members"))
        return conn.execute(
            text("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'segment_members'")
        ).one()


@POSTGRES_ONLY
def test_a_segment_made_from_a_campaign_is_vacuumed_too(engine):
    segments.create(engine, "in")
    segments.import_members(engine, "in", _members_csv(N))
    cid = campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", text="t", include=["in"])
    campaigns.start_campaign(engine, cid)
    before = _all_visible(engine)[1]
    assert segments.create_from_campaign(engine, "again", cid, "queued") == N
    pages, visible = _all_visible(engine)
    assert visible == pages and visible > before


@POSTGRES_ONLY
def test_adding_many_contacts_to_a_segment_vacuums_as_an_import_does(engine):
    people = [f"p{i:06d}@example.com" for i in range(N)]
    contacts.import_contacts(engine, io.BytesIO(("email\n" + "\n".join(people)).encode()))
    segments.create(engine, "chosen")
    before = _all_visible(engine)[1]
    done = contactbulk.apply(engine, contactbulk.Selection(everything=True), "add_to_segment", segment="chosen")
    assert done["count"] == N
    pages, visible = _all_visible(engine)
    assert visible == pages and visible > before


@POSTGRES_ONLY
def test_a_failed_vacuum_is_logged_not_raised(engine, caplog):
    bulk.vacuum(engine, "no_such_table")  # the rows a caller wrote are committed: nothing to undo
    assert "VACUUM no_such_table after a bulk insert failed" in caplog.text
    with engine.connect() as conn:  # the pool's connections still work
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_spellings_come_through_the_key(engine):
    segments.create(engine, "in")
    segments.import_members(engine, "in", _members_csv(N))
    cid = campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", text="t", include=["in"])
    assert campaigns.start_campaign(engine, cid) == N
    with engine.connect() as conn:
        rows = conn.execute(
            select(recipients.c.email, recipients.c.display).where(recipients.c.campaign_id == cid)
        ).all()
    assert {r.email: r.display for r in rows} == {f"p{i:06d}@example.com": f"P{i:06d}@Example.com" for i in range(N)}


def _include(engine) -> str | None:
    """What the members' key carries besides its own columns ("" for nothing) on PostgreSQL; None on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        sql = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'pk_segment_members'")).scalar_one()
    assert "(segment_id, email)" in sql
    return sql.partition(" INCLUDE ")[2]


def test_migration_0019_puts_the_spelling_in_the_key_and_takes_it_out_going_down(blank_url):  # noqa: F811
    engine = make_engine(blank_url)
    cfg = migrate._config(engine)
    pg = engine.dialect.name == "postgresql"
    for n, (step, revision, included) in enumerate(
        (
            (command.upgrade, "0018_no_message_id_index", ""),
            (command.upgrade, "0019_member_key_spelling", "(display)"),
            (command.downgrade, "0018_no_message_id_index", ""),
            (command.upgrade, "0019_member_key_spelling", "(display)"),
        )
    ):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            step(cfg, revision)
        assert _include(engine) == (included if pg else None), revision
        segments.create(engine, f"s{n}")  # the key still takes an address once a segment
        assert segments.add(engine, f"s{n}", ["a@example.com", "A@example.com", "b@example.com"]).imported == 2
    engine.dispose()
