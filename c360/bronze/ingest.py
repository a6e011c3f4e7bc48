"""Landing zone -> bronze: read one source entity's extracts for a day (:mod:`.readers`), keep
every row as landed (strings) plus lineage, and set aside what cannot be parsed, with the reason.

File-level problems (unreadable file, missing required columns, a file no pattern matches,
day not complete) raise :class:`IngestError` before anything is written; row-level problems
become :class:`Reject` rows for ``quarantine/rejects``. What reaches the tables is counted back
after the commit; a mismatch raises :class:`AccountingError` (a bug, never absorbed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from c360.bronze.erased import without_erased
from c360.bronze.readers import PARSERS, AccountingError, IngestError, ParsedFile, Reject
from c360.contract import (
    SOURCES,
    LandingZone,
    SourceEntity,
    UnknownFilesPolicy,
    day_folder,
    matches_entity,
    read_source_day,
    scan_landing_zone,
    unknown_file_message,
)
from c360.lakehouse import Lakehouse
from c360.quarantine import count_rejects, replace_rejects
from c360.tables import BRONZE_LINEAGE_SCHEMA, BRONZE_TABLES, INGEST_DATE, QUARANTINE_SCHEMA

log = logging.getLogger(__name__)


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


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def record_hashes(columns: dict[str, pa.Array]) -> pa.Array:
    """SHA-256 (hex) of each row's landed values, in one vectorised DuckDB pass.

    The hashed text is ``name=value`` per column in name order, joined by U+001F, a missing
    value written as NUL: ``hashlib.sha256("\\x1f".join(...).encode())`` row by row gives the
    same digests (tested), without a Python loop over the rows.
    """
    ordered = sorted(columns)
    table = pa.table({f"c{i}": columns[name] for i, name in enumerate(ordered)})
    parts = [f"coalesce({_sql_text(name + '=')} || c{i}, chr(0))" for i, name in enumerate(ordered)]
    with duckdb.connect() as connection:
        connection.register("landed", table)
        sql = f"SELECT sha256(concat_ws(chr(31), {', '.join(parts)})) AS h FROM landed"
        return connection.sql(sql).to_arrow_table().column(0).combine_chunks()


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
        parser = PARSERS.get(path.suffix.lower())
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
            "_record_hash": record_hashes({c: columns[c] for c in landed_columns}),
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
            f"{rows.num_rows} rows + {rejects.num_rows} rejects assembled: a bug in c360.bronze"
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
    extract = without_erased(lake, read_day(raw_root, entity, day, unknown_files))
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
