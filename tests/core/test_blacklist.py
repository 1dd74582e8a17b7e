"""The black list keeps every decision explainable and reversible."""

import io

import pytest

from sendwell import blacklist
from sendwell.errors import NotFound, UserError


def test_add_reports_bad_addresses_and_keeps_good_ones(engine):
    report = blacklist.add(engine, ["a@example.com", "nope", "B@Example.com", "a@example.com"], note="typed")
    assert report.imported == 2 and report.merged == 1
    assert [(r.line, r.text) for r in report.rejected] == [(2, "nope")]
    assert blacklist.is_blacklisted(engine, "b@example.com")


def test_import_of_an_exported_error_csv(engine):
    data = b"email,status,smtp_code,smtp_answer\nx@example.com,error,550,5.1.1 no such user\ny@example.com,error,550,\n"
    report = blacklist.import_file(engine, io.BytesIO(data), name="errors.csv", reason="hard_bounce")
    assert report.imported == 2
    entry = blacklist.show(engine, "x@example.com").entry
    assert entry.reason == "hard_bounce" and entry.source == "import:errors.csv"


def test_remove_keeps_history_with_who_and_why(engine):
    blacklist.add(engine, ["a@example.com"], reason="complaint", actor="alice")
    blacklist.remove(engine, ["a@example.com"], note="customer asked to resubscribe", actor="bob")
    assert not blacklist.is_blacklisted(engine, "a@example.com")
    shown = blacklist.show(engine, "a@example.com")
    assert shown.entry is None
    assert [(h.action, h.reason, h.actor) for h in shown.history] == [
        ("added", "complaint", "alice"),
        ("removed", "complaint", "bob"),
    ]
    assert shown.history[1].note == "customer asked to resubscribe"


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
    assert blacklist.list_entries(engine)[0].reason == "hard_bounce"
    assert len(blacklist.show(engine, "a@example.com").history) == 1


def test_export_streams_everything_in_order(engine):
    blacklist.add(engine, [f"u{i:05d}@example.com" for i in range(12_000)])
    emails = [e.email for e in blacklist.iter_entries(engine, batch=5000)]
    assert len(emails) == 12_000 and emails == sorted(emails)


REASONS = "choose from manual, hard_bounce, soft_bounce, complaint, unsubscribe, invalid"


@pytest.mark.parametrize(
    "call",
    [
        lambda e: blacklist.add(e, ["a@example.com"], reason="hardbounce"),
        lambda e: blacklist.import_file(e, io.BytesIO(b"a@example.com\nb@example.com\n"), reason="hardbounce"),
        lambda e: blacklist.import_file(e, io.BytesIO(b"email\na@example.com\n"), name="e.csv", reason="hardbounce"),
        lambda e: blacklist.add_from_campaign(e, 1, "error", reason="hardbounce"),
    ],
    ids=["add", "import pasted", "import file", "from campaign"],
)
def test_a_bad_reason_is_refused_the_same_way_everywhere_before_anything_is_written(engine, call):
    with pytest.raises(UserError) as err:
        call(engine)
    assert str(err.value) == f"reason: 'hardbounce' is not a reason; {REASONS}" and err.value.field == "reason"
    assert blacklist.count(engine) == 0
    with pytest.raises(NotFound, match="never was"):  # no entry, no history row
        blacklist.show(engine, "a@example.com")


def test_an_import_never_reads_a_stream_when_the_reason_is_bad(engine):
    stream = io.BytesIO(b"a@example.com\n")
    with pytest.raises(UserError, match="not a reason"):
        blacklist.import_file(engine, stream, reason="spam")
    assert stream.tell() == 0


def test_a_reason_is_read_forgivingly_and_filters_alike(engine):
    report = blacklist.import_file(engine, io.BytesIO(b"a@example.com\nb@example.com\n"), reason=" Complaint ")
    assert report.imported == 2 and blacklist.show(engine, "a@example.com").entry.reason == "complaint"
    assert blacklist.count(engine, "complaint") == 2 and len(blacklist.list_entries(engine, reason="COMPLAINT")) == 2
    with pytest.raises(UserError, match="^reason: 'complain' is not a reason"):
        blacklist.count(engine, "complain")  # a filter with a typo is an error, not "0 entries"
