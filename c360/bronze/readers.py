"""Landing-zone files -> rows as landed: the CSV, JSON-lines and Parquet readers of bronze.

File-level problems (unreadable file, missing required columns, duplicated columns) raise
:class:`IngestError`. Row-level problems (wrong field count, broken or unclosed quoting, broken
JSON, invalid UTF-8) become :class:`Reject` rows for ``quarantine/rejects``; the reason names the
line and, where known, the column, never a value.

Only CR, LF and CRLF end a line (RFC 4180; JSON lines too). Every file is accounted for on its
own: the physical lines counted in its bytes must equal the lines the parser turned into
header, blank lines, rows and rejects; a mismatch raises :class:`AccountingError` (a bug, never
absorbed).
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from c360.contract import (
    LandingZoneError,
    SourceEntity,
)

log = logging.getLogger(__name__)

UTF8_BOM = b"\xef\xbb\xbf"
INVALID_UTF8 = "invalid_utf8: bytes that are not UTF-8"
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)


_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z")  # a line and its end (CR, LF, CRLF)
# what str.splitlines also splits on, besides CR and LF
_OTHER_LINE_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_BLANK = " \t\r\n"  # a line of only these is not a record (form feed, U+2028... are data)


class IngestError(LandingZoneError):
    """A whole file or day cannot be ingested; nothing of that partition is written."""


class AccountingError(RuntimeError):
    """Rows counted at two steps disagree: a bug in ingestion, never bad input."""


@dataclass(frozen=True)
class Reject:
    """A landed record that could not be parsed; it covers ``lines`` physical lines."""

    source_file: str
    row_number: int
    raw: str
    reasons: tuple[str, ...]
    lines: int = 1


@dataclass
class ParsedFile:
    """Rows of one file as landed: column name -> values (strings or None)."""

    source_file: str
    columns: list[str]
    values: dict[str, list[str | None]] = field(default_factory=dict)
    row_numbers: list[int] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # Counted from the file itself: physical lines (CSV, JSON lines) or the Parquet footer's rows.
    lines: int = 0
    # How the parser used them: header and blank lines, lines that became rows.
    lines_skipped: int = 0
    row_lines: int = 0

    def add(self, row_number: int, record: dict[str, str | None]) -> None:
        for name in record:
            if name not in self.values:
                self.columns.append(name)
                self.values[name] = [None] * len(self.row_numbers)
        for name, column in self.values.items():
            column.append(record.get(name))
        self.row_numbers.append(row_number)
        self.row_lines += 1

    @property
    def records(self) -> int:
        """Records the parser delimited: rows plus rejects."""
        return len(self.row_numbers) + len(self.rejects)

    def check_accounting(self) -> None:
        """Every line of the file is a header, blank, row or reject line, exactly once.

        Raises:
            AccountingError: the counts disagree (a parser bug; the file is named).
        """
        covered = self.lines_skipped + self.row_lines + sum(r.lines for r in self.rejects)
        lengths = {len(column) for column in self.values.values()} | {len(self.row_numbers)}
        if covered != self.lines or len(lengths) > 1:
            raise AccountingError(
                f"{self.source_file}: {self.lines} lines in the file, but the parser accounted "
                f"for {covered} ({self.lines_skipped} header / blank, {self.row_lines} in "
                f"{len(self.row_numbers)} rows, {covered - self.lines_skipped - self.row_lines} "
                f"in {len(self.rejects)} rejects; column lengths {sorted(lengths)}): a bug in "
                "c360.bronze, nothing was written; report it with the file"
            )


def _printable(raw: str) -> str:
    """Raw text safe to store: undecodable bytes shown as \\xNN escapes."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def split_lines(text: str) -> list[str]:
    """Physical lines, ends kept; only CR, LF and CRLF end one.

    Not ``str.splitlines``: it also splits on U+2028, U+2029, U+0085, form feed, vertical tab
    and the information separators, which are data inside a field.
    """
    if not _OTHER_LINE_BREAKS.search(text):
        return text.splitlines(keepends=True)  # the same lines, faster
    return _LINE.findall(text)


def count_lines(data: bytes) -> int:
    """Physical lines in raw bytes (CR, LF, CRLF; a last line without an end counts)."""
    ends = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return ends + (1 if data and not data.endswith((b"\n", b"\r")) else 0)


