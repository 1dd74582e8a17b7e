"""The streaming reader: CSV dialects and encodings, pasted lists, exact line numbers for bad rows."""

import codecs
import io

import pytest

from sendwell.errors import UserError
from sendwell.readers import read_rows


def rows(data: bytes):
    return list(read_rows(io.BytesIO(data)))


def good(data: bytes):
    return [r.address.key for r in rows(data) if r.address]


def bad(data: bytes):
    return [(r.line, r.text) for r in rows(data) if r.address is None]


def test_excel_semicolon_csv_with_bom_and_cp1252():
    data = codecs.BOM_UTF8 + "E-mail;Prénom\r\nann@example.com;Zoë\r\n".encode()
    [row] = rows(data)
    assert row.address.key == "ann@example.com" and row.fields == {
        "first_name": "Zoë"
    }  # a French export: Prénom is the first name
    latin = "email;name\r\nbob@example.com;Jos\xe9\r\n".encode("cp1252")
    [row] = rows(latin)
    assert row.fields == {"name": "José"}


def test_utf16_tab_separated_from_excel_unicode_text():
    data = "email\tcity\nann@example.com\tKöln\n".encode("utf-16")
    [row] = rows(data)
    assert row.address.key == "ann@example.com" and row.fields == {"city": "Köln"}


def test_csv_bad_rows_reported_with_their_line_and_good_rows_kept():
    data = (
        b"email,first_name,plan\n"
        b"a@example.com,Ann,pro\n"
        b"not-an-address,Bob,free\n"
        b"c@example.com,Cy\n"
        b",Nobody,free\n"
        b'"d@example.com","multi\nline",pro\n'
        b"e@@example.com,E,free\n"
        b"f@example.com,F,free,,\n"
    )
    assert good(data) == ["a@example.com", "c@example.com", "d@example.com", "f@example.com"]
    found = {r.line: r.error for r in rows(data) if r.address is None}
    assert set(found) == {3, 5, 8}
    assert found[5] == "empty email field"


def test_pasted_text_with_names_and_mixed_separators():
    data = (
        b'"Smith, John" <John.Smith@Example.com>, jane@example.org; bob@example.net\n'
        b"Carol\tcarol@example.com\n"
        b"\n"
        b"mailto:dave@example.com eve@example.com\n"
        b"just some words\n"
    )
    assert good(data) == [
        "john.smith@example.com",
        "jane@example.org",
        "bob@example.net",
        "carol@example.com",
        "dave@example.com",
        "eve@example.com",
    ]
    assert bad(data) == [(5, "just some words")]


def test_display_spelling_kept_and_key_case_insensitive():
    [row] = rows(b"Ann.Lee@Example.COM\n")
    assert row.address.display == "Ann.Lee@Example.COM"
    assert row.address.key == "ann.lee@example.com"


def test_idn_domain_is_encoded():
    [row] = rows("user@bücher.de\n".encode())
    assert row.address.domain == "xn--bcher-kva.de"


def test_binary_file_refused_with_a_message():
    with pytest.raises(UserError, match="binary"):
        rows(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))


def test_blank_lines_before_header_keep_line_numbers_right():
    data = b"\n\nemail\nok@example.com\nnope\n"
    assert bad(data) == [(5, "nope")]
