"""Previews (PII masked) and exports (csv, xlsx, parquet) of a segment; gold/export_log."""

from __future__ import annotations

import getpass
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from c360.lakehouse import Lakehouse
from c360.masking import mask
from c360.segments.engine import Evaluation
from c360.segments.model import FieldCatalog, SegmentConfigError, SegmentsConfig
from c360.tables import GOLD_EXPORT_LOG, GOLD_EXPORT_LOG_SCHEMA

ExportFormat = Literal["csv", "xlsx", "parquet"]
Language = Literal["en", "vi"]
FORMATS = ("csv", "xlsx", "parquet")


# ---- masking (the rules live in c360/masking.py) -----------------------------------------
def masked_rows(table: pa.Table, config: SegmentsConfig) -> list[dict]:
    """Rows of ``table`` (a small sample) with every PII column masked."""
    rows = table.to_pylist()
    for row in rows:
        for name, kind in config.pii.items():
            if name in row:
                row[name] = mask(row[name], kind)
    return rows


# ---- exports -------------------------------------------------------------------------------
@dataclass
class ExportResult:
    rows: int
    files: list[Path]
    sheets: int = 1
    notes: list[str] = field(default_factory=list)


def resolve_fields(
    fields: list[str] | None, config: SegmentsConfig, catalog: FieldCatalog
) -> list[str]:
    """The columns of an export: ``customer_id`` first, then the asked (or default) fields."""
    asked = list(fields) if fields else list(config.export.default_fields)
    for name in asked:
        catalog.get(name, "--fields")
    return ["customer_id", *dict.fromkeys(n for n in asked if n != "customer_id")]


def headers(columns: list[str], catalog: FieldCatalog, language: Language) -> list[str]:
    """Column headers from the labels (golden fields) and the feature catalog's descriptions."""
    names = []
    for column in columns:
        info = catalog.fields[column]
        label = (info.label_vi if language == "vi" else info.label_en) or column
        names.append(label if label not in names else f"{label} ({column})")
    return names


def _xlsx_value(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones: UTC
    return value


def write_xlsx(
    table: pa.Table, header: list[str], out: Path, config: SegmentsConfig
) -> ExportResult:
    """Sheets of at most ``xlsx_max_rows_per_sheet`` rows; files of at most N sheets."""
    from openpyxl import Workbook

    per_sheet = config.export.xlsx_max_rows_per_sheet
    per_file = config.export.xlsx_max_sheets_per_file
    chunks = [table.slice(start, per_sheet) for start in range(0, table.num_rows, per_sheet)]
    chunks = chunks or [table]
    groups = [chunks[i : i + per_file] for i in range(0, len(chunks), per_file)]
    files = []
    for number, group in enumerate(groups, start=1):
        path = out if number == 1 else out.with_name(f"{out.stem}_part{number}{out.suffix}")
        book = Workbook(write_only=True)
        for index, chunk in enumerate(group, start=1):
            sheet = book.create_sheet(f"members_{(number - 1) * per_file + index}")
            sheet.append(header)
            for batch in chunk.to_batches(max_chunksize=10_000):
                for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                    sheet.append([_xlsx_value(v) for v in row])
        book.save(path)
        files.append(path)
    notes = []
    if len(chunks) > 1:
        notes.append(
            f"{table.num_rows:,} rows exceed {per_sheet:,} rows per sheet: split into "
            f"{len(chunks)} sheets" + (f" over {len(files)} files" if len(files) > 1 else "")
        )
    return ExportResult(table.num_rows, files, len(chunks), notes)


def write_export(
    table: pa.Table,
    columns: list[str],
    fmt: ExportFormat,
    out: Path,
    config: SegmentsConfig,
    catalog: FieldCatalog,
    language: Language = "en",
) -> ExportResult:
    """Write ``table`` (its ``columns`` in order); parquet keeps field names as column names."""
    out.parent.mkdir(parents=True, exist_ok=True)
    table = table.select(columns)
    if fmt == "parquet":
        pq.write_table(table, out)
        return ExportResult(table.num_rows, [out])
    header = headers(columns, catalog, language)
    if fmt == "csv":
        pacsv.write_csv(table.rename_columns(header), out)
        return ExportResult(table.num_rows, [out])
    if fmt == "xlsx":
        return write_xlsx(table, header, out, config)
    raise SegmentConfigError(f"--format {fmt!r}: use one of {list(FORMATS)}")


def log_export(
    lake: Lakehouse, segment: str, result: ExportResult, columns: list[str], fmt: str,
    by: str | None = None,
) -> str:  # fmt: skip
    """Append who / when / segment / rows / fields to gold/export_log; returns the export id."""
    export_id = uuid.uuid4().hex
    row = {
        "export_id": export_id,
        "exported_at": datetime.now(UTC),
        "exported_by": by or getpass.getuser(),
        "segment": segment,
        "rows": result.rows,
        "fields": columns,
        "format": fmt,
        "files": [str(p) for p in result.files],
    }
    lake.append(pa.Table.from_pylist([row], schema=GOLD_EXPORT_LOG_SCHEMA), GOLD_EXPORT_LOG)
    return export_id


def export_members(
    lake: Lakehouse,
    evaluation: Evaluation,
    segment: str,
    columns: list[str],
    fmt: ExportFormat,
    out: Path,
    config: SegmentsConfig,
    catalog: FieldCatalog,
    language: Language = "en",
    by: str | None = None,
) -> ExportResult:
    """Write an evaluated segment's members and record the export in gold/export_log."""
    result = write_export(evaluation.members, columns, fmt, out, config, catalog, language)
    log_export(lake, segment, result, columns, fmt, by)
    return result
