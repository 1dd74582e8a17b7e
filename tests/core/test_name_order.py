"""A `Name <address>` cell fills first and last name in the installation's name order: given name first (Gina
Lopez) or family name first (Nguyễn Văn An: first_name An, last_name Nguyễn Văn), chosen by [contacts]
name_order or, unset, by [web] language; on SQLite and PostgreSQL, and through the CLI as a user runs it."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from sendwell import contacts
from sendwell.addresses import NameOrder, name_parts
from sendwell.cli.app import app
from sendwell.config import ConfigError, ContactSettings, Settings, WebSettings, load_settings

GIVEN, FAMILY = NameOrder.GIVEN_FIRST, NameOrder.FAMILY_FIRST


@pytest.mark.parametrize(
    ("name", "order", "expected"),
    [
        ("Gina Maria Lopez", GIVEN, ("Gina Maria", "Lopez")),
        ("Nguyễn Văn An", FAMILY, ("An", "Nguyễn Văn")),
        ("Trần Thị Thu Hà", FAMILY, ("Hà", "Trần Thị Thu")),
        ("Lê  Minh", FAMILY, ("Minh", "Lê")),
        ("Nguyễn Văn An", GIVEN, ("Nguyễn Văn", "An")),  # the Western split, kept for given-first installations
        ("Lopez, Gina", FAMILY, ("Gina", "Lopez")),  # a comma says which is which, in either order
        ("Nguyễn, An", GIVEN, ("An", "Nguyễn")),
        ("An", FAMILY, ("An", "")),
        ("Gina", GIVEN, ("Gina", "")),
        ("  ", FAMILY, ("", "")),
    ],
)
def test_name_parts_in_either_order(name, order, expected):
    assert name_parts(name, order) == expected


def test_the_order_follows_the_setting_else_the_installation_s_language():
    assert contacts.name_order_of(Settings()) is GIVEN
    vi = replace(Settings(), web=replace(WebSettings(), language="vi"))
    assert contacts.name_order_of(vi) is FAMILY
    given = replace(vi, contacts=ContactSettings(name_order="given-first"))
    assert contacts.name_order_of(given) is GIVEN
    assert contacts.name_order_of(replace(Settings(), contacts=ContactSettings("family-first"))) is FAMILY
    with pytest.raises(ConfigError, match=r"\[contacts\] name_order: 'surname-first'"):
        load_settings(env={"SENDWELL_CONTACTS_NAME_ORDER": "surname-first"})


CSV = "email,first_name,last_name,city\nNguyễn Văn An <an@example.vn>,,,Huế\nGina Lopez <gina@example.es>,,,Madrid\n"


@pytest.mark.parametrize(
    ("order", "an", "gina"),
    [
        # One order for the whole installation, decided by no list of surnames: a Western name in a family-first
        # installation is read family first too (docs/contacts.md says so, and how to set the order).
        (FAMILY, ("An", "Nguyễn Văn"), ("Lopez", "Gina")),
        (GIVEN, ("Nguyễn Văn", "An"), ("Gina", "Lopez")),
    ],
)
def test_import_splits_name_cells_in_the_order_given(engine, order, an, gina):
    report = contacts.import_contacts(engine, io.BytesIO(CSV.encode()), name="people.csv", name_order=order)
    assert report.imported == 2
    for address, (first, last), city in (("an@example.vn", an, "Huế"), ("gina@example.es", gina, "Madrid")):
        got = contacts.get_contact(engine, address).fields
        assert (got["first_name"], got["last_name"], got["city"]) == (first, last, city)


def test_cli_import_of_a_vietnamese_installation_reads_family_name_first(db_url, engine, tmp_path):
    f = tmp_path / "khach-hang.csv"
    f.write_text("Địa chỉ email\nNguyễn Văn An <an@example.vn>\n", encoding="utf-8")
    runner = CliRunner()
    for env, expected in (
        ({"SENDWELL_WEB_LANGUAGE": "vi"}, ("An", "Nguyễn Văn")),
        ({"SENDWELL_WEB_LANGUAGE": "vi", "SENDWELL_CONTACTS_NAME_ORDER": "given-first"}, ("Nguyễn Văn", "An")),
    ):
        contacts.remove_contacts(engine, ["an@example.vn"])  # each run imports it afresh
        r = runner.invoke(app, ["--database", db_url, "contacts", "import", str(f)], env=env)
        assert r.exit_code == 0, r.output
        got = contacts.get_contact(engine, "an@example.vn").fields
        assert (got["first_name"], got["last_name"]) == expected
