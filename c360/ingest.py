"""Landing zone -> bronze: read one source entity's extracts for a day, keep every row as
landed (strings) plus lineage, and set aside what cannot be parsed, with the reason.

File-level problems (unreadable file, missing required columns, a file no pattern matches,
day not complete) raise :class:`IngestError` before anything is written. Row-level problems
(wrong field count, broken or unclosed quoting, broken JSON, invalid UTF-8) become
:class:`Reject` rows for ``quarantine/rejects``; the reason names the line and, where known,
the column, never a value.

Only CR, LF and CRLF end a line (RFC 4180; JSON lines too). Every file is accounted for on its
own: the physical lines counted in its bytes must equal the lines the parser turned into
header, blank lines, rows and rejects, and what reaches the tables is counted back after the
commit; a mismatch raises :class:`AccountingError` (a bug, never absorbed).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from c360.contract import (
    SOURCES,
    LandingZone,
    LandingZoneError,
    SourceEntity,
    UnknownFilesPolicy,
    day_folder,
    matches_entity,
    read_source_day,
    scan_landing_zone,
    unknown_file_message,
)
from c360.lakehouse import Lakehouse
from c360.tables import BRONZE_LINEAGE_SCHEMA, BRONZE_TABLES, INGEST_DATE, QUARANTINE_SCHEMA
from quality.quarantine import count_rejects, replace_rejects

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
                "c360.ingest, nothing was written; report it with the file"
            )


@dataclass
class DayExtract:
    """Everything one source entity landed on one day."""

    entity: SourceEntity
    day: date
    rows: pa.Table
    rejects: pa.Table
    files: list[str]
    accounts: list[ParsedFile] = field(default_factory=list)
    folder_present: bool = True
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.rows.num_rows + self.rejects.num_rows

    @property
    def lines_read(self) -> int:
        return sum(p.lines for p in self.accounts)


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
    _CsvParse(parsed, cursor, header, bool(_UNDECODABLE.search(text))).run(header_record.end)
    parsed.check_accounting()
    return parsed


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


_PARSERS = {".csv": parse_csv, ".jsonl": parse_jsonl, ".parquet": parse_parquet}


def require_complete_day(raw_root: Path, day: date) -> None:
    """Refuse a day that is not there, or where a source with files lacks ``_SUCCESS``.

    Raises:
        IngestError: naming the sources whose marker is missing.
    """
    folders = {s: f for s in SOURCES if (f := read_source_day(raw_root, s, day)) is not None}
    zone = LandingZone(Path(raw_root), days={day: folders} if folders else {})
    if not zone.is_complete(day):
        raise IngestError(zone.why_not_complete(day))


def extract_files(
    raw_root: Path, entity: SourceEntity, day: date, unknown_files: UnknownFilesPolicy = "error"
) -> tuple[list[Path], list[str]]:
    """The entity's files for a complete day, sorted, and warnings for files nobody reads.

    Raises:
        IngestError: the day is not complete; or a file of the source's day folder matches no
            pattern of the source and ``unknown_files`` is ``error``.
    """
    require_complete_day(raw_root, day)
    folder = read_source_day(raw_root, entity.source, day)
    if folder is None:
        return [], []
    unknown = [unknown_file_message(raw_root, p, entity.source) for p in folder.unknown_entries()]
    if unknown and unknown_files == "error":
        raise IngestError("; ".join(unknown))
    files = [p for p in folder.entries if p.is_file() and matches_entity(entity, p.name)]
    return sorted(files), unknown


def _record_hashes(columns: list[str], values: dict[str, list[str | None]], n: int) -> list[str]:
    ordered = sorted(columns)
    hashes = []
    for i in range(n):
        text = "\x1f".join(
            "\x00" if values[c][i] is None else f"{c}={values[c][i]}" for c in ordered
        )
        hashes.append(hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest())
    return hashes


def bronze_schema(entity: SourceEntity, extra_columns: list[str]) -> pa.Schema:
    """Landed columns (contract order, then extras sorted) as strings, then lineage columns."""
    landed = [*entity.required_columns, *sorted(extra_columns)]
    return pa.schema([pa.field(c, pa.string()) for c in landed] + list(BRONZE_LINEAGE_SCHEMA))


def read_day(
    raw_root: Path, entity: SourceEntity, day: date, unknown_files: UnknownFilesPolicy = "error"
) -> DayExtract:
    """Parse every file of ``entity`` landed on ``day`` into bronze rows and rejects.

    Raises:
        IngestError: the day is not complete, a file matches no pattern (unless
            ``unknown_files`` is ``warn``), or a file is unreadable or lacks required columns
            (the message names the file and the columns).
        AccountingError: the lines of a file and the records parsed from it disagree.
    """
    raw_root = Path(raw_root)
    files, warnings = extract_files(raw_root, entity, day, unknown_files)
    parsed_files = []
    for path in files:
        source_file = path.relative_to(raw_root).as_posix()
        parser = _PARSERS.get(path.suffix.lower())
        if parser is None:
            raise IngestError(f"{source_file}: unsupported file type {path.suffix!r}")
        try:
            parsed_files.append(parser(path, source_file, entity))
        except OSError as exc:
            raise IngestError(f"{source_file}: cannot be read: {exc}") from exc
    ingested_at = datetime.now(UTC)
    extras = sorted(
        {c for p in parsed_files for c in p.columns if c not in entity.required_columns}
    )
    schema = bronze_schema(entity, extras)
    landed_columns = schema.names[: len(schema) - len(BRONZE_LINEAGE_SCHEMA)]
    batches = []
    for parsed in parsed_files:
        n = len(parsed.row_numbers)
        if n == 0:
            continue
        values = {c: parsed.values.get(c, [None] * n) for c in landed_columns}
        columns = {c: pa.array(values[c], pa.string()) for c in landed_columns}
        columns |= {
            "_ingest_date": pa.array([day] * n, pa.date32()),
            "_source_file": pa.array([parsed.source_file] * n, pa.string()),
            "_row_number": pa.array(parsed.row_numbers, pa.int64()),
            "_ingested_at": pa.array([ingested_at] * n, pa.timestamp("us", tz="UTC")),
            "_record_hash": pa.array(_record_hashes(landed_columns, values, n), pa.string()),
        }
        batches.append(pa.table(columns, schema=schema))
    rows = pa.concat_tables(batches) if batches else schema.empty_table()
    rejects = rejects_table(
        "bronze", entity.name, day, [r for p in parsed_files for r in p.rejects], ingested_at
    )
    extract = DayExtract(
        entity, day, rows, rejects, [p.source_file for p in parsed_files], parsed_files,
        folder_present=day_folder(raw_root, entity.source, day).is_dir(), warnings=warnings,
    )  # fmt: skip
    if extract.rows_read != sum(p.records for p in parsed_files):
        raise AccountingError(
            f"{entity.name} {day}: {sum(p.records for p in parsed_files)} records parsed but "
            f"{rows.num_rows} rows + {rejects.num_rows} rejects assembled: a bug in c360.ingest"
        )
    return extract


def rejects_table(
    layer: str, table: str, day: date, rejects: list[Reject], detected_at: datetime
) -> pa.Table:
    """Rejects as rows of ``quarantine/rejects``."""
    return pa.Table.from_pylist(
        [
            {
                "layer": layer,
                "table": table,
                "_ingest_date": day,
                "_source_file": r.source_file,
                "_row_number": r.row_number,
                "raw": r.raw,
                "reasons": list(r.reasons),
                "detected_at": detected_at,
            }
            for r in rejects
        ],
        schema=QUARANTINE_SCHEMA,
    )


@dataclass(frozen=True)
class IngestResult:
    """What one (entity, day) ingestion read and wrote, each figure counted on its own.

    ``lines_read`` are the physical lines of the files (rows for Parquet), ``rows_read`` the
    records parsed from them (rows + rejects), ``rows_bronze`` / ``rows_quarantined`` the rows
    of the day counted back in ``bronze/<entity>`` and ``quarantine/rejects`` after the commit.
    ``rows_kept``: the source's day folder is gone, and bronze kept the rows it held.
    """

    entity: str
    day: date
    files: int
    lines_read: int
    rows_read: int
    rows_bronze: int
    rows_quarantined: int
    rows_kept: int = 0
    warnings: tuple[str, ...] = ()
    file_figures: tuple[tuple[str, int, int, int], ...] = ()  # (file, lines, rows, rejects)


def _day_filter(day: date) -> pc.Expression:
    return pc.field(INGEST_DATE) == pa.scalar(day, pa.date32())


def bronze_rows_of_day(lake: Lakehouse, entity: SourceEntity, day: date) -> int:
    """Rows ``bronze/<entity>`` holds for ``day`` (0 when the table does not exist)."""
    table = BRONZE_TABLES[entity.name]
    if not lake.exists(table):
        return 0
    return lake.arrow_dataset(table).count_rows(filter=_day_filter(day))


def ingest_day(
    lake: Lakehouse,
    raw_root: Path,
    entity: SourceEntity,
    day: date,
    unknown_files: UnknownFilesPolicy = "error",
) -> IngestResult:
    """Land one entity's day in bronze, replacing that day's partition (idempotent).

    Rejects are written first, bronze last: a crash in between leaves both tables consistent
    (each commit is atomic) and a re-run of the day replaces both. When the source's day
    folder has gone from the landing zone, what bronze holds of the day is kept, not emptied
    (:func:`removed_days` reports it).

    Raises:
        IngestError: see :func:`read_day`.
        AccountingError: the rows counted back in a table differ from the rows written.
    """
    extract = read_day(raw_root, entity, day, unknown_files)
    kept = 0 if extract.folder_present else bronze_rows_of_day(lake, entity, day)
    written = (0, 0)
    if not kept:
        extract.warnings += _files_gone(lake, extract)
        replace_rejects(lake, "bronze", entity.name, day, extract.rejects)
        lake.replace_where(extract.rows, BRONZE_TABLES[entity.name], {INGEST_DATE: [day]})
        written = _count_written(lake, extract)
    log.info(
        "bronze %s %s: %d rows, %d quarantined", entity.name, day, written[0], written[1]
    )  # fmt: skip
    return IngestResult(
        entity=entity.name,
        day=day,
        files=len(extract.files),
        lines_read=extract.lines_read,
        rows_read=extract.rows_read,
        rows_bronze=written[0],
        rows_quarantined=written[1],
        rows_kept=kept,
        warnings=tuple(extract.warnings),
        file_figures=tuple(
            (p.source_file, p.lines, len(p.row_numbers), len(p.rejects)) for p in extract.accounts
        ),
    )


def _files_gone(lake: Lakehouse, extract: DayExtract) -> list[str]:
    """Warnings for files bronze holds rows of that the day's folder no longer has."""
    table = BRONZE_TABLES[extract.entity.name]
    if not lake.exists(table):
        return []
    dataset = lake.arrow_dataset(table)
    held = dataset.to_table(columns=["_source_file"], filter=_day_filter(extract.day))
    counts = pc.value_counts(held.column("_source_file")).to_pylist()
    return [
        f"{table.qualified_name}: the {c['counts']} rows of {c['values']} are replaced by "
        f"this run: the file is no longer in the landing zone (day {extract.day})"
        for c in sorted(counts, key=lambda c: c["values"])
        if c["values"] not in extract.files
    ]


