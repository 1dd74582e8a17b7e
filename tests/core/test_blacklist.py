"""The black list keeps every decision explainable and reversible."""

import io

import pytest

from sendwell import blacklist
from sendwell.errors import NotFound


def test_add_reports_bad_addresses_and_keeps_good_ones(engine):
    report = blacklist.add(engine, ["a@example.com", "nope", "B@Example.com", "a@example.com"], note="typed")
    assert report.imported == 2 and report.merged == 1
    assert [(r.line, r.text) for r in report.rejected] == [(2, "nope")]
    assert blacklist.is_blacklisted(engine, "b@example.com")


def test_import_of_an_exported_error_csv(engine):
    data = b"email,status,smtp_code,smtp_answer\nx@example.com,error,550,5.1.1 no such user\ny@example.com,error,550,\n"
    report = blacklist.import_file(engine, io.BytesIO(data), name="errors.csv", reason="hard_bounce")
    assert report.imported == 2
    entry = blacklist.show(engine, "x@example.com")["entry"]
    assert entry["reason"] == "hard_bounce" and entry["source"] == "import:errors.csv"


def test_remove_keeps_history_with_who_and_why(engine):
    blacklist.add(engine, ["a@example.com"], reason="complaint", actor="alice")
    blacklist.remove(engine, ["a@example.com"], note="customer asked to resubscribe", actor="bob")
    assert not blacklist.is_blacklisted(engine, "a@example.com")
    shown = blacklist.show(engine, "a@example.com")
    assert shown["entry"] is None
    assert [(h["action"], h["reason"], h["actor"]) for h in shown["history"]] == [
        ("added", "complaint", "alice"),
        ("removed", "complaint", "bob"),
    ]
    assert shown["history"][1]["note"] == "customer asked to resubscribe"


def test_remove_unknown_is_reported(engine):
    report = blacklist.remove(engine, ["ghost@example.com"])
    assert report.imported == 0 and report.rejected[0].reason == "not on the black list"


def test_show_unknown_address(engine):
    with pytest.raises(NotFound):
        blacklist.show(engine, "never@example.com")


def test_first_reason_stays_when_added_again(engine):
    blacklist.add(engine, ["a@example.com"], reason="hard_bounce")
    report = blacklist.add(engine, ["a@example.com"], reason="manual")
    assert report.imported == 0
    assert blacklist.list_entries(engine)[0]["reason"] == "hard_bounce"
    assert len(blacklist.show(engine, "a@example.com")["history"]) == 1


def test_export_streams_everything_in_order(engine):
    blacklist.add(engine, [f"u{i:05d}@example.com" for i in range(12_000)])
    emails = [e["email"] for e in blacklist.iter_entries(engine, batch=5000)]
    assert len(emails) == 12_000 and emails == sorted(emails)
