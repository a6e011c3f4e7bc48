"""Read-only access to the lakehouse tables the customer view answers from.

Every read names its columns and a filter, so delta-rs / pyarrow prune partitions, files and
row groups: one customer never loads a whole table it does not need.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
from deltalake import DeltaTable

from c360.lakehouse import Lakehouse
from c360.tables import GOLD_CUSTOMER_FEATURES, Table


class ViewStore:
    """The lakehouse opened for reads only (no Spark, never a write).

    Opening a Delta table (its log) and a dataset over its files costs milliseconds each, and
    a profile reads a dozen tables: each table's dataset is kept for ``refresh_seconds`` (a
    web server sees a new pipeline run within that time; 0 opens every table on every read).
    """

    def __init__(self, root: Path, refresh_seconds: float = 30.0) -> None:
        self.root = Path(root)
        self.lake = Lakehouse(self.root, spark=None, writer="delta-rs")
        self.refresh_seconds = refresh_seconds
        self._datasets: dict[str, tuple[float, pads.Dataset | None]] = {}
        self._latest: dict[str, tuple[float, date | None]] = {}

    def dataset(self, table: Table) -> pads.Dataset | None:
        """The live files of ``table`` as a pyarrow dataset (None when it does not exist)."""
        now = time.monotonic()
        cached = self._datasets.get(table.qualified_name)
        if cached is not None and now - cached[0] < self.refresh_seconds:
            return cached[1]
        dataset = self.lake.arrow_dataset(table) if self.lake.exists(table) else None
        self._datasets[table.qualified_name] = (now, dataset)
        return dataset

    def exists(self, table: Table) -> bool:
        return self.dataset(table) is not None

    def schema(self, table: Table) -> pa.Schema:
        dataset = self.dataset(table)
        return dataset.schema if dataset is not None else pa.schema([])

    def rows(
        self,
        table: Table,
        where: pc.Expression | None,
        columns: list[str] | None = None,
        dataset: pads.Dataset | None = None,
    ) -> pa.Table:
        """Rows of ``table`` matching ``where`` (columns that the table lacks are skipped);
        an empty table when the table does not exist."""
        dataset = dataset or self.dataset(table)
        if dataset is None:
            return pa.table({})
        if columns is not None:
            columns = [c for c in columns if c in dataset.schema.names]
        return dataset.to_table(columns=columns, filter=where)

    def latest_partition(self, table: Table, column: str) -> date | None:
        """The newest value of a date partition column (from the Delta log, no data read)."""
        key = f"{table.qualified_name}:{column}"
        now = time.monotonic()
        cached = self._latest.get(key)
        if cached is not None and now - cached[0] < self.refresh_seconds:
            return cached[1]
        latest = None
        if self.exists(table):
            partitions = DeltaTable(self.lake.location(table)).partitions()
            days = [p[column] for p in partitions if p.get(column)]
            latest = date.fromisoformat(max(days)) if days else None
        self._latest[key] = (now, latest)
        return latest

    def latest_snapshot(self) -> date | None:
        """The newest ``as_of_date`` of ``gold/customer_features``."""
        return self.latest_partition(GOLD_CUSTOMER_FEATURES, "as_of_date")


def is_in(column: str, values: list[str]) -> pc.Expression:
    """``column IN values`` as a dataset filter."""
    return pc.field(column).isin(pa.array(values, pa.string()))
