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
from typing import IO, NamedTuple

from sendwell.addresses import AddressError, parse_address, tokens_of_line
from sendwell.model import Address, ImportReport, Rejected

SAMPLE_BYTES = 64 * 1024
EMAIL_HEADERS = ("email", "e-mail", "email address", "e-mail address", "mail", "emailaddress", "address")
_FIELD_NAME = re.compile(r"\W+")
csv.field_size_limit(1 << 20)


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

    def readinto(self, buffer) -> int:  # noqa: ANN001 - memoryview from io
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


def read_rows(stream: IO[bytes], name: str = "<input>",
              on_read: Callable[[int], None] | None = None) -> Iterator[Row]:
    """Yield every candidate address of a CSV file or a plain/pasted list."""
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
            yield from _csv_rows(text, headers, column, delimiter, offset)
            return
    yield from _list_rows(first, text, offset)


def _csv_rows(text: IO[str], headers: list[str], column: int, delimiter: str,
              offset: int) -> Iterator[Row]:
    names = [field_name(h) for h in headers]
    others = [(i, names[i]) for i in range(len(names)) if i != column]
    reader = csv.reader(text, delimiter=delimiter)
    width = len(headers)
    line = offset + 1  # the header's line; it was read outside the reader
    for values in reader:
        start, line = line + 1, offset + 1 + reader.line_num
        if len(values) != width:
            if not values or not any(v.strip() for v in values):
                continue
            while len(values) > width and not values[-1].strip():
                values.pop()  # trailing empty cells (a spreadsheet's extra delimiters) are harmless
            if len(values) != width:
                yield Row(start, delimiter.join(values), None,
                          error=f"{len(values)} fields where the header has {width}")
                continue
        raw = values[column].strip()
        if not raw:
            if any(v.strip() for v in values):
                yield Row(start, delimiter.join(values), None, error="empty email field")
            continue
        try:
            address = parse_address(raw)
        except AddressError as err:
            yield Row(start, raw, None, error=str(err))
            continue
        yield Row(start, raw, address, {name: v for i, name in others if (v := values[i].strip())})


def _list_rows(first: str, text: IO[str], offset: int) -> Iterator[Row]:
    number = offset
    for line in _chain(first, text):
        number += 1
        tokens = tokens_of_line(line)
        for token in tokens:
            if "@" not in token:
                yield Row(number, token, None, error="no address found")
                continue
            try:
                yield Row(number, token, parse_address(token), {})
            except AddressError as err:
                yield Row(number, token, None, error=str(err))


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    yield first
    yield from rest


def good_rows(stream: IO[bytes], name: str, report: ImportReport,
              on_read: Callable[[int], None] | None = None) -> Iterator[Row]:
    """The rows of `stream` with a usable address; the others go into `report.rejected` with their line."""
    for row in read_rows(stream, name, on_read):
        report.read += 1
        if row.address is None:
            report.rejected.append(Rejected(row.line, row.text, row.error or "invalid"))
        else:
            yield row


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
