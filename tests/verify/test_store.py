"""verify_contacts on SQLite and PostgreSQL: verdicts stored on the contacts, re-checks after max_age_days."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from sendwell import contacts, segments
from sendwell.config import Settings
from sendwell.db.engine import utcnow
from sendwell.db.schema import contacts as contacts_table
from sendwell.verify.store import ContactsVerified, verify_contacts

PEOPLE = [
    "ann@mx.example.com",
    "info@mx.example.com",
    "cy@nullmx.example.com",
    "dee@missing.example.com",
    "eve@slow.example.com",
    "fay@implicit.example.com",
    "gus@yahooo.com",
]


def stored(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                contacts_table.c.display,
                contacts_table.c.verdict,
                contacts_table.c.verdict_reasons,
                contacts_table.c.suggestion,
                contacts_table.c.verified_at,
            )
        ).all()
    return {r.display: (r.verdict, r.verdict_reasons, r.suggestion, r.verified_at) for r in rows}


def load(engine) -> None:
    contacts.import_contacts(engine, io.BytesIO("\n".join(PEOPLE).encode()))


def test_verdicts_reasons_and_suggestions_are_stored(engine, dns_options):
    load(engine)
    progress: list[tuple[int, int]] = []
    summary = verify_contacts(engine, Settings(), options=dns_options, progress=lambda d, t: progress.append((d, t)))
    assert summary == ContactsVerified(7, 0, {"valid": 2, "risky": 1, "invalid": 3, "unknown": 1})
    assert progress[-1] == (7, 7)
    rows = stored(engine)
    assert {k: v[:3] for k, v in rows.items()} == {
        "ann@mx.example.com": ("valid", [], None),
        "info@mx.example.com": ("risky", ["role"], None),
        "cy@nullmx.example.com": ("invalid", ["no_mail"], None),
        "dee@missing.example.com": ("invalid", ["no_domain"], None),
        "eve@slow.example.com": ("unknown", ["dns_unavailable"], None),
        "fay@implicit.example.com": ("valid", [], None),
        "gus@yahooo.com": ("invalid", ["typo_suspected", "no_domain"], "gus@yahoo.com"),
    }
    assert all(v[3] is not None for v in rows.values())


def test_recent_checks_are_skipped_and_unknown_ones_retried(engine, dns_options):
    load(engine)
    verify_contacts(engine, Settings(), options=dns_options)
    again = verify_contacts(engine, Settings(), options=dns_options)
    assert again.checked == 1 and again.verdicts == {"unknown": 1}  # only the DNS timeout is retried
    later = verify_contacts(engine, Settings(), options=dns_options, now=utcnow() + timedelta(days=31))
    assert later.checked == 7


def test_max_age_comes_from_settings(engine, dns_options):
    load(engine)
    verify_contacts(engine, Settings(), options=dns_options)
    short = replace(Settings(), verify=replace(Settings().verify, max_age_days=1))
    assert verify_contacts(engine, short, options=dns_options, now=utcnow() + timedelta(days=2)).checked == 7
    assert verify_contacts(engine, Settings(), options=dns_options, now=utcnow() + timedelta(days=2)).checked == 1


def test_only_the_segment_is_verified(engine, dns_options):
    load(engine)
    segments.create(engine, "vip")
    segments.add(engine, "vip", ["ann@mx.example.com", "cy@nullmx.example.com", "nobody@example.com"])
    summary = verify_contacts(engine, Settings(), segment="vip", options=dns_options)
    assert summary.checked == 2
    rows = stored(engine)
    assert rows["ann@mx.example.com"][0] == "valid" and rows["cy@nullmx.example.com"][0] == "invalid"
    assert rows["info@mx.example.com"][0] is None


def test_unknown_segment_is_a_user_error(engine, dns_options):
    import pytest

    from sendwell.errors import NotFound

    with pytest.raises(NotFound, match="ghost"):
        verify_contacts(engine, Settings(), segment="ghost", options=dns_options)
