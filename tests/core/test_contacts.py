"""Contact import on SQLite and PostgreSQL: merging, reporting, black-list awareness."""

import io

from sendwell import blacklist, contacts


def imp(engine, data: bytes):
    return contacts.import_contacts(engine, io.BytesIO(data), name="test.csv")


def test_messy_csv_imports_good_rows_and_reports_bad_ones(engine):
    report = imp(
        engine,
        b"Email;First Name;City\n"
        b"ann@example.com;Ann;Paris\n"
        b"broken@;B;X\n"
        b"ANN@example.com;;Lyon\n"
        b"bob@example.org;Bob\n"
        b"cy@example.net;Cy;Rome\n",
    )
    assert report.read == 5
    assert [(r.line, r.text) for r in report.rejected] == [(3, "broken@")]
    assert [(w.line, w.reason) for w in report.warnings] == [
        (5, "2 fields where the header has 3: the last 1 left empty")
    ]
    assert [(d.line, d.first_line) for d in report.duplicates] == [(4, 2)]
    assert report.imported == 3 and report.merged == 1
    ann = contacts.get_contact(engine, "Ann@Example.com")
    # the duplicate merged: the earlier row's values stay, the later one fills nothing empty
    assert ann.fields == {"first_name": "Ann", "city": "Paris"}
    assert contacts.count(engine) == 3


def test_reimport_merges_fields_without_duplicates(engine):
    imp(engine, b"email,plan\nann@example.com,free\n")
    report = imp(engine, b"email,name\nann@example.com,Ann\nnew@example.com,New\n")
    assert report.imported == 1 and report.merged == 1
    assert contacts.get_contact(engine, "ann@example.com").fields == {"plan": "free", "name": "Ann"}
    assert contacts.count(engine) == 2


def test_import_never_lifts_a_blacklist_entry(engine):
    blacklist.add(engine, ["dead@example.com"], reason="hard_bounce")
    report = imp(engine, b"ok@example.com\ndead@example.com\n")
    assert report.blacklisted == 1
    assert [(r.line, r.text) for r in report.suppressed] == [(2, "dead@example.com")]
    assert blacklist.is_blacklisted(engine, "DEAD@example.com")


def test_pasted_list_import(engine):
    report = imp(engine, b"Ann <ann@example.com>, bob@example.com; cy@example.com\nnot an address\n")
    assert report.imported == 3
    assert [(r.line, r.reason) for r in report.rejected] == [(2, "no address found")]
    rows = contacts.list_contacts(engine)
    assert [r["display"] for r in rows] == ["ann@example.com", "bob@example.com", "cy@example.com"]


def test_large_import_crosses_batches(engine):
    lines = b"email,n\n" + b"".join(b"user%d@example.com,%d\n" % (i, i) for i in range(45_000))
    report = imp(engine, lines)
    assert report.imported == 45_000 and not report.rejected
    assert contacts.count(engine) == 45_000
    assert sum(1 for _ in contacts.iter_contacts(engine, batch=10_000)) == 45_000


def test_remove_contacts(engine):
    imp(engine, b"a@example.com\nb@example.com\n")
    assert contacts.remove_contacts(engine, ["A@example.com"]) == 1
    assert [r["email"] for r in contacts.list_contacts(engine)] == ["b@example.com"]
