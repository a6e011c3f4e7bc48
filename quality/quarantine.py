"""``quarantine/rejects``: where unusable rows go, with their raw text and the reasons."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from c360.lakehouse import Lakehouse, TableData
from c360.tables import INGEST_DATE, QUARANTINE_REJECTS


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
