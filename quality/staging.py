"""The staged silver build of write-audit-publish: rows not yet written, their rejects and the
versions they superseded, with the row accounting that must hold before anything is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from c360.tables import Table


class RowAccountingError(RuntimeError):
    """Bronze rows are not all accounted for as silver, superseded or quarantined rows."""


@dataclass
class SilverBuild:
    """A silver table ready to audit and write, its rejects, and the rows latest_version dropped.

    ``rows`` may carry helper columns (``_landed``) until :func:`conform` to ``schema``.
    """

    table: Table
    rows: DataFrame
    rejects: DataFrame
    superseded: DataFrame
    schema: pa.Schema

    def account(self, bronze_rows: int) -> dict[str, int]:
        """Row accounting, each count taken on its own rows (none derived from the others)."""
        return {
            "rows_bronze": bronze_rows,
            "rows_silver": self.rows.count(),
            "rows_quarantined": self.rejects.count(),
            # older versions a newer one replaced: accounted, not lost (bronze keeps them)
            "rows_superseded": self.superseded.count(),
        }

    def check_accounting(self, bronze_rows: int) -> dict[str, int]:
        """:meth:`account`, raising when bronze != silver + superseded + quarantined.

        Raises:
            RowAccountingError: rows were lost or duplicated between bronze and silver.
        """
        counts = self.account(bronze_rows)
        accounted = counts["rows_silver"] + counts["rows_superseded"] + counts["rows_quarantined"]
        if accounted != bronze_rows:
            raise RowAccountingError(
                f"{self.table.qualified_name}: {bronze_rows} bronze rows but {accounted} "
                f"accounted for (silver {counts['rows_silver']} + superseded "
                f"{counts['rows_superseded']} + quarantined {counts['rows_quarantined']}); "
                "rows were lost or duplicated: nothing was written, report this as a bug"
            )
        return counts


def conform(frame: DataFrame, schema: pa.Schema, keep: Sequence[str] = ()) -> DataFrame:
    """Select the schema's columns in order, cast to its types (one definition of the table).

    ``keep`` names helper columns carried after them (e.g. ``_landed`` until the audit).
    """
    spark_schema = from_arrow_schema(schema)
    typed = [F.col(f.name).cast(f.dataType).alias(f.name) for f in spark_schema]
    return frame.select(*typed, *keep)
