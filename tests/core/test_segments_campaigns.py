"""Segments and campaigns: lifecycle rules and the one-step 'segment from a campaign's errors'."""

import io

import pytest
from sqlalchemy import update

from sendwell import campaigns, segments
from sendwell.db.schema import recipients
from sendwell.errors import NotFound, UserError


def test_segment_import_reports_bad_lines(engine):
    segments.create(engine, "vip")
    report = segments.import_members(engine, "vip", io.BytesIO(b"a@example.com\nbad\nA@example.com b@example.com\n"))
    assert report.imported == 2 and report.merged == 1 and [r.line for r in report.rejected] == [2]
    assert segments.show(engine, "vip").members == 2
    segments.remove(engine, "vip", ["a@example.com"])
    assert [m.email for m in segments.iter_members(engine, "vip")] == ["b@example.com"]


def test_duplicate_and_unknown_segments(engine):
    segments.create(engine, "vip")
    with pytest.raises(UserError, match="already exists"):
        segments.create(engine, "vip")
    with pytest.raises(NotFound):
        segments.add(engine, "nope", ["a@example.com"])


def test_segment_in_use_cannot_be_deleted(engine):
    segments.create(engine, "vip")
    campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", text="t", exclude=["vip"])
    with pytest.raises(UserError, match="used by campaign"):
        segments.delete(engine, "vip")


def test_segment_from_campaign_errors(engine):
    segments.create(engine, "all")
    segments.add(engine, "all", ["a@example.com", "b@example.com", "c@example.com"])
    cid = campaigns.create_campaign(
        engine, name="c", subject="s", from_addr="me@example.com", text="t", include=["all"]
    )
    campaigns.start_campaign(engine, cid)
    with engine.begin() as conn:
        conn.execute(
            update(recipients).where(recipients.c.email.in_(["a@example.com", "c@example.com"])).values(status="error")
        )
    assert segments.create_from_campaign(engine, "dead", cid, ["error"]) == 2
    assert sorted(m.email for m in segments.iter_members(engine, "dead")) == ["a@example.com", "c@example.com"]


def test_campaign_validation_names_the_field(engine):
    with pytest.raises(UserError, match="^subject: must be a single line") as err:
        campaigns.create_campaign(
            engine, name="c", subject="Hi\r\nBcc: x@evil.com", from_addr="me@example.com", text="t"
        )
    assert err.value.field == "subject"
    with pytest.raises(UserError, match="^from_addr: 'not an address'") as err:
        campaigns.create_campaign(engine, name="c", subject="s", from_addr="not an address", text="t")
    assert err.value.field == "from_addr"
    with pytest.raises(UserError, match="^html: template error on line 2") as err:
        campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", html="ok\n{% if %}")
    assert err.value.field == "html"
    with pytest.raises(UserError, match="both included and excluded"):
        segments.create(engine, "s1")
        campaigns.create_campaign(
            engine, name="c", subject="s", from_addr="me@example.com", text="t", include=["s1"], exclude=["s1"]
        )


def test_edit_only_while_draft(engine):
    cid = campaigns.create_campaign(engine, name="c", subject="s", from_addr="Me <me@example.com>", text="t")
    campaigns.edit_campaign(engine, "c", subject="New {{ first_name }}")
    assert campaigns.get_campaign(engine, cid).subject == "New {{ first_name }}"
    campaigns.start_campaign(engine, cid)
    with pytest.raises(UserError, match="only a draft"):
        campaigns.edit_campaign(engine, "c", subject="late")
    with pytest.raises(UserError, match="already started"):
        campaigns.start_campaign(engine, cid)


def test_edit_refuses_a_segment_both_included_and_excluded(engine):
    segments.create(engine, "a")
    segments.create(engine, "b")
    campaigns.create_campaign(engine, name="c", subject="s", from_addr="me@example.com", text="t", include=["a"])
    with pytest.raises(UserError, match="both included and excluded"):
        campaigns.edit_campaign(engine, "c", exclude=["a"])
    campaigns.edit_campaign(engine, "c", exclude=["b"])
    assert campaigns.get_campaign(engine, "c").exclude == ["b"]


def test_a_segment_named_twice_is_named_once(engine):
    # the campaign's segments are a set: a name repeated (a pasted list, a form sent twice) is not an error, and
    # certainly not "campaign already exists"
    segments.create(engine, "a")
    segments.add(engine, "a", ["1@example.com", "2@example.com"])
    segments.create(engine, "x")
    segments.add(engine, "x", ["2@example.com"])
    cid = campaigns.create_campaign(
        engine, name="c", subject="s", from_addr="me@example.com", text="t", include=["a", "a"], exclude=["x", "x"]
    )
    got = campaigns.get_campaign(engine, "c")
    assert (got.include, got.exclude) == (["a"], ["x"])
    campaigns.edit_campaign(engine, "c", include=["a", "a"], exclude=["x", "x"])
    assert campaigns.start_campaign(engine, cid) == 1
