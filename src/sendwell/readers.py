"""Read address lists from files or pasted text: CSV with an address column (columns.py says which field each
column fills), or plain lists.

Streams: the input is decoded incrementally and rows are yielded one by one, so memory stays flat
whatever the file size. Encoding and delimiter are sniffed from the first 64 KiB.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from json import JSONEncoder
from json.encoder import encode_basestring as _json_string  # the C string encoder json.dumps uses
from typing import IO, Any, NamedTuple

from sendwell.addresses import (
    FAST_ADDRESS,
    MAX_ADDRESS_OCTETS,
    AddressError,
    NameOrder,
    known_domain,
    name_parts,
    parse_address,
    split_named,
    tokens_of_line,
)
from sendwell.columns import EMAIL, Columns, default_field, resolve
from sendwell.csvfile import restore
from sendwell.model import Address, ImportReport, Rejected

SAMPLE_BYTES = 64 * 1024
csv.field_size_limit(1 << 20)
_to_json = JSONEncoder(ensure_ascii=False).encode


class Row(NamedTuple):
    """One candidate: a parsed address with its fields, or the reason it was refused."""

    line: int
    text: str
    address: Address | None
    fields: dict[str, str] | None = None
    error: str | None = None


class _Counting(io.RawIOBase):
    """Counts bytes read, so a progress bar can follow a stream of unknown rows."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None] | None) -> None:
        self._raw, self._on_read, self.count = raw, on_read, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # memoryview from io
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self._on_read and n:
            self._on_read(n)
        return n


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(sample) >= 4 and sample[1:4:2] == b"\x00\x00" and sample[0:3:2] != b"\x00\x00":
        return "utf-16-le"  # UTF-16 without BOM (Excel "Unicode text")
    try:
        # final=False: a character cut at the sample's end is not an error
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"  # Excel's default on Western Windows; every byte decodes


def _sniff_delimiter(first_line: str) -> str | None:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else None


Warn = Callable[[int, str, str], None]
"""(line, text, message): a row kept with a remark (a missing or extra trailing column)."""
ColumnMap = Mapping[str, str]
"""{header as the file spells it: field}, the user's mapping (columns.parse_mapping)."""


def table_header(first: str, mapping: ColumnMap | None = None) -> tuple[str, list[str], Columns] | None:
    """(delimiter, headers, columns) when `first` is a CSV header with an address column, else None: the file
    is a plain list. A mapping makes the first line a header whatever it holds (and may raise UserError)."""
    delimiter = _sniff_delimiter(first)
    if delimiter is None and (mapping or default_field(first) == EMAIL):
        delimiter = ","  # a one-column CSV: just an "email" header
    if not delimiter:
        return None
    headers = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter), [])
    cols = resolve(headers, mapping)
    if cols.email is None or "@" in headers[cols.email]:
        return None
    return delimiter, headers, cols


def sample_rows(sample: bytes, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    """The header and the first `rows` rows of a file's first bytes, split as CSV (for a mapping preview)."""
    text = sample.decode(detect_encoding(sample), errors="replace").lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()][: rows + 1]
    if not lines:
        return [], []
    delimiter = _sniff_delimiter(lines[0]) or ","
    parsed = list(csv.reader(lines, delimiter=delimiter))
    return parsed[0], parsed[1:]