# A quoted field may hold line ends, but not this many: a record still open after this many lines
# is an unclosed quote (bounds the rescans a file full of stray quotes costs).
MAX_RECORD_LINES = 10_000


class _LineFeed:
    """Feeds lines to csv.reader from a position that can be moved back (to resume)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.position = 0
        self.stop = 0

    def start_at(self, first: int) -> None:
        self.position = first
        self.stop = first + MAX_RECORD_LINES

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.position >= self.stop or self.position >= len(self.lines):
            raise StopIteration
        self.position += 1
        return self.lines[self.position - 1]


@dataclass(frozen=True)
class _Record:
    """One record as csv.reader delimited it: lines ``[first, end)`` (0-based)."""

    first: int
    end: int
    fields: list[str] | None  # None: csv.reader raised ``error``
    error: str = ""


class _CsvCursor:
    """Reads one CSV record starting at any line (strict quoting)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.feed = _LineFeed(lines)
        self.reader = csv.reader(self.feed, strict=True)

    def record(self, first: int) -> _Record:
        """The record starting on line ``first``; it ends where the reader stopped."""
        self.feed.start_at(first)
        try:
            fields = next(self.reader)
        except csv.Error as exc:
            return _Record(first, self.feed.position, None, str(exc))
        return _Record(first, self.feed.position, fields)

    def raw(self, first: int, end: int) -> str:
        return "".join(self.lines[first:end]).rstrip("\r\n")


def _decode(path: Path) -> tuple[str, int]:
    """The file's text (BOM dropped, bad bytes kept as surrogates) and its physical lines."""
    data = path.read_bytes()
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    return data.decode("utf-8", errors="surrogateescape"), count_lines(data)


def _check_header(columns: list[str], entity: SourceEntity, source_file: str) -> None:
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise IngestError(f"{source_file}: duplicated column names {duplicated}")
    missing = [c for c in entity.required_columns if c not in columns]
    if missing:
        raise IngestError(
            f"{source_file}: missing required columns {missing} "
            f"(the {entity.name} contract requires {list(entity.required_columns)})"
        )


def _open_quote_field(line: str) -> int | None:
    """Index of the field whose opening quote is still open at the end of ``line``."""
    index, at_field_start, quoted, position = 0, True, False, 0
    text = line.rstrip("\r\n")
    while position < len(text):
        char = text[position]
        if quoted and char == '"':
            if text[position + 1 : position + 2] == '"':
                position += 1  # an escaped quote
            else:
                quoted = False
        elif not quoted and char == ",":
            index, at_field_start = index + 1, True
            position += 1
            continue
        elif not quoted and char == '"' and at_field_start:
            quoted = True
        at_field_start = False
        position += 1
    return index if quoted else None


def _unclosed_quote_reason(line: str, line_number: int, header: list[str], resumed: int) -> str:
    index = _open_quote_field(line)
    where = (
        f"column {header[index]} (field {index + 1})"
        if index is not None and index < len(header)
        else "a field"
    )
    after = f"parsing resumed at line {resumed}" if resumed else "it runs to the end of the file"
    return f"unclosed_quote: {where} opens a quote on line {line_number} that never closes; {after}"


