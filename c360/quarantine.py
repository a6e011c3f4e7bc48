"""``quarantine/rejects``: where unusable rows go, with their raw text and the reasons.

Bronze and silver both write here; the table is defined in :mod:`c360.tables`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360.lakehouse import Lakehouse, TableData
from c360.tables import INGEST_DATE, QUARANTINE_REJECTS, Table


def replace_rejects(lake: Lakehouse, layer: str, table: str, day: date, rejects: pa.Table) -> None:
    """Replace the rejects one (layer, table, day) produced; a re-run does not duplicate them."""
    scope = {INGEST_DATE: [day], "layer": [layer], "table": [table]}
    lake.replace_where(rejects, QUARANTINE_REJECTS, scope)


def replace_silver_rejects(lake: Lakehouse, table: str, rejects: TableData) -> None:
    """Replace every silver reject of ``table`` (silver is rebuilt from all of bronze)."""
    lake.replace_where(rejects, QUARANTINE_REJECTS, {"layer": ["silver"], "table": [table]})


def count_rejects(lake: Lakehouse, layer: str, table: str, day: date) -> int:
    """Rejects ``quarantine/rejects`` holds for one (layer, table, day), counted in the table."""
    if not lake.exists(QUARANTINE_REJECTS):
        return 0
    scope = (
        (pc.field(INGEST_DATE) == pa.scalar(day, pa.date32()))
        & (pc.field("layer") == layer)
        & (pc.field("table") == table)
    )
    return lake.arrow_dataset(QUARANTINE_REJECTS).count_rows(filter=scope)


def rejects_frame(
    frame: DataFrame, table: Table, landed: Sequence[str], reasons: Column
) -> DataFrame:
    """Rows of ``frame`` as ``quarantine/rejects`` rows (raw = the landed row as JSON)."""
    return frame.select(
        F.lit("silver").alias("layer"),
        F.lit(table.name).alias("table"),
        F.col(INGEST_DATE),
        F.col("_source_file"),
        F.col("_row_number"),
        F.to_json(F.struct(*[F.col(c) for c in landed])).alias("raw"),
        reasons.alias("reasons"),
        F.current_timestamp().alias("detected_at"),
    )