def is_table(sample: bytes, mapping: ColumnMap | None = None) -> bool:
    """Whether a file starting with `sample` is read as a CSV with an address column (not a plain list)."""
    text = sample.decode(detect_encoding(sample), errors="replace").lstrip("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    return bool(first) and table_header(first, mapping) is not None


Record = tuple[int, str | None, str, str, Any]
"""(line, key, text, domain, extra): a good row has its address key and the ASCII domain, `text` is the spelling
as given and `extra` its fields (a JSON object's text, or a dict); a rejected row has key None and the reason in
`extra`. Good rows are exactly the staging table's tuples (bulk.STAGE_COLUMNS), so an import of a million rows
builds one tuple per row and nothing else."""


def read_rows(
    stream: IO[bytes],
    name: str = "<input>",
    on_read: Callable[[int], None] | None = None,
    *,
    mapping: ColumnMap | None = None,
    warn: Warn | None = None,
    name_order: NameOrder = NameOrder.GIVEN_FIRST,
) -> Iterator[Row]:
    """Yield every candidate address of a CSV file or a plain/pasted list."""
    records = _records(stream, name, on_read, as_json=False, mapping=mapping, warn=warn, name_order=name_order)
    for line, key, shown, domain, extra in records:
        if key is None:
            yield Row(line, shown, None, error=extra)
        else:
            yield Row(line, shown, Address(key, shown, domain), extra)


def _records(
    stream: IO[bytes],
    name: str,
    on_read: Callable[[int], None] | None,
    *,
    as_json: bool | None,
    mapping: ColumnMap | None = None,
    warn: Warn | None = None,
    name_order: NameOrder = NameOrder.GIVEN_FIRST,
) -> Iterator[Record]:
    """Every candidate as a Record; fields as dicts, as JSON text (`as_json`), or not at all ("", as_json None).
    `name_order` splits the name of a `Name <address>` cell into first and last name."""
    counting = _Counting(stream, on_read)
    buffered = io.BufferedReader(counting, buffer_size=SAMPLE_BYTES)
    sample = buffered.peek(SAMPLE_BYTES)[:SAMPLE_BYTES]
    if b"\x00" in sample[:4096] and detect_encoding(sample) not in ("utf-16", "utf-16-le"):
        from sendwell.errors import UserError

        raise UserError(f"{name}: looks like a binary file, not CSV or text")
    text = io.TextIOWrapper(buffered, encoding=detect_encoding(sample), errors="replace", newline="")
    first, offset = text.readline(), 0
    while first and not first.strip():
        first, offset = text.readline(), offset + 1
    if not first:
        return
    header = table_header(first, mapping)
    if header is not None:
        delimiter, headers, cols = header
        yield from _csv_records(text, headers, cols, delimiter, offset, as_json, warn or _no_warning, name_order)
        return
    yield from _list_records(first, text, offset, as_json)


def _no_warning(line: int, text: str, message: str) -> None:
    pass


def _fields_encoder(names: list[str], others: list[int], as_json: bool | None) -> Callable[[list[str]], Any]:
    """values -> the non-empty other cells by field name: a dict, or the text `json.dumps(dict)` would give."""
    if as_json is None:
        return lambda values: ""
    if not as_json:
        return lambda values: {
            name: v if v[0] != "'" else restore(v)
            for i, name in zip(others, names, strict=True)
            if (v := values[i].strip())
        }
    if not others:
        return lambda values: "{}"
    if len(set(names)) < len(names):  # two headers with one field name: the dict decides which value stays
        by_dict = _fields_encoder(names, others, False)
        return lambda values: _to_json(d) if (d := by_dict(values)) else "{}"
    # The same text as json.dumps(..., ensure_ascii=False) without a dict and an encoder run per row.
    prefixes = [(i, _json_string(name) + ": ") for i, name in zip(others, names, strict=True)]

    def encode(values: list[str]) -> str:
        parts = [
            prefix + _json_string(v if v[0] != "'" else restore(v))
            for i, prefix in prefixes
            if (v := values[i].strip())
        ]
        return "{" + ", ".join(parts) + "}" if parts else "{}"

    return encode


def _csv_records(
    text: IO[str],
    headers: list[str],
    cols: Columns,
    delimiter: str,
    offset: int,
    as_json: bool | None,
    warn: Warn,
    name_order: NameOrder = NameOrder.GIVEN_FIRST,
) -> Iterator[Record]:
    column = cols.email
    assert column is not None
    others = [i for i, f in enumerate(cols.fields) if f is not None]
    names = [cols.fields[i] or "" for i in others]
    fields_of = _fields_encoder(names, others, as_json)
    named_fields = _fields_encoder(names, others, False)
    reader = csv.reader(text, delimiter=delimiter)
    width = len(headers)
    fast, known = FAST_ADDRESS.match, known_domain  # parse_address's own fast path, inlined: the per-row cost
    line = offset + 1  # the header's line; it was read outside the reader
    for values in reader:
        start, line = line + 1, offset + 1 + reader.line_num
        if len(values) != width:
            if not values or not any(v.strip() for v in values):
                continue
            while len(values) > width and not values[-1].strip():
                values.pop()  # trailing empty cells (a spreadsheet's extra delimiters) are harmless
            if len(values) > width:
                warn(start, delimiter.join(values), f"{len(values)} fields where the header has {width}: "
                     f"the last {len(values) - width} ignored")  # fmt: skip
                del values[width:]
            elif len(values) < width:
                warn(start, delimiter.join(values), f"{len(values)} fields where the header has {width}: "
                     f"the last {width - len(values)} left empty")  # fmt: skip
                values.extend([""] * (width - len(values)))
        raw = values[column].strip()
        if raw[:1] == "'":  # a cell our exports kept from running as a formula ('-joe@…): read as it was
            raw = restore(raw)
        if not raw:
            if any(v.strip() for v in values):
                yield start, None, delimiter.join(values), "", "empty email field"
            continue
        match = fast(raw)
        if match is not None and (domain := known(match[2])) is not None:
            key = f"{match[1].lower()}@{domain}"
            if len(key) <= MAX_ADDRESS_OCTETS:
                yield start, key, raw, domain, fields_of(values)
                continue
        named = split_named(raw) if "<" in raw else None
        if named is not None:
            yield _named_record(start, named, named_fields(values), as_json, name_order)
            continue
        try:
            key, _, domain = parse_address(raw)
        except AddressError as err:
            yield start, None, raw, "", str(err)
            continue
        yield start, key, raw, domain, fields_of(values)


def _named_record(
    line: int, named: tuple[str, str], fields: dict[str, str], as_json: bool | None, name_order: NameOrder
) -> Record:
    """A `Name <address>` cell, as when pasted: the address as written, the name filling first and last name
    (split in `name_order`) when the row leaves them empty."""
    name, raw = named
    try:
        key, _, domain = parse_address(raw)
    except AddressError as err:
        return line, None, raw, "", str(err)
    first, last = name_parts(name, name_order)
    for field, value in (("first_name", first), ("last_name", last)):
        if value and not fields.get(field):
            fields[field] = value
    extra: Any = "" if as_json is None else _to_json(fields) if as_json else fields
    return line, key, raw, domain, extra


def _list_records(first: str, text: IO[str], offset: int, as_json: bool | None) -> Iterator[Record]:
    no_fields = "" if as_json is None else "{}"
    number = offset
    for line in _chain(first, text):
        number += 1
        bare = line.strip()
        # One bare address on the line (a plain list) is the only token tokens_of_line would find: a fast-path
        # address has no separator, bracket, quote or "mailto:", and a "'" only counts at its edges.
        plain = FAST_ADDRESS.match(bare) and bare[0] != "'" and bare[-1] != "'"
        tokens = (bare,) if plain else tokens_of_line(line)
        for token in tokens:
            if "@" not in token:
                yield number, None, token, "", "no address found"
                continue
            try:
                key, _, domain = parse_address(token)
            except AddressError as err:
                yield number, None, token, "", str(err)
                continue
            yield number, key, token, domain, {} if as_json is False else no_fields


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    yield first
    yield from rest


def good_records(
    stream: IO[bytes],
    name: str,
    report: ImportReport,
    on_read: Callable[[int], None] | None = None,
    *,
    fields: bool = True,
    mapping: ColumnMap | None = None,
    name_order: NameOrder = NameOrder.GIVEN_FIRST,
) -> Iterator[tuple[int, str, str, str, str]]:
    """The rows of `stream` with a usable address, as the staging table's tuples (line, key, display, domain,
    fields as JSON text, or "" when `fields` is false); the others go into `report.rejected` with their line,
    and rows kept with a remark into `report.warnings`."""
    read = 0
    reject = report.rejected.append

    def warn(line: int, text: str, message: str) -> None:
        report.warnings.append(Rejected(line, text, message))

    try:
        as_json = True if fields else None
        for record in _records(
            stream, name, on_read, as_json=as_json, mapping=mapping, warn=warn, name_order=name_order
        ):
            read += 1
            if record[1] is None:
                reject(Rejected(record[0], record[2], record[4]))
            else:
                yield record  # type: ignore[misc]  # record[1] is not None: a good record
    finally:
        report.read += read


def typed(addresses: Iterable[str], report: ImportReport) -> Iterator[tuple[int, Address]]:
    """(position, address) of each good address typed or passed as arguments; each bad one goes into
    `report.rejected` with its position, and every one is counted in `report.read`."""
    for i, raw in enumerate(addresses, start=1):
        report.read += 1
        try:
            yield i, parse_address(raw.strip())
        except AddressError as err:
            report.rejected.append(Rejected(i, raw, str(err)))


def read_text(data: str) -> Iterator[Row]:
    """Rows of pasted text (web forms, command arguments)."""
    return read_rows(io.BytesIO(data.encode("utf-8")), "<pasted>")
