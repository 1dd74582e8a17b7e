"""A reference that looks like a number but is no row id (past 64 bits, a superscript digit) is a name, not a crash."""

from __future__ import annotations

import pytest

from sendwell import campaigns, segments
from sendwell.errors import NotFound
from sendwell.model import MAX_ROW_ID, row_id


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("42", 42),
        (42, 42),
        ("0", None),
        (str(MAX_ROW_ID), MAX_ROW_ID),
        (str(MAX_ROW_ID + 1), None),
        ("9" * 40, None),
        ("4²", None),
        ("²", None),
        ("٣", None),
        ("news", None),
        ("", None),
        (-3, None),
    ],
)
def test_row_id_reads_only_ids_a_database_can_hold(ref, expected):
    assert row_id(ref) == expected


def test_huge_or_unicode_digit_references_are_not_found_on_both_databases(engine):
    """Was a 500 (OverflowError on SQLite) for /api/v1/segments/9223372036854775808/members, found by schemathesis."""
    sid = segments.create(engine, "vip")
    campaigns.create_campaign(engine, name="news", subject="s", from_addr="a@shop.example", text="t")
    assert segments.name_of(engine, str(sid)) == "vip"
    for ref in (str(MAX_ROW_ID + 1), "9" * 30, "²"):
        with pytest.raises(NotFound):
            segments.name_of(engine, ref)
        with pytest.raises(NotFound):
            campaigns.get_campaign(engine, ref)
