"""Read-only access to the lakehouse tables the customer view answers from.

Every read names its columns and a filter, so delta-rs / pyarrow prune partitions, files and
row groups: one customer never loads a whole table it does not need.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
from deltalake import DeltaTable

from c360.lakehouse import Lakehouse
from c360.tables import GOLD_CUSTOMER_FEATURES, Table


class ViewStore:
    """The lakehouse opened for reads only (no Spark, never a write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.lake = Lakehouse(self.root, spark=None, writer="delta-rs")

    def exists(self, table: Table) -> bool:
        return self.lake.exists(table)

    def schema(self, table: Table) -> pa.Schema:
        return self.lake.arrow_dataset(table).schema

    def rows(
        self,
        table: Table,
        where: pc.Expression | None,
        columns: list[str] | None = None,
        dataset: pads.Dataset | None = None,
    ) -> pa.Table:
        """Rows of ``table`` matching ``where`` (columns that the table lacks are skipped);
        an empty table when the table does not exist."""
        if dataset is None:
            if not self.exists(table):
                return pa.table({})
            dataset = self.lake.arrow_dataset(table)
        if columns is not None:
            columns = [c for c in columns if c in dataset.schema.names]
        return dataset.to_table(columns=columns, filter=where)

    def latest_partition(self, table: Table, column: str) -> date | None:
        """The newest value of a date partition column (from the Delta log, no data read)."""
        if not self.exists(table):
            return None
        partitions = DeltaTable(self.lake.location(table)).partitions()
        days = [p[column] for p in partitions if p.get(column)]
        return date.fromisoformat(max(days)) if days else None

    def latest_snapshot(self) -> date | None:
        """The newest ``as_of_date`` of ``gold/customer_features``."""
        return self.latest_partition(GOLD_CUSTOMER_FEATURES, "as_of_date")


def is_in(column: str, values: list[str]) -> pc.Expression:
    """``column IN values`` as a dataset filter."""
    return pc.field(column).isin(pa.array(values, pa.string()))