class _CsvParse:
    """The body of one CSV file, record by record, recovering from unclosed quotes."""

    def __init__(
        self, parsed: ParsedFile, cursor: _CsvCursor, header: list[str], may_hold_bad_bytes: bool
    ) -> None:
        self.parsed = parsed
        self.cursor = cursor
        self.header = header
        self.rows: list[list[str]] = []  # landed rows, turned into columns once at the end
        self.may_hold_bad_bytes = may_hold_bad_bytes

    def is_record(self, record: _Record) -> bool:
        return record.fields is not None and len(record.fields) == len(self.header)

    def run(self, first: int) -> None:
        """Parse from line ``first`` to the end; well-formed records take the fast path."""
        feed, reader, width = self.cursor.feed, self.cursor.reader, len(self.header)
        rows, numbers, total = self.rows, self.parsed.row_numbers, len(self.cursor.lines)
        fast = not self.may_hold_bad_bytes
        while first < total:
            feed.start_at(first)
            try:
                fields = next(reader)
            except csv.Error as exc:
                first = self.step(_Record(first, feed.position, None, str(exc)))
                continue
            if fast and len(fields) == width:
                rows.append(fields)
                numbers.append(first + 1)
                self.parsed.row_lines += feed.position - first
                first = feed.position
            else:
                first = self.step(_Record(first, feed.position, fields))
        for index, name in enumerate(self.header):
            self.parsed.values[name] = list(map(itemgetter(index), rows))

    def step(self, record: _Record) -> int:
        """Land, skip or reject one record; returns the line the next record starts on."""
        fields = record.fields
        if fields is not None and len(fields) <= 1 and self.is_blank(record):
            self.parsed.lines_skipped += record.end - record.first  # blank line: not a record
            return record.end
        if self.is_record(record):
            return self.land(record)
        if record.end - record.first > 1:
            return self.cut(record)
        self.reject(record.first, record.end, self.reason(record))
        return record.end

    def cut(self, record: _Record) -> int:
        """A record over several lines that does not parse: a quote opened on its first line
        and swallowed the lines after it. The bad record ends where the next one starts: the
        next line when the quoting broke, else the first later line starting a good record
        (none: a true multi-line record with a wrong field count, rejected whole)."""
        starts = range(record.first + 1, record.end)
        if record.fields is None:
            resume = record.first + 1
        else:
            resume = next((s for s in starts if self.is_record(self.cursor.record(s))), 0)
        if not resume:
            self.reject(record.first, record.end, self.reason(record))
            return record.end
        line = self.cursor.lines[record.first]
        self.reject(
            record.first,
            resume,
            _unclosed_quote_reason(line, record.first + 1, self.header, resume + 1),
        )
        return resume

    def reason(self, record: _Record) -> str:
        if record.fields is None and record.error == "unexpected end of data":
            line = self.cursor.lines[record.first]
            return _unclosed_quote_reason(line, record.first + 1, self.header, 0)
        if record.fields is None:
            return f"malformed_csv: {record.error}"
        return f"field_count: expected {len(self.header)} fields, found {len(record.fields)}"

    def is_blank(self, record: _Record) -> bool:
        return not self.cursor.raw(record.first, record.end).strip(_BLANK)

    def land(self, record: _Record) -> int:
        assert record.fields is not None
        if self.may_hold_bad_bytes and _UNDECODABLE.search(
            self.cursor.raw(record.first, record.end)
        ):
            self.reject(record.first, record.end, INVALID_UTF8)
            return record.end
        self.rows.append(record.fields)
        self.parsed.row_numbers.append(record.first + 1)
        self.parsed.row_lines += record.end - record.first
        return record.end

    def reject(self, first: int, end: int, reason: str) -> None:
        raw = self.cursor.raw(first, end)
        reasons = [reason]
        if reason != INVALID_UTF8 and self.may_hold_bad_bytes and _UNDECODABLE.search(raw):
            reasons.append(INVALID_UTF8)
        self.parsed.rejects.append(
            Reject(self.parsed.source_file, first + 1, _printable(raw), tuple(reasons), end - first)
        )


def parse_csv(path: Path, source_file: str, entity: SourceEntity) -> ParsedFile:
    """Parse a CSV extract; ``row_number`` is the line where each record starts (header = 1).

    A quote that never closes makes one reject of the lines up to the next line that starts a
    well-formed record, where parsing resumes.
    """
    text, line_count = _decode(path)
    parsed = ParsedFile(source_file=source_file, columns=[], lines=line_count)
    if not text.strip(_BLANK):
        log.warning("%s is empty: no rows", source_file)
        parsed.lines_skipped = line_count
        return parsed
    lines = split_lines(text)
    cursor = _CsvCursor(lines)
    first = 0
    while not cursor.raw(first, first + 1).strip(_BLANK):
        first += 1  # blank lines before the header
    header_record = cursor.record(first)
    if header_record.fields is None:
        raise IngestError(f"{source_file}: header line cannot be parsed: {header_record.error}")
    header = [name.strip() for name in header_record.fields]
    if _UNDECODABLE.search("".join(header)):
        raise IngestError(f"{source_file}: header line is not valid UTF-8")
    _check_header(header, entity, source_file)
    parsed.columns = list(header)
    parsed.values = {name: [] for name in header}
    parsed.lines_skipped = header_record.end
    may_hold_bad_bytes = bool(_UNDECODABLE.search(text))
    if may_hold_bad_bytes or '"' in text or not _parse_unquoted(parsed, lines, header_record.end):
        _CsvParse(parsed, cursor, header, may_hold_bad_bytes).run(header_record.end)
    parsed.check_accounting()
    return parsed


