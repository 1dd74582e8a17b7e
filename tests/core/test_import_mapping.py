"""Imports of other tools' exports on SQLite and PostgreSQL: header names in several languages, a user's column
mapping (flag and file), `Name <addr>` cells, rows with missing or extra columns, duplicates within a file under
each policy, and `sendwell verify` reading the same CSV."""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from sendwell import contacts
from sendwell.cli.app import app
from sendwell.cli.errors import describe
from sendwell.columns import default_field, parse_mapping, resolve
from sendwell.errors import UserError


def imp(engine, data: str, **kw):
    return contacts.import_contacts(engine, io.BytesIO(data.encode()), name="people.csv", **kw)


def fields(engine, address: str) -> dict:
    return contacts.get_contact(engine, address).fields


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("Email,First name,Last name", ["email", "first_name", "last_name"]),
        ("E-Mail-Adresse;Vorname;Nachname;Firma", ["email", "first_name", "last_name", "company"]),
        ("Adresse e-mail;Prénom;Nom;Société", ["email", "first_name", "last_name", "company"]),
        ("Correo electrónico;Nombre;Apellidos", ["email", "first_name", "last_name"]),
        ("Địa chỉ email,Tên,Họ", ["email", "first_name", "last_name"]),
        ("E_MAIL,FIRSTNAME,Surname,Lieblingsfarbe", ["email", "first_name", "last_name", "lieblingsfarbe"]),
    ],
)
def test_common_header_names_fill_the_usual_fields(headers, expected):
    delimiter = ";" if ";" in headers else ","
    assert [default_field(h) for h in headers.split(delimiter)] == expected


@pytest.mark.parametrize(
    ("data", "address", "expected"),
    [
        ("E-Mail-Adresse;Vorname;Nachname\nulf@example.de;Ulf;Bär\n", "ulf@example.de", ("Ulf", "Bär")),
        ("Courriel;Prénom;Nom\nzoe@example.fr;Zoë;Dupont\n", "zoe@example.fr", ("Zoë", "Dupont")),
        ("Correo;Nombre;Apellido\ngina@example.es;Gina;López\n", "gina@example.es", ("Gina", "López")),
        ("Địa chỉ email,Tên,Họ\nan@example.vn,An,Nguyễn\n", "an@example.vn", ("An", "Nguyễn")),
    ],
)
def test_exports_in_other_languages_import_with_first_and_last_name(engine, data, address, expected):
    report = imp(engine, data)
    assert report.imported == 1 and not report.rejected and not report.warnings
    got = fields(engine, address)
    assert (got["first_name"], got["last_name"]) == expected


def test_a_mapping_names_the_columns_the_defaults_do_not_know(engine):
    data = "Kontakt;Rufname;Notiz\nann@example.com;Ann;VIP\n"
    report = imp(engine, data, mapping=parse_mapping("Kontakt=email, Rufname=first_name, Notiz=-"))
    assert report.imported == 1
    assert fields(engine, "ann@example.com") == {"first_name": "Ann"}


def test_a_mapping_overrides_a_default_name(engine):
    imp(engine, "Email,Work Email,Name\nhome@example.com,work@example.com,Ann\n", mapping={"Work Email": "email"})
    assert [r["email"] for r in contacts.list_contacts(engine)] == ["work@example.com"]


def test_a_mapping_naming_a_missing_column_says_which_and_lists_the_file_s(engine):
    with pytest.raises(UserError, match=r"no column 'Vorname' in the file \(its columns: Email, Prénom\)") as err:
        imp(engine, "Email,Prénom\nann@example.com,Ann\n", mapping={"Vorname": "first_name"})
    assert err.value.field == "map"
    with pytest.raises(UserError, match="is not COLUMN=FIELD"):
        parse_mapping("E-Mail=email,Vorname")
    with pytest.raises(UserError, match="two columns are mapped to email"):
        resolve(["a", "b"], {"a": "email", "b": "email"})


def test_name_and_address_in_one_cell_fill_the_empty_name_fields(engine):
    data = (
        "email,first_name,last_name,city\n"
        "Gina Lopez <gina@example.es>,,,Madrid\n"
        '"Smith, John" <John@Example.com>,,,Leeds\n'
        "Ann Lee <ann@example.com>,Annie,,Paris\n"
        "Bad Name <not-an-address>,,,X\n"
    )
    report = imp(engine, data)
    assert report.imported == 3
    assert [(r.line, r.text) for r in report.rejected] == [(5, "not-an-address")]
    assert fields(engine, "gina@example.es") == {"first_name": "Gina", "last_name": "Lopez", "city": "Madrid"}
    assert fields(engine, "john@example.com") == {"first_name": "John", "last_name": "Smith", "city": "Leeds"}
    # a name the row gives wins over the cell's
    assert fields(engine, "ann@example.com") == {"first_name": "Annie", "last_name": "Lee", "city": "Paris"}
    assert contacts.get_contact(engine, "gina@example.es").display == "gina@example.es"


def test_missing_and_extra_trailing_columns_are_kept_with_a_warning_naming_the_line(engine):
    data = "email,first_name,city\nann@example.com,Ann\nbob@example.com,Bob,Rome,extra,more\ncy@example.com,Cy,Oslo\n"
    report = imp(engine, data)
    assert report.imported == 3 and not report.rejected
    assert [(w.line, w.reason) for w in report.warnings] == [
        (2, "2 fields where the header has 3: the last 1 left empty"),
        (3, "5 fields where the header has 3: the last 2 ignored"),
    ]
    assert fields(engine, "bob@example.com") == {"first_name": "Bob", "city": "Rome"}


