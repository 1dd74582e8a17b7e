"""Audience = (included segments or all contacts) − excluded segments − black list, on both databases."""

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from sendwell import blacklist, campaigns, contacts, segments
from sendwell.db.schema import metadata, recipients


def audience(engine, campaign_id):
    with engine.connect() as conn:
        rows = conn.execute(
            select(recipients.c.email, recipients.c.status).where(recipients.c.campaign_id == campaign_id)
        ).all()
    return {r.email: r.status for r in rows}


def make_segment(engine, name, addrs):
    segments.create(engine, name)
    if addrs:
        segments.add(engine, name, addrs)


def test_several_includes_and_excludes(engine):
    make_segment(engine, "a", ["1@example.com", "2@example.com", "3@example.com"])
    make_segment(engine, "b", ["3@example.com", "4@example.com", "5@example.com"])
    make_segment(engine, "x", ["2@example.com"])
    make_segment(engine, "y", ["5@example.com", "9@example.com"])
    blacklist.add(engine, ["4@example.com"])
    cid = campaigns.create_campaign(
        engine, name="c", subject="s", from_addr="me@example.com", text="t", include=["a", "b"], exclude=["x", "y"]
    )
    assert campaigns.start_campaign(engine, cid) == 2
    assert audience(engine, cid) == {"1@example.com": "queued", "3@example.com": "queued"}


def test_all_contacts_when_no_segment_and_invalid_verdicts_skipped(engine):
    contacts.import_contacts(engine, io.BytesIO(b"a@example.com\nb@example.com\nc@example.com\n"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE contacts SET verdict = 'invalid' WHERE email = 'b@example.com'"))
        conn.execute(text("UPDATE contacts SET verdict = 'risky' WHERE email = 'c@example.com'"))
    cid = campaigns.create_campaign(engine, name="all", subject="s", from_addr="me@example.com", text="t")
    campaigns.start_campaign(engine, cid)
    assert audience(engine, cid) == {"a@example.com": "queued", "b@example.com": "skipped", "c@example.com": "queued"}
    cid2 = campaigns.create_campaign(
        engine, name="strict", subject="s", from_addr="me@example.com", text="t", skip_verdicts=["invalid", "risky"]
    )
    campaigns.start_campaign(engine, cid2)
    assert audience(engine, cid2)["c@example.com"] == "skipped"
    with engine.connect() as conn:  # the operator sees why: kind invalid, the verdict as reason
        why = conn.execute(text("SELECT email, kind, reason FROM recipients WHERE campaign_id = :c"), {"c": cid2}).all()
    assert sorted(why) == [
        ("a@example.com", None, None),
        ("b@example.com", "invalid", "invalid"),
        ("c@example.com", "invalid", "risky"),
    ]
    # nobody verified as skipped: the campaign resolves without looking contacts up, the same rows
    cid3 = campaigns.create_campaign(
        engine, name="unknowns", subject="s", from_addr="me@example.com", text="t", skip_verdicts=["unknown"]
    )
    campaigns.start_campaign(engine, cid3)
    assert audience(engine, cid3) == dict.fromkeys(["a@example.com", "b@example.com", "c@example.com"], "queued")


def test_segment_members_need_not_be_contacts_and_exclusion_creates_no_contacts(engine):
    make_segment(engine, "list", ["new@example.com"])
    make_segment(engine, "never", ["ghost@example.com"])
    assert contacts.count(engine) == 0
    cid = campaigns.create_campaign(
        engine, name="c", subject="s", from_addr="me@example.com", text="t", include=["list"], exclude=["never"]
    )
    campaigns.start_campaign(engine, cid)
    assert audience(engine, cid) == {"new@example.com": "queued"}


ADDRS = [f"u{i}@example.com" for i in range(12)]
subsets = st.sets(st.sampled_from(ADDRS), max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    includes=st.lists(subsets, min_size=0, max_size=3),
    excludes=st.lists(subsets, max_size=3),
    black=subsets,
    people=subsets,
)
def test_property_audience_is_include_minus_exclude_minus_blacklist(engine, includes, excludes, black, people):
    with engine.begin() as conn:
        for t in reversed(metadata.sorted_tables):
            conn.execute(t.delete())
    if people:
        contacts.import_contacts(engine, io.BytesIO("\n".join(sorted(people)).encode()))
    for i, members in enumerate(includes):
        make_segment(engine, f"in{i}", sorted(members))
    for i, members in enumerate(excludes):
        make_segment(engine, f"ex{i}", sorted(members))
    if black:
        blacklist.add(engine, sorted(black))
    cid = campaigns.create_campaign(
        engine,
        name="p",
        subject="s",
        from_addr="me@example.com",
        text="t",
        include=[f"in{i}" for i in range(len(includes))],
        exclude=[f"ex{i}" for i in range(len(excludes))],
    )
    campaigns.start_campaign(engine, cid)
    base = set().union(*includes) if includes else set(people)
    expected = base - set().union(*excludes) - black
    assert set(audience(engine, cid)) == expected


def test_the_verdict_checks_can_use_the_partial_index_of_verified_contacts(engine):
    """The audience asks "does any contact have a skipped verdict?" and, per candidate, "has this one?":
    both must be answerable from ix_contacts_verdict (verified contacts only) without reading the contacts
    table. The WHERE must imply the index's `verdict IS NOT NULL`, or the planner cannot use it at all."""
    from sqlalchemy import bindparam

    from sendwell import audience as resolving

    insert, params = resolving.statement(1, include=[1], exclude=[2], all_contacts=False, skip=["invalid", "risky"])
    lists = [bindparam(name, expanding=True) for name in ("include", "exclude", "skip")]
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:  # on a near-empty table a scan is cheaper: ask whether the index is usable at all
            conn.execute(text("SET LOCAL enable_seqscan = off"))
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        for sql, p in (
            ("SELECT id FROM contacts WHERE verdict IN :skip LIMIT 1", {"skip": ["invalid", "risky"]}),
            (insert.text, params),
        ):
            stmt = text(explain + sql).bindparams(*[b for b in lists if b.key in p])
            plan = " ".join(str(row[-1]) for row in conn.execute(stmt, p))
            assert "ix_contacts_verdict" in plan, (sql, plan)
