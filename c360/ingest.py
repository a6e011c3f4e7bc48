"""Landing zone -> bronze: read one source entity's extracts for a day, keep every row as
landed (strings) plus lineage, and set aside what cannot be parsed, with the reason.

File-level problems (unreadable file, missing required columns, day not complete) raise
:class:`IngestError` before anything is written. Row-level problems (wrong field count,
broken quoting or JSON, invalid UTF-8) become :class:`Reject` rows for ``quarantine/rejects``.
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
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from c360.contract import SUCCESS_MARKER, SourceEntity, day_folder
from c360.lakehouse import Lakehouse
from c360.tables import BRONZE_LINEAGE_SCHEMA, BRONZE_TABLES, INGEST_DATE, QUARANTINE_SCHEMA
from quality.quarantine import replace_rejects

log = logging.getLogger(__name__)

UTF8_BOM = b"\xef\xbb\xbf"
INVALID_UTF8 = "invalid_utf8: bytes that are not UTF-8"
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)


class IngestError(ValueError):
    """A whole file or day cannot be ingested; nothing of that partition is written."""


@dataclass(frozen=True)
class Reject:
    """A landed row that could not be parsed."""

    source_file: str
    row_number: int
    raw: str
    reasons: tuple[str, ...]


@dataclass
class ParsedFile:
    """Rows of one file as landed: column name -> values (strings or None)."""

    source_file: str
    columns: list[str]
    values: dict[str, list[str | None]] = field(default_factory=dict)
    row_numbers: list[int] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    def add(self, row_number: int, record: dict[str, str | None]) -> None:
        for name in record:
            if name not in self.values:
                self.columns.append(name)
                self.values[name] = [None] * len(self.row_numbers)
        for name, column in self.values.items():
            column.append(record.get(name))
        self.row_numbers.append(row_number)


@dataclass
class DayExtract:
    """Everything one source entity landed on one day."""

    entity: SourceEntity
    day: date
    rows: pa.Table
    rejects: pa.Table
    files: list[str]

    @property
    def rows_read(self) -> int:
        return self.rows.num_rows + self.rejects.num_rows


def _printable(raw: str) -> str:
    """Raw text safe to store: undecodable bytes shown as \\xNN escapes."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class _LineFeed:
    """Feeds lines to csv.reader while remembering the raw text of the current record."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.position = 0
        self.consumed: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.position >= len(self.lines):
            raise StopIteration
        line = self.lines[self.position]
        self.position += 1
        self.consumed.append(line)
        return line


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    return data.decode("utf-8", errors="surrogateescape")


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


def parse_csv(path: Path, source_file: str, entity: SourceEntity) -> ParsedFile:
    """Parse a CSV extract; ``row_number`` is the line where each record starts (header = 1)."""
    text = _decode(path)
    parsed = ParsedFile(source_file=source_file, columns=[])
    if not text.strip():
        log.warning("%s is empty: no rows", source_file)
        return parsed
    feed = _LineFeed(text.splitlines(keepends=True))
    reader = csv.reader(feed, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as exc:
        raise IngestError(f"{source_file}: header line cannot be parsed: {exc}") from exc
    if _UNDECODABLE.search("".join(header)):
        raise IngestError(f"{source_file}: header line is not valid UTF-8")
    _check_header(header, entity, source_file)
    parsed.columns = list(header)
    parsed.values = {name: [] for name in header}
    may_hold_bad_bytes = _UNDECODABLE.search(text) is not None
    while True:
        feed.consumed = []
        start_line = feed.position + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raw = "".join(feed.consumed).rstrip("\r\n")
            parsed.rejects.append(
                Reject(source_file, start_line, _printable(raw), (f"malformed_csv: {exc}",))
            )
            continue
        raw = "".join(feed.consumed).rstrip("\r\n")
        if not raw.strip():
            continue  # blank line: not a record
        reasons = []
        if len(fields) != len(header):
            reasons.append(f"field_count: expected {len(header)} fields, found {len(fields)}")
        if may_hold_bad_bytes and _UNDECODABLE.search(raw):
            reasons.append(INVALID_UTF8)
        if reasons:
            parsed.rejects.append(Reject(source_file, start_line, _printable(raw), tuple(reasons)))
            continue
        for name, value in zip(header, fields, strict=True):
            parsed.values[name].append(value)
        parsed.row_numbers.append(start_line)
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
    parsed = ParsedFile(source_file=source_file, columns=[])
    keys_seen: set[str] = set()
    for line_number, line in enumerate(_decode(path).splitlines(), start=1):
        if not line.strip():
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
    return parsed


def parse_parquet(path: Path, source_file: str, entity: SourceEntity) -> ParsedFile:
    """Read a Parquet extract; every column becomes strings, as landed."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"{source_file}: not a readable Parquet file: {exc}") from exc
    _check_header(table.column_names, entity, source_file)
    parsed = ParsedFile(source_file=source_file, columns=list(table.column_names))
    for name in table.column_names:
        parsed.values[name] = [_landed_text(v) for v in table.column(name).to_pylist()]
    parsed.row_numbers = list(range(1, table.num_rows + 1))
    return parsed


_PARSERS = {".csv": parse_csv, ".jsonl": parse_jsonl, ".parquet": parse_parquet}


def extract_files(raw_root: Path, entity: SourceEntity, day: date) -> list[Path]:
    """The entity's files for a day, sorted; raises if the day folder is not complete."""
    folder = day_folder(raw_root, entity.source, day)
    if not folder.is_dir():
        return []
    if not (folder / SUCCESS_MARKER).exists():
        raise IngestError(
            f"{folder}: day not complete (no {SUCCESS_MARKER} marker yet); "
            "the extract job writes it last, so wait for it or re-run once it lands"
        )
    files = {p for pattern in entity.file_globs for p in folder.glob(pattern) if p.is_file()}
    return sorted(files)


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


def read_day(raw_root: Path, entity: SourceEntity, day: date) -> DayExtract:
    """Parse every file of ``entity`` landed on ``day`` into bronze rows and rejects.

    Raises:
        IngestError: the day is not complete, or a file is unreadable or lacks required
            columns (the message names the file and the columns).
    """
    raw_root = Path(raw_root)
    files = extract_files(raw_root, entity, day)
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
    return DayExtract(entity, day, rows, rejects, [p.source_file for p in parsed_files])


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
    """What one (entity, day) ingestion wrote."""

    entity: str
    day: date
    files: int
    rows_read: int
    rows_bronze: int
    rows_quarantined: int


def ingest_day(lake: Lakehouse, raw_root: Path, entity: SourceEntity, day: date) -> IngestResult:
    """Land one entity's day in bronze, replacing that day's partition (idempotent).

    Rejects are written first, bronze last: a crash in between leaves both tables consistent
    (each commit is atomic) and a re-run of the day replaces both.
    """
    extract = read_day(raw_root, entity, day)
    replace_rejects(lake, "bronze", entity.name, day, extract.rejects)
    lake.replace_where(extract.rows, BRONZE_TABLES[entity.name], {INGEST_DATE: [day]})
    log.info(
        "bronze %s %s: %d rows, %d quarantined", entity.name, day, extract.rows.num_rows,
        extract.rejects.num_rows,
    )  # fmt: skip
    return IngestResult(
        entity=entity.name,
        day=day,
        files=len(extract.files),
        rows_read=extract.rows_read,
        rows_bronze=extract.rows.num_rows,
        rows_quarantined=extract.rejects.num_rows,
    )