def _parse_unquoted(parsed: ParsedFile, lines: list[str], first: int) -> bool:
    """Parse a body without quotes or bad bytes in one pass of pyarrow's CSV reader.

    Without a quote every line is one record split at commas, exactly as csv.reader splits
    it, so the bulk of a large extract (transactions, points) takes no per-row Python. Returns
    False, with ``parsed`` untouched, when a line is blank (pyarrow skips it, so the rows fall
    short of the lines) or has the wrong number of fields: the record-by-record parser then
    lands, skips or rejects each line.
    """
    width, count = len(parsed.columns), len(lines) - first
    if width < 2 or count == 0:  # one column: a line of spaces would parse as a value
        return False
    names = [f"f{index}" for index in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer("".join(lines[first:]).encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(
                quote_char=False, newlines_in_values=False, ignore_empty_lines=True
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                null_values=[],
            ),
        )
    except pa.ArrowInvalid:  # a line of another width (or blank): parse record by record
        return False
    if table.num_rows != count:
        return False
    for index, name in enumerate(parsed.columns):
        parsed.values[name] = table.column(index).to_pylist()
    parsed.row_numbers = list(range(first + 1, first + count + 1))
    parsed.row_lines = count
    return True


def _as_landed(value: object) -> str | None:
    """A JSON value as the text it was landed as (numbers and nested values as JSON)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _landed_text(value: object) -> str | None:
    """A typed Parquet value as text: dates and timestamps in ISO 8601."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return str(value)


def parse_jsonl(path: Path, source_file: str, entity: SourceEntity) -> ParsedFile:
    """Parse a JSON-lines extract; one object per line, ``row_number`` = line number."""
    text, line_count = _decode(path)
    parsed = ParsedFile(source_file=source_file, columns=[], lines=line_count)
    keys_seen: set[str] = set()
    # CR, LF or CRLF ends a JSON line; U+2028 and the like are legal inside JSON strings
    for line_number, line in enumerate(split_lines(text), start=1):
        line = line.rstrip("\r\n")
        if not line.strip(_BLANK):
            parsed.lines_skipped += 1
            continue
        if _UNDECODABLE.search(line):
            reject = Reject(source_file, line_number, _printable(line), (INVALID_UTF8,))
            parsed.rejects.append(reject)
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.rejects.append(
                Reject(source_file, line_number, line, (f"malformed_json: {exc.msg}",))
            )
            continue
        if not isinstance(record, dict):
            kind = type(record).__name__
            parsed.rejects.append(
                Reject(source_file, line_number, line, (f"not_a_json_object: got {kind}",))
            )
            continue
        keys_seen.update(record)
        parsed.add(line_number, {str(k): _as_landed(v) for k, v in record.items()})
    if parsed.row_numbers:
        # A key may be absent from some objects (an empty field); absent from all, the
        # extract does not follow the contract.
        _check_header(sorted(keys_seen), entity, source_file)
    parsed.check_accounting()
    return parsed


def parse_parquet(path: Path, source_file: str, entity: SourceEntity) -> ParsedFile:
    """Read a Parquet extract; every column becomes strings, as landed."""
    try:
        rows_in_footer = pq.ParquetFile(path).metadata.num_rows
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"{source_file}: not a readable Parquet file: {exc}") from exc
    _check_header(table.column_names, entity, source_file)
    parsed = ParsedFile(
        source_file=source_file, columns=list(table.column_names), lines=rows_in_footer
    )
    for name in table.column_names:
        parsed.values[name] = [_landed_text(v) for v in table.column(name).to_pylist()]
    parsed.row_numbers = list(range(1, table.num_rows + 1))
    parsed.row_lines = table.num_rows  # a Parquet row is one "line" of the footer's count
    parsed.check_accounting()
    return parsed


PARSERS = {".csv": parse_csv, ".jsonl": parse_jsonl, ".parquet": parse_parquet}