def _count_written(lake: Lakehouse, extract: DayExtract) -> tuple[int, int]:
    """Count the day back in bronze and quarantine; they must hold what was written."""
    entity, day = extract.entity, extract.day
    in_bronze = bronze_rows_of_day(lake, entity, day)
    in_quarantine = count_rejects(lake, "bronze", entity.name, day)
    if (in_bronze, in_quarantine) != (extract.rows.num_rows, extract.rejects.num_rows):
        raise AccountingError(
            f"bronze {entity.name} {day}: wrote {extract.rows.num_rows} rows and "
            f"{extract.rejects.num_rows} rejects, but the tables now hold {in_bronze} and "
            f"{in_quarantine}: a bug (or a concurrent writer); re-run the day"
        )
    return in_bronze, in_quarantine


def removed_days(lake: Lakehouse, raw_root: Path, entity: SourceEntity) -> list[str]:
    """Warnings for days ``bronze/<entity>`` holds whose source folder left the landing zone.

    Such rows stay in bronze (and silver is rebuilt from them): the operator decides.
    """
    table = BRONZE_TABLES[entity.name]
    if not lake.exists(table):
        return []
    days = lake.arrow_dataset(table).to_table(columns=[INGEST_DATE]).column(INGEST_DATE)
    warnings = []
    for item in sorted(pc.value_counts(days).to_pylist(), key=lambda v: v["values"]):
        day, rows = item["values"], item["counts"]
        folder = day_folder(raw_root, entity.source, day)
        if not folder.is_dir():
            warnings.append(
                f"{table.qualified_name} holds {rows} rows of day {day}, but "
                f"{folder.relative_to(raw_root).as_posix()}/ is no longer in the landing zone: "
                "kept as they are (restore the folder and re-run the day, or delete that "
                "partition deliberately)"
            )
    return warnings


def ingest_days(
    lake: Lakehouse,
    raw_root: Path,
    entity: SourceEntity,
    days: list[date],
    unknown_files: UnknownFilesPolicy = "error",
) -> tuple[list[IngestResult], list[str]]:
    """Land ``days`` of one entity, after checking the whole landing zone and every day.

    Returns the results per day and the entity's warnings, each once: under ``warn``, unknown
    entries at the root and unknown files of its source's day folders; days removed from the
    landing zone that bronze still holds.

    Raises:
        LandingZoneError: a badly named day folder, a day of ``days`` not complete, an unknown
            file or source (under ``error``): raised before anything is written.
    """
    zone = scan_landing_zone(raw_root)
    zone.check(days, unknown_files)
    results = [ingest_day(lake, raw_root, entity, day, unknown_files) for day in days]
    warnings = [*zone.unknown_entries, *(w for r in results for w in r.warnings)]
    warnings += removed_days(lake, raw_root, entity)
    return results, list(dict.fromkeys(warnings))
