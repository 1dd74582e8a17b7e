"""The draft page's merge-field check is reused for a minute (it scans the audience) and redone at once when the
campaign's templates or audience rules change; on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update

from sendwell import campaigns, preview
from sendwell.db.schema import contacts

from factories import started_campaign


def test_the_check_is_reused_until_the_campaign_changes_or_a_minute_passes(engine):
    cid = started_campaign(engine, ["a@x.org", "b@x.org"], fields={"a@x.org": {"first_name": "Ann"}}, start=False)
    first = preview.field_check_cached(engine, cid)
    assert {f.name: f.unfilled for f in first.fields} == {"first_name": 1}
    with engine.begin() as conn:  # a contact gets the field: the page shows it within a minute, not at once
        conn.execute(update(contacts).where(contacts.c.email == "b@x.org").values(fields={"first_name": "Bo"}))
    assert preview.field_check_cached(engine, cid) is first
    assert {f.name: f.unfilled for f in preview.field_check_cached(engine, cid, max_age=0).fields} == {"first_name": 0}
    campaigns.edit_campaign(engine, cid, text="Hi {{ last_name }}", html="<p>{{ last_name }}</p>")
    changed = preview.field_check_cached(engine, cid)  # another template: checked now
    assert {f.name for f in changed.fields} == {"first_name", "last_name"}  # the subject still uses first_name
    assert {f.name: f.unfilled for f in changed.fields}["last_name"] == 2
