"""An export imported again gives back what was exported, on SQLite and PostgreSQL: the quote that keeps a
cell from running in a spreadsheet comes off on import, so `-joe@example.com` is never read as the different
(and valid) address `'-joe@example.com`, and fields do not gain a quote per round trip."""

import io

from sqlalchemy import update

from sendwell import blacklist, contacts, csvfile, exports, segments
from sendwell.db.schema import contacts as contacts_table

ODD = ["-joe@example.com", "=x@example.com", "+tag@example.com", "ann@example.com"]


def _csv(export: exports.Export) -> io.BytesIO:
    out = io.StringIO(newline="")
    csvfile.write(export.rows, export.columns, out)
    return io.BytesIO(out.getvalue().encode())


def test_blacklist_export_imports_back_to_the_same_addresses(engine):
    assert blacklist.add(engine, ODD, reason="manual").imported == 4
    exported = _csv(exports.blacklist(engine))
    assert b"'-joe@example.com" in exported.getvalue()
    blacklist.remove(engine, ODD)
    assert blacklist.count(engine) == 0
    report = blacklist.import_file(engine, exported, name="blacklist.csv")
    assert report.imported == 4 and not report.rejected
    assert {e.email for e in blacklist.iter_entries(engine)} == set(ODD)


def test_segment_export_imports_back_to_the_same_members(engine):
    segments.create(engine, "odd", "")
    segments.add(engine, "odd", ODD)
    exported = _csv(exports.segment(engine, "odd"))
    segments.create(engine, "again", "")
    assert segments.import_members(engine, "again", exported, source_name="odd.csv").imported == 4
    assert {m.email for m in segments.iter_members(engine, "again")} == set(ODD)


def test_contacts_export_imports_back_with_the_same_fields(engine):
    fields = {"score": "-5", "formula": "=SUM(1)", "phone": "+33 1 23 45 67 89", "quoted": "x"}
    src = "email," + ",".join(fields) + "\n" + "".join(f"{a}," + ",".join(fields.values()) + "\n" for a in ODD)
    assert contacts.import_contacts(engine, io.BytesIO(src.encode()), name="in.csv").imported == 4
    fields["quoted"] = "'=typed with its quote"  # stored so (a CSV import would read the quote as ours)
    with engine.begin() as conn:
        conn.execute(update(contacts_table).values(fields=fields))
    for _ in range(2):  # twice: nothing accumulates
        exported = _csv(exports.contacts(engine))
        assert b"''=typed with its quote" in exported.getvalue()
        contacts.remove_contacts(engine, ODD)
        assert contacts.import_contacts(engine, exported, name="contacts.csv").imported == 4
        assert {c["email"]: c["fields"] for c in contacts.iter_contacts(engine)} == {a: fields for a in ODD}


def test_a_hand_made_csv_quote_before_a_formula_character_is_read_as_ours(engine):
    src = b"email,note\n'-joe@example.com,'=1+1\n"
    assert contacts.import_contacts(engine, io.BytesIO(src), name="in.csv").imported == 1
    assert contacts.get_contact(engine, "-joe@example.com").fields == {"note": "=1+1"}
