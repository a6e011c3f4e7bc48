"""Bronze: landing-zone extracts as landed (strings) plus lineage; unparseable rows quarantined.

:mod:`c360.bronze.readers` reads one file (CSV, JSON lines, Parquet) into rows and rejects;
:mod:`c360.bronze.ingest` is the job: one source entity's complete day into its bronze table.
"""

from c360.bronze.ingest import (
    DayExtract,
    IngestResult,
    bronze_schema,
    ingest_day,
    ingest_days,
    read_day,
    removed_days,
)
from c360.bronze.readers import AccountingError, IngestError, ParsedFile, Reject

__all__ = [
    "AccountingError",
    "DayExtract",
    "IngestError",
    "IngestResult",
    "ParsedFile",
    "Reject",
    "bronze_schema",
    "ingest_day",
    "ingest_days",
    "read_day",
    "removed_days",
]
