"""``quarantine/rejects``: where unusable rows go, with their raw text and the reasons."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from c360.lakehouse import Lakehouse, TableData
from c360.tables import INGEST_DATE, QUARANTINE_REJECTS


def replace_rejects(lake: Lakehouse, layer: str, table: str, day: date, rejects: pa.Table) -> None:
    """Replace the rejects one (layer, table, day) produced; a re-run does not duplicate them."""
    scope = {INGEST_DATE: [day], "layer": [layer], "table": [table]}
    lake.replace_where(rejects, QUARANTINE_REJECTS, scope)


def replace_silver_rejects(lake: Lakehouse, table: str, rejects: TableData) -> None:
    """Replace every silver reject of ``table`` (silver is rebuilt from all of bronze)."""
    lake.replace_where(rejects, QUARANTINE_REJECTS, {"layer": ["silver"], "table": [table]})
