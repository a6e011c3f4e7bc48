"""All Delta Lake I/O of c360: the only module that turns a :class:`Table` into a path.

Two writers, one format (ARCHITECTURE.md section 2):

- :class:`DeltaSparkBackend` when the ``io.delta`` jars are on the Spark classpath
  (Databricks, EMR, a cluster that ships them);
- :class:`DeltaRsBackend` otherwise (the embedded default here, where Maven is unreachable):
  Spark data crosses to Arrow and the ``deltalake`` package (delta-rs) commits it. Spark reads a
  delta-rs table through the table's live file list, never the bare directory, which still holds
  files that an overwrite removed from the log.

Table features stay within what both writers support (no deletion vectors, no column mapping),
so tables written by either are readable by the other and by pandas, polars and DuckDB.

Example:
    >>> lake = Lakehouse(root, spark)                       # doctest: +SKIP
    >>> lake.replace_where(bronze_df, BRONZE_TABLES["crm_contacts"],
    ...                    {"_ingest_date": ["2026-11-01"]})
    >>> lake.read(BRONZE_TABLES["crm_contacts"]).count()
"""

from __future__ import annotations

import logging
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import DeltaTable, WriterProperties, write_deltalake
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from c360.tables import Table

log = logging.getLogger(__name__)

# A RecordBatchReader is streamed by delta-rs (the wide feature snapshot: never whole in memory).
TableData = DataFrame | pa.Table | pa.RecordBatchReader | pd.DataFrame
WriterName = Literal["auto", "delta-rs", "delta-spark"]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LakehouseError(RuntimeError):
    """A Delta operation failed; carries the table and the operation for context."""

    def __init__(self, table: Table, operation: str, cause: BaseException | str) -> None:
        self.table = table
        self.operation = operation
        super().__init__(f"{operation} {table.qualified_name} failed: {cause}")


@dataclass(frozen=True)
class MergeResult:
    """Row counts of one merge."""

    inserted: int
    updated: int


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"column {name!r} cannot be used in a predicate (letters, digits, _)")
    return name


def _sql_literal(value: Any) -> str:
    if value is None:
        raise ValueError("a partition value cannot be None")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        raise ValueError("partition by dates or strings, not timestamps")
    if isinstance(value, date):
        value = value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


def partition_predicate(partition_values: Mapping[str, Sequence[Any]], quote: str = '"') -> str:
    """SQL predicate selecting rows by column values, e.g. ``"d" IN ('2026-11-01')``.

    ``quote`` wraps identifiers (``"`` for delta-rs, a backtick for Spark SQL), so columns
    named like keywords (``table``) work.
    """
    if not partition_values:
        raise ValueError("partition_values must name at least one partition column")
    clauses = []
    for column, values in partition_values.items():
        if not values:
            raise ValueError(f"no values given for partition column {column!r}")
        literals = ", ".join(_sql_literal(v) for v in values)
        clauses.append(f"{quote}{_check_identifier(column)}{quote} IN ({literals})")
    return " AND ".join(clauses)


# Old table versions stay readable (time travel) for a week unless vacuumed sooner.
DEFAULT_VACUUM_RETENTION_HOURS = 168


class DeltaBackend(ABC):
    """What a Delta writer must do; :class:`Lakehouse` holds the shared behaviour."""

    name: str
    identifier_quote: str

    def __init__(self, spark: SparkSession | None) -> None:
        self._spark = spark

    @property
    def spark(self) -> SparkSession:
        """The session Spark frames are read and written with.

        Raises:
            RuntimeError: the lakehouse was opened without one (Delta-log reads only).
        """
        if self._spark is None:
            raise RuntimeError(
                "this Lakehouse was opened without a SparkSession (for Delta-log reads such as "
                "exists / count / history only): pass a session to read or write Spark frames"
            )
        return self._spark

    @abstractmethod
    def read(self, path: Path, version: int | None) -> DataFrame: ...

    @abstractmethod
    def write(
        self,
        data: TableData,
        path: Path,
        mode: Literal["append", "overwrite"],
        partition_by: Sequence[str],
        predicate: str | None,
        row_group_rows: int | None = None,
    ) -> None: ...

    @abstractmethod
    def merge(self, data: TableData, path: Path, keys: Sequence[str]) -> MergeResult: ...

    @abstractmethod
    def history(self, path: Path, limit: int | None) -> list[dict[str, Any]]: ...

    @abstractmethod
    def vacuum(self, path: Path, retention_hours: int) -> list[str]: ...


