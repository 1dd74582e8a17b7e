"""The CSV/list reader on hostile input: any bytes, any separators, quotes, BOMs and encodings.

Whatever the file, the reader yields rows that each carry an address or an error message for a
person, or refuses the whole file with a UserError naming it; it never raises anything else.
"""

from __future__ import annotations

import codecs
import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendwell.addresses import parse_address
from sendwell.errors import UserError
from sendwell.readers import Row, read_rows

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_all(data: bytes) -> list[Row] | UserError:
    try:
        return list(read_rows(io.BytesIO(data), "input.csv"))
    except UserError as err:
        assert "input.csv" in str(err)  # the message names the file
        return err


def check_rows(result: list[Row] | UserError) -> None:
    if isinstance(result, UserError):
        return
    last = 0
    for row in result:
        assert (row.address is None) != (row.error is None), row  # an address, or a reason: never both
        if row.error is not None:
            assert row.error.strip() and "Traceback" not in row.error
        else:
            assert parse_address(row.address.key).key == row.address.key
        assert row.line >= 1 and row.line >= last  # line numbers point into the file, in order
        last = row.line


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_give_rows_or_a_user_error(data):
    check_rows(read_all(data))


CELL = st.lists(
    st.sampled_from(
        list("abcxyz@.-_+ 09é\u00a0,;\t|\"'\r\n\ufeff<>\u2028\x85") + ["ann@example.com", "Zoë", '"quoted, name"']
    ),
    max_size=12,
).map("".join)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]


@FUZZ
@given(
    header=st.lists(
        st.sampled_from(["email", "E-mail", "name", "First Name", "mail", "note", "", "\ufeffemail"]),
        min_size=1,
        max_size=4,
    ),
    rows=st.lists(st.lists(CELL, max_size=5), max_size=12),
    sep=st.sampled_from([",", ";", "\t", "|", " "]),
    newline=st.sampled_from(["\r\n", "\n", "\r"]),
    encoding=st.sampled_from(ENCODINGS),
    bom=st.booleans(),
)
def test_any_text_in_any_encoding_gives_rows_or_a_user_error(header, rows, sep, newline, encoding, bom):
    text = newline.join(sep.join(r) for r in [header, *rows]) + newline
    data = text.encode(encoding, "replace")
    if bom and encoding in ("utf-8", "utf-16-le"):
        data = (codecs.BOM_UTF8 if encoding == "utf-8" else codecs.BOM_UTF16_LE) + data
    check_rows(read_all(data))


ADDRESS = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}[a-z0-9]", fullmatch=True).filter(lambda s: ".." not in s),
    st.sampled_from(["example.com", "exämple.org", "mail.example.net", "EXAMPLE.ORG"]),
)
VALUE = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20)


@FUZZ
@given(
    records=st.lists(st.tuples(ADDRESS, VALUE, VALUE), min_size=1, max_size=15),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_csv_written_by_the_csv_module_reads_back_exactly(records, encoding, delimiter):
    """Quotes, separators and line breaks inside cells survive: every address and field comes back."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["email", "name", "note"])
    writer.writerows(records)
    got = read_all(out.getvalue().encode(encoding))
    assert not isinstance(got, UserError), got
    assert [r.error for r in got if r.error] == []
    assert [r.address.key for r in got] == [parse_address(a).key for a, _, _ in records]
    for row, (_, name, note) in zip(got, records, strict=True):
        want = {k: v.strip() for k, v in (("name", name), ("note", note)) if v.strip()}
        assert row.fields == want


@FUZZ
@given(
    st.lists(st.one_of(ADDRESS, st.text(max_size=25)), max_size=20),
    st.sampled_from([", ", "; ", "\n", " ", "\t", "\r\n"]),
)
def test_pasted_lists_keep_every_address(items, sep):
    text = sep.join(items)
    got = read_all(text.encode("utf-8", "surrogatepass"))
    check_rows(got)


def test_utf16_without_bom_and_a_nul_looking_file():
    data = "email\r\nann@example.com\r\n".encode("utf-16-le")
    assert [r.address.key for r in read_all(data)] == ["ann@example.com"]
    assert isinstance(read_all(b"\x00\x01\x02binary\x00" * 50), UserError)
