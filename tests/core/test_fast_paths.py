"""The import's fast paths give exactly what the full paths give: addresses, pasted lines, CSV fields as JSON."""

import csv
import io
import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sendwell import contacts
from sendwell.addresses import AddressError, full_parse, parse_address, tokens_of_line
from sendwell.model import ImportReport
from sendwell.readers import good_records, read_rows

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Mostly what the fast path accepts, with every character it must refuse or leave to the full path mixed in.
ATEXT = "abcXYZ019_!#$%&'*+-/=?^`{|}~"
ODD = '. @"()<>[]\\,;:\t\x7fé\u00a0\u200b'
ATOMS = st.lists(st.text(st.sampled_from(ATEXT), min_size=1, max_size=12), min_size=1, max_size=8).map(".".join)
LOCAL = st.one_of(
    ATOMS,
    ATOMS,
    ATOMS,
    st.builds(lambda a, odd, b: a + odd + b, ATOMS, st.sampled_from(ODD), ATOMS),
    st.text(st.sampled_from(ATEXT + "." * 4 + ODD), max_size=70),
)
LABEL = st.one_of(
    st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?", fullmatch=True),
    st.text(st.sampled_from("abcXYZ019-_" + ODD), max_size=12),
)
DOMAIN = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
TLD = st.sampled_from(["com", "ORG", "de", "test", "c", "x1", "xn--p1ai", "", "com.", "b" * 63])
ADDRESS = st.one_of(
    st.builds(lambda local, domain, tld: f"{local}@{domain}.{tld}", LOCAL, DOMAIN, TLD),
    st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN),
    st.text(max_size=40),
)


def outcome(parse, text):
    try:
        return parse(text)
    except AddressError as err:
        return str(err)


@SETTINGS
@given(ADDRESS)
def test_fast_path_agrees_with_the_full_path(text):
    full = outcome(full_parse, text)  # first: it also fills the domain cache the fast path relies on
    assert outcome(parse_address, text) == full
    assert outcome(parse_address, text.upper()) == outcome(full_parse, text.upper())


def test_fast_path_edges():
    for text in (
        "a" * 64 + "@example.com",
        "a" * 65 + "@example.com",
        "a.b@example.com",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@example.com.",
        "a@@example.com",
        "a@exa_mple.com",
        "'a'@example.com",
        "a@example.test",
        "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".com",
    ):
        assert outcome(parse_address, text) == outcome(full_parse, text), text


@SETTINGS
@given(
    st.builds(
        lambda pad, a, pad2: pad + a + pad2,
        st.sampled_from(["", " ", "\t", "'", "\ufeff", "mailto:"]),
        ADDRESS,
        st.sampled_from(["", " ", "'", ",", ")"]),
    )
)
def test_plain_list_lines_find_the_same_candidates(line):
    assume("\n" not in line and "\r" not in line and "\x00" not in line)
    data = ("first@example.com\n" + line + "\n").encode()  # line 1 makes it a plain list, whatever line 2 holds
    from_reader = [
        (r.text, r.address.key if r.address else r.error) for r in read_rows(io.BytesIO(data)) if r.line == 2
    ]
    expected = []
    for token in tokens_of_line(line):
        parsed = outcome(parse_address, token) if "@" in token else "no address found"
        expected.append((token, parsed if isinstance(parsed, str) else parsed.key))
    assert from_reader == expected


CELL = st.text(st.sampled_from('ab"\\é😀\u2028\x01 ,;\t'), max_size=6)


@SETTINGS
@given(st.lists(st.tuples(CELL, CELL, CELL), min_size=1, max_size=5), st.booleans())
def test_fields_json_is_what_json_dumps_gives(cells, same_name):
    headers = ["email", "First Name", "first_name" if same_name else "City", "plan"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for i, row in enumerate(cells):
        writer.writerow([f"u{i}@example.com", *row])
    data = out.getvalue().encode()
    dicts = [r.fields for r in read_rows(io.BytesIO(data)) if r.address]
    texts = [r[4] for r in good_records(io.BytesIO(data), "t.csv", ImportReport())]
    assert texts == [json.dumps(d, ensure_ascii=False) if d else "{}" for d in dicts]


def test_blacklisted_rows_reported_in_line_order_across_batches(engine, monkeypatch):
    from sendwell import blacklist

    blacklist.add(engine, ["b7@example.com", "b3@example.com"], reason="complaint")
    monkeypatch.setattr(contacts, "BATCH", 4)
    lines = [f"b{i}@example.com" for i in range(10)] + ["B3@Example.com"]
    report = contacts.import_contacts(engine, io.BytesIO(("\n".join(lines) + "\n").encode()))
    assert [(r.line, r.text, r.reason) for r in report.suppressed] == [
        (4, "b3@example.com", "blacklisted (complaint)"),
        (8, "b7@example.com", "blacklisted (complaint)"),
    ]
    # line 11 repeats line 4 (a batch earlier): reported once as that, its first line already suppressed
    assert [(d.line, d.first_line, d.text) for d in report.duplicates] == [(11, 4, "B3@Example.com")]
    assert report.blacklisted == 2 and report.imported == 10 and report.merged == 1


def test_repeats_in_one_batch_merge_in_line_order_and_keep_the_first_spelling(engine):
    data = b"email,a,b\nAnn@example.com,1,\nann@EXAMPLE.com,2,x\nbob@example.com,,\nANN@example.com,,y\n"
    report = contacts.import_contacts(engine, io.BytesIO(data))
    assert report.imported == 2 and report.merged == 2
    ann = contacts.get_contact(engine, "ann@example.com")
    # merge (the default): the first row's values stay, later rows fill what is still empty, in line order
    assert ann.display == "Ann@example.com" and ann.fields == {"a": "1", "b": "x"}
    assert contacts.get_contact(engine, "bob@example.com").fields == {}
    contacts.remove_contacts(engine, ["ann@example.com"])
    contacts.import_contacts(engine, io.BytesIO(data), on_duplicate="last")  # later non-empty values win
    assert contacts.get_contact(engine, "ann@example.com").fields == {"a": "2", "b": "y"}