DUPLICATES = (
    "email,first_name,last_name,city\n"
    "ann@example.com,Ann,,Paris\n"  # line 2
    "bob@example.com,Bob,Brown,\n"
    "ANN@example.com,Annie,Lee,\n"  # line 4: repeats line 2
    "ann@example.com,,,Lyon\n"  # line 5: repeats line 2
)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("merge", {"first_name": "Ann", "last_name": "Lee", "city": "Paris"}),
        ("first", {"first_name": "Ann", "city": "Paris"}),
        ("last", {"first_name": "Annie", "last_name": "Lee", "city": "Lyon"}),
    ],
)
def test_duplicates_within_a_file_follow_the_policy_and_are_reported_with_both_lines(engine, policy, expected):
    report = imp(engine, DUPLICATES, on_duplicate=policy)
    assert [(d.line, d.first_line, d.text) for d in report.duplicates] == [
        (4, 2, "ANN@example.com"),
        (5, 2, "ann@example.com"),
    ]
    assert fields(engine, "ann@example.com") == expected
    assert contacts.count(engine) == 2


def test_duplicates_across_batches_are_found(engine, monkeypatch):
    monkeypatch.setattr(contacts, "BATCH", 3)
    rows = "".join(f"u{i}@example.com,{i}\n" for i in range(7))
    report = imp(engine, "email,n\n" + rows + "u1@example.com,again\nu6@example.com,again\n")
    assert [(d.line, d.first_line) for d in report.duplicates] == [(9, 3), (10, 8)]
    assert fields(engine, "u1@example.com") == {"n": "1"}


def test_an_unknown_policy_names_the_field(engine):
    with pytest.raises(UserError, match="'newest' is not one of first, last, merge") as err:
        imp(engine, "email\nann@example.com\n", on_duplicate="newest")
    assert err.value.field == "on_duplicate"


@pytest.fixture
def cli(db_url):
    runner = CliRunner()

    def _invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, ["--database", db_url, *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return _invoke


def test_cli_import_with_map_flag_map_file_and_policy(cli, tmp_path, engine):
    f = tmp_path / "export.csv"
    f.write_text("Kontakt;Rufname;Notiz\nann@example.com;Ann;a\nann@example.com;Annie;b\nbob@example.com;Bob\n")
    r = cli(
        "contacts", "import", str(f), "--map", "Kontakt=email,Rufname=first_name", "--on-duplicate", "last", "--json"
    )
    out = json.loads(r.stdout)
    assert out["duplicates"] == [{"line": 3, "first_line": 2, "text": "ann@example.com"}]
    assert out["warnings"] == [
        {"line": 4, "text": "bob@example.com;Bob", "reason": "2 fields where the header has 3: the last 1 left empty"}
    ]
    assert fields(engine, "ann@example.com") == {"first_name": "Annie", "notiz": "b"}

    mapfile = tmp_path / "map.txt"
    mapfile.write_text("# columns of the shop's export\nKontakt = email\nNotiz = -\nRufname=first_name\n")
    g = tmp_path / "export2.csv"
    g.write_text("Kontakt;Rufname;Notiz\ncy@example.com;Cy;secret\n")
    r = cli("contacts", "import", str(g), "--map-file", str(mapfile))
    assert "1 contact(s) imported" in r.stdout
    assert fields(engine, "cy@example.com") == {"first_name": "Cy"}

    r = cli("contacts", "import", str(g), "--map", "Vorname=first_name", ok=False)
    assert isinstance(r.exception, UserError)
    assert describe(r.exception).startswith("--map: no column 'Vorname' in the file")


def test_cli_import_prints_warnings_and_duplicates_with_line_numbers(cli, tmp_path):
    f = tmp_path / "people.csv"
    f.write_text("email,first_name\nann@example.com,Ann,extra\nann@example.com,Annie\n")
    r = cli("contacts", "import", str(f))
    assert "line 2: 3 fields where the header has 2" in r.output
    assert "line 3: ann@example.com repeats line 2" in r.output


def test_verify_file_reads_the_csv_contacts_import_reads(cli, tmp_path):
    f = tmp_path / "people.csv"
    f.write_text(
        "Vorname;E-Mail-Adresse;Ort\n"
        "Ann;ann@example.com;Köln\n"
        "Gina;Gina Lopez <gina@gmial.com>;Madrid\n"
        "Bob;broken@;Rom\n"
        "Cy;postmaster@example.org\n"
    )
    out = json.loads(cli("verify", str(f), "--offline", "--json").stdout)
    assert [(o["address"], o["verdict"]) for o in out] == [
        ("ann@example.com", "valid"),
        ("gina@gmial.com", "risky"),
        ("broken@", "invalid"),
        ("postmaster@example.org", "risky"),
    ]
    assert out[1]["suggestion"] == "gina@gmail.com"
    r = cli("contacts", "import", str(f), "--json")
    assert json.loads(r.stdout)["imported"] == 3  # the same rows, the same reading
    g = tmp_path / "odd.csv"
    g.write_text("Wer,Kontakt\nAnn,ann@example.com\n")
    out = json.loads(cli("verify", str(g), "--offline", "--json", "--map", "Kontakt=email").stdout)
    assert [o["address"] for o in out] == ["ann@example.com"]