class DeltaRsBackend(DeltaBackend):
    """delta-rs commits; Spark reads the live file list."""

    name = "delta-rs"
    identifier_quote = '"'

    def _to_arrow(self, data: TableData) -> pa.Table | pa.RecordBatchReader:
        if isinstance(data, pa.Table | pa.RecordBatchReader):
            return data
        if isinstance(data, pd.DataFrame):
            return pa.Table.from_pandas(data, preserve_index=False)
        return data.toArrow()

    def read(self, path: Path, version: int | None) -> DataFrame:
        delta_table = DeltaTable(str(path), version=version)
        arrow_schema = pa.schema(delta_table.schema().to_arrow())
        spark_schema = from_arrow_schema(arrow_schema)
        files = delta_table.file_uris()
        if not files:
            return self.spark.createDataFrame([], spark_schema)
        frame = self.spark.read.schema(spark_schema).option("basePath", str(path)).parquet(*files)
        return frame.select(*[f"`{name}`" for name in arrow_schema.names])

    def write(self, data, path, mode, partition_by, predicate, row_group_rows=None) -> None:
        arrow = self._to_arrow(data)
        exists = DeltaTable.is_deltatable(str(path))
        write_deltalake(
            str(path),
            arrow,
            mode=mode,
            partition_by=list(partition_by) or None,
            predicate=predicate if exists else None,
            schema_mode=_schema_mode(exists, mode, predicate),
            writer_properties=(
                WriterProperties(max_row_group_size=row_group_rows) if row_group_rows else None
            ),
        )

    def merge(self, data, path, keys) -> MergeResult:
        arrow = self._to_arrow(data)
        on = " AND ".join(f"t.{_check_identifier(k)} = s.{k}" for k in keys)
        metrics = (
            DeltaTable(str(path))
            .merge(arrow, predicate=on, source_alias="s", target_alias="t", merge_schema=True)
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
        return MergeResult(
            inserted=int(metrics.get("num_target_rows_inserted", 0)),
            updated=int(metrics.get("num_target_rows_updated", 0)),
        )

    def history(self, path, limit) -> list[dict[str, Any]]:
        return DeltaTable(str(path)).history(limit)

    def vacuum(self, path, retention_hours) -> list[str]:
        return DeltaTable(str(path)).vacuum(
            retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False
        )


def _schema_mode(exists: bool, mode: str, predicate: str | None) -> str | None:
    """delta-rs: new columns merge into appends and replaceWhere; a whole-table overwrite
    replaces the schema (as delta-spark's overwriteSchema: a table that gained or lost columns,
    e.g. a custom field of conf/profile_fields.yaml)."""
    if not exists:
        return None
    return "merge" if mode == "append" or predicate else "overwrite"


class DeltaSparkBackend(DeltaBackend):
    """delta-spark, for sessions whose classpath holds the io.delta jars."""

    name = "delta-spark"
    identifier_quote = "`"

    def _to_spark(self, data: TableData) -> DataFrame:
        if isinstance(data, DataFrame):
            return data
        if isinstance(data, pd.DataFrame):
            data = pa.Table.from_pandas(data, preserve_index=False)
        if isinstance(data, pa.RecordBatchReader):
            data = data.read_all()
        return self.spark.createDataFrame(data)

    def read(self, path, version) -> DataFrame:
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(str(path))

    def write(self, data, path, mode, partition_by, predicate, row_group_rows=None) -> None:
        # row_group_rows is not passed on: Spark sizes Parquet row groups in bytes.
        writer = self._to_spark(data).write.format("delta").mode(mode)
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if predicate and DeltaTable.is_deltatable(str(path)):
            writer = writer.option("replaceWhere", predicate)
        elif mode == "overwrite":
            writer = writer.option("overwriteSchema", "true")
        writer.option("mergeSchema", "true").save(str(path))

    def merge(self, data, path, keys) -> MergeResult:
        from delta.tables import DeltaTable as SparkDeltaTable

        on = " AND ".join(f"t.`{_check_identifier(k)}` = s.`{k}`" for k in keys)
        (
            SparkDeltaTable.forPath(self.spark, str(path))
            .alias("t")
            .merge(self._to_spark(data).alias("s"), on)
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
            .execute()
        )
        metrics = self.history(path, 1)[0].get("operationMetrics", {})
        return MergeResult(
            inserted=int(metrics.get("numTargetRowsInserted", 0)),
            updated=int(metrics.get("numTargetRowsUpdated", 0)),
        )

    def history(self, path, limit) -> list[dict[str, Any]]:
        from delta.tables import DeltaTable as SparkDeltaTable

        rows = SparkDeltaTable.forPath(self.spark, str(path)).history(limit).collect()
        return [row.asDict(recursive=True) for row in rows]

    def vacuum(self, path, retention_hours) -> list[str]:
        from delta.tables import DeltaTable as SparkDeltaTable

        self.spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
        SparkDeltaTable.forPath(self.spark, str(path)).vacuum(retention_hours)
        return []


def choose_backend(spark: SparkSession | None, writer: WriterName = "auto") -> DeltaBackend:
    """delta-spark when asked for or available on the classpath, delta-rs otherwise.

    Without a session only ``delta-rs`` can be chosen (it reads Delta logs without Spark).
    """
    from c360.spark import has_delta_spark

    if writer == "delta-rs":
        return DeltaRsBackend(spark)
    if spark is None:
        raise ValueError(f"storage.writer {writer!r} needs a SparkSession; pass one or 'delta-rs'")
    available = has_delta_spark(spark)
    if writer == "delta-spark" and not available:
        raise RuntimeError(
            "storage.writer is 'delta-spark' but the io.delta jars are not on the Spark "
            "classpath; add them (spark.jars / spark.jars.packages) or use writer 'auto'"
        )
    return DeltaSparkBackend(spark) if available else DeltaRsBackend(spark)


class Lakehouse:
    """Delta tables under one root, read and written through the chosen backend."""

    def __init__(self, root: Path, spark: SparkSession | None, writer: WriterName = "auto") -> None:
        """``spark`` None opens the lakehouse for Delta-log reads only (``writer`` delta-rs):
        ``exists``, ``count``, ``history``, Arrow reads; reading into Spark raises."""
        self.root = Path(root)
        self.backend = choose_backend(spark, writer)

    @property
    def spark(self) -> SparkSession:
        """The lakehouse's SparkSession (raises when opened without one)."""
        return self.backend.spark

    # ---- locations -------------------------------------------------------------------------
    def _path(self, table: Table) -> Path:
        return self.root / table.layer / table.name

    def location(self, table: Table) -> str:
        """The table's URI, for display and for external readers (BI, notebooks)."""
        return self._path(table).as_uri()

    def models_dir(self) -> Path:
        """Versioned model artefacts (``_models/``)."""
        return self.root / "_models"

    def reports_dir(self, run_id: str) -> Path:
        """Per-run reports (``_reports/<run_id>/``): Data Docs, charts, run summary."""
        return self.root / "_reports" / run_id

    def pending_dir(self, stage: str) -> Path:
        """Outputs a stage staged before its commits (``_pending/<stage>/``), for crash repair."""
        return self.root / "_pending" / stage

    def exists(self, table: Table) -> bool:
        return DeltaTable.is_deltatable(str(self._path(table)))

    def _require(self, table: Table, operation: str) -> Path:
        path = self._path(table)
        if not DeltaTable.is_deltatable(str(path)):
            raise LakehouseError(
                table, operation, f"no Delta table at {path}; materialise it first"
            )
        return path

    # ---- reads -----------------------------------------------------------------------------
    def read(self, table: Table, version: int | None = None) -> DataFrame:
        """The table (or an older version of it) as a Spark DataFrame."""
        path = self._require(table, "read")
        return self.backend.read(path, version)

    def arrow_dataset(self, table: Table, version: int | None = None) -> pads.Dataset:
        """A pyarrow dataset over the live files, for DuckDB, polars and pandas readers."""
        path = self._require(table, "read")
        return DeltaTable(str(path), version=version).to_pyarrow_dataset()

    def read_arrow(self, table: Table, version: int | None = None) -> pa.Table:
        """The whole table as Arrow (bounded tables only: reports, small dimensions)."""
        return self.arrow_dataset(table, version).to_table()

    def count(self, table: Table) -> int:
        """Number of rows, from the live files' metadata where possible."""
        return self.arrow_dataset(table).count_rows()

    def version(self, table: Table) -> int:
        return DeltaTable(str(self._require(table, "version"))).version()

    def history(self, table: Table, limit: int | None = None) -> list[dict[str, Any]]:
        """Commits, newest first (operation, timestamp, parameters, metrics)."""
        return self.backend.history(self._require(table, "history"), limit)

    # ---- writes ----------------------------------------------------------------------------
    def _write(
        self,
        data: TableData,
        table: Table,
        mode: Literal["append", "overwrite"],
        predicate: str | None = None,
    ) -> None:
        _check_timestamps(data, table)
        data = _laid_out(data, table)
        path = self._path(table)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.backend.write(
                data, path, mode, table.partition_by, predicate, table.row_group_rows
            )
        except LakehouseError:
            raise
        except Exception as exc:
            raise LakehouseError(table, mode, exc) from exc
        log.info("%s %s (%s)", mode, table.qualified_name, self.backend.name)

    def append(self, data: TableData, table: Table) -> None:
        """Add rows; new columns are merged into the schema."""
        self._write(data, table, "append")

    def overwrite(self, data: TableData, table: Table) -> None:
        """Replace the whole table (schema included) in one commit."""
        self._write(data, table, "overwrite")

    def replace_where(
        self, data: TableData, table: Table, values: Mapping[str, Sequence[Any]]
    ) -> None:
        """Replace exactly the rows whose columns take the given values (replaceWhere).

        Typically one partition, e.g. ``{"_ingest_date": [day]}``; further columns narrow it
        (``{"_ingest_date": [day], "table": ["crm_contacts"]}``). Other rows are untouched.
        Every row of ``data`` must match, otherwise the write is rejected and the table is left
        as it was. New columns in ``data`` are merged into the schema.
        """
        if self.exists(table):
            known = set(self.arrow_dataset(table).schema.names)
            if unknown := set(values) - known:
                raise LakehouseError(table, "replace", f"no such columns: {sorted(unknown)}")
        predicate = partition_predicate(values, self.backend.identifier_quote)
        self._write(data, table, "overwrite", predicate)

    def merge(
        self, data: TableData, table: Table, keys: Sequence[str] | None = None
    ) -> MergeResult:
        """Upsert on ``keys`` (default: the table's keys); creates the table on first use."""
        keys = list(keys or table.keys)
        if not keys:
            raise LakehouseError(table, "merge", "no merge keys given and the table declares none")
        if isinstance(data, pa.RecordBatchReader):  # counted and merged: read it once
            data = data.read_all()
        if not self.exists(table):
            self._write(data, table, "overwrite")
            count = data.count() if isinstance(data, DataFrame) else len(data)
            return MergeResult(inserted=count, updated=0)
        try:
            return self.backend.merge(data, self._path(table), keys)
        except Exception as exc:
            raise LakehouseError(table, "merge", exc) from exc

    def vacuum(
        self, table: Table, retention_hours: int = DEFAULT_VACUUM_RETENTION_HOURS
    ) -> list[str]:
        """Delete files no longer referenced and older than the retention; returns them.

        Nothing in the pipeline calls it: an operator's maintenance step (docs/runbook.md).
        """
        return self.backend.vacuum(self._require(table, "vacuum"), retention_hours)

    # ---- erasure (c360.privacy) ------------------------------------------------------------
    def delete_where(self, table: Table, predicate: str) -> int:
        """Delete the rows matching ``predicate`` (SQL, delta-rs); returns how many.

        Only the files holding such rows are rewritten. Both writers read the result (delta-rs
        writes no deletion vectors). The predicate lands in the commit's metadata: erasures
        call :meth:`purge_history` afterwards.
        """
        path = self._require(table, "delete")
        try:
            metrics = DeltaTable(str(path)).delete(predicate)
        except Exception as exc:
            raise LakehouseError(table, "delete", exc) from exc
        return int(metrics.get("num_deleted_rows", 0))

    def purge_history(self, table: Table) -> list[str]:
        """Make the current version the only one: no file, commit or checkpoint of an older
        version is left (time travel ends here). Returns the data files deleted.

        Vacuums every unreferenced file with zero retention, then commits, checkpoints and
        drops every log entry before the checkpoint (old commits carry min / max statistics of
        the columns, so they hold values too).
        """
        path = str(self._require(table, "purge"))
        deleted = DeltaTable(path).vacuum(
            retention_hours=0, dry_run=False, enforce_retention_duration=False, full=True
        )
        DeltaTable(path).alter.set_table_properties(
            {"delta.logRetentionDuration": "interval 0 seconds"}
        )  # a commit after the last delete, so the delete's own commit is dropped too
        live = DeltaTable(path)
        live.create_checkpoint()
        live.cleanup_metadata()
        return deleted

    def drop(self, table: Table) -> None:
        """Delete a table and its files (tests, rebuilds)."""
        shutil.rmtree(self._path(table), ignore_errors=True)


def _laid_out(data: TableData, table: Table) -> TableData:
    """``data`` sorted by the table's ``sort_by`` columns, then its keys (ties in a fixed order).

    A RecordBatchReader is written as it streams: its producer orders it.
    """
    if not table.sort_by:
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data
    if isinstance(data, pd.DataFrame):
        data = pa.Table.from_pandas(data, preserve_index=False)
    columns = data.columns if isinstance(data, DataFrame) else data.column_names
    missing = [c for c in table.sort_by if c not in columns]
    if missing:
        raise LakehouseError(
            table,
            "write",
            f"the data has no {missing} column, which the table is sorted by (Table.sort_by); "
            "add it to the data or change the table's definition in c360/tables.py",
        )
    # Keys the data lacks (a narrower write) only lose the fixed order of ties.
    order = [c for c in dict.fromkeys([*table.sort_by, *table.keys]) if c in columns]
    if isinstance(data, DataFrame):
        return data.orderBy(*order)
    return data.sort_by([(c, "ascending") for c in order])


def _check_timestamps(data: TableData, table: Table) -> None:
    """Naive timestamps upgrade the Delta protocol (timestampNtz) and trip Spark readers."""
    from pyspark.sql.types import TimestampNTZType

    if isinstance(data, DataFrame):
        naive = [f.name for f in data.schema.fields if isinstance(f.dataType, TimestampNTZType)]
    else:
        arrow = isinstance(data, pa.Table | pa.RecordBatchReader)
        schema = data.schema if arrow else pa.Schema.from_pandas(data)
        naive = [f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.tz is None]
    if naive:
        raise LakehouseError(
            table,
            "write",
            f"columns {naive} are timestamps without time zone; convert them to UTC first "
            "(pandas: .dt.tz_localize('UTC'); Spark: cast to TIMESTAMP)",
        )
