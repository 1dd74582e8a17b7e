"""Read address lists from files or pasted text: CSV with an `email` column, or plain lists.

Streams: the input is decoded incrementally and rows are yielded one by one, so memory stays flat
whatever the file size. Encoding and delimiter are sniffed from the first 64 KiB.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from json import JSONEncoder
from json.encoder import encode_basestring as _json_string  # the C string encoder json.dumps uses
from typing import IO, Any, NamedTuple

from sendwell.addresses import (
    FAST_ADDRESS,
    MAX_ADDRESS_OCTETS,
    AddressError,
    known_domain,
    parse_address,
    tokens_of_line,
)
from sendwell.csvfile import restore
from sendwell.model import Address, ImportReport, Rejected

SAMPLE_BYTES = 64 * 1024
EMAIL_HEADERS = ("email", "e-mail", "email address", "e-mail address", "mail", "emailaddress", "address")
_FIELD_NAME = re.compile(r"\W+")
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


def field_name(header: str) -> str:
    """`First Name` -> `first_name`: usable as a template variable."""
    return _FIELD_NAME.sub("_", header.strip().lower()).strip("_") or "field"


def _sniff_delimiter(first_line: str) -> str | None:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else None


def _email_column(headers: list[str]) -> int | None:
    lowered = [h.strip().strip('"').lower() for h in headers]
    for name in EMAIL_HEADERS:
        if name in lowered:
            return lowered.index(name)
    for i, h in enumerate(lowered):
        if "mail" in h:
            return i
    return None


Record = tuple[int, str | None, str, str, Any]
"""(line, key, text, domain, extra): a good row has its address key and the ASCII domain, `text` is the spelling
as given and `extra` its fields (a JSON object's text, or a dict); a rejected row has key None and the reason in
`extra`. Good rows are exactly the staging table's tuples (bulk.STAGE_COLUMNS), so an import of a million rows
builds one tuple per row and nothing else."""


def read_rows(stream: IO[bytes], name: str = "<input>", on_read: Callable[[int], None] | None = None) -> Iterator[Row]:
    """Yield every candidate address of a CSV file or a plain/pasted list."""
    for line, key, shown, domain, extra in _records(stream, name, on_read, as_json=False):
        if key is None:
            yield Row(line, shown, None, error=extra)
        else:
            yield Row(line, shown, Address(key, shown, domain), extra)


def _records(
    stream: IO[bytes], name: str, on_read: Callable[[int], None] | None, *, as_json: bool | None
) -> Iterator[Record]:
    """Every candidate as a Record; fields as dicts, as JSON text (`as_json`), or not at all ("", as_json None)."""
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
    delimiter = _sniff_delimiter(first)
    if delimiter is None and first.strip().strip('"').lower() in EMAIL_HEADERS:
        delimiter = ","  # a one-column CSV: just an "email" header
    if delimiter:
        headers = next(csv.reader([first], delimiter=delimiter))
        column = _email_column(headers)
        if column is not None and "@" not in headers[column]:
            yield from _csv_records(text, headers, column, delimiter, offset, as_json)
            return
    yield from _list_records(first, text, offset, as_json)


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
    text: IO[str], headers: list[str], column: int, delimiter: str, offset: int, as_json: bool | None
) -> Iterator[Record]:
    names = [field_name(h) for h in headers]
    others = [i for i in range(len(names)) if i != column]
    fields_of = _fields_encoder([names[i] for i in others], others, as_json)
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
            if len(values) != width:
                yield start, None, delimiter.join(values), "", f"{len(values)} fields where the header has {width}"
                continue
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
        try:
            key, _, domain = parse_address(raw)
        except AddressError as err:
            yield start, None, raw, "", str(err)
            continue
        yield start, key, raw, domain, fields_of(values)


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
) -> Iterator[tuple[int, str, str, str, str]]:
    """The rows of `stream` with a usable address, as the staging table's tuples (line, key, display, domain,
    fields as JSON text, or "" when `fields` is false); the others go into `report.rejected` with their line."""
    read = 0
    reject = report.rejected.append
    try:
        for record in _records(stream, name, on_read, as_json=True if fields else None):
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
