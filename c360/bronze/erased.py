"""Rows of erased people never reach bronze: they go to quarantine with reason ``erased``.

The suppression list (``gold/privacy_suppression``, filled by the privacy stage) holds salted
hashes of the erased people's record references and standardised phone, e-mail and national ID
(:mod:`c360.privacy_rules`). A landed row matching one is replaced by a quarantine row that keeps
only where it came from (file, row number) and the reason: no raw text, so nothing of the person
is stored again.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pyarrow as pa

from c360.lakehouse import Lakehouse
from c360.privacy_rules import ERASED_REASON, read_suppression, split_erased
from c360.tables import INGEST_DATE, QUARANTINE_SCHEMA


def erased_rejects(entity_name: str, erased: pa.Table) -> pa.Table:
    """Quarantine rows for ``erased`` bronze rows: lineage and reason only, ``raw`` null."""
    n = erased.num_rows
    return pa.table(
        {
            "layer": pa.array(["bronze"] * n, pa.string()),
            "table": pa.array([entity_name] * n, pa.string()),
            INGEST_DATE: erased.column(INGEST_DATE),
            "_source_file": erased.column("_source_file"),
            "_row_number": erased.column("_row_number"),
            "raw": pa.nulls(n, pa.string()),
            "reasons": pa.array([[ERASED_REASON]] * n, pa.list_(pa.string())),
            "detected_at": pa.array([datetime.now(UTC)] * n, pa.timestamp("us", tz="UTC")),
        },
        schema=QUARANTINE_SCHEMA,
    )


def without_erased(lake: Lakehouse, extract):
    """``extract`` (a :class:`~c360.bronze.ingest.DayExtract`) with erased people's rows moved
    to its rejects; unchanged when the suppression list is empty."""
    suppressed = read_suppression(lake)
    if not suppressed or extract.rows.num_rows == 0:
        return extract
    kept, erased = split_erased(extract.entity, extract.rows, suppressed)
    if erased.num_rows == 0:
        return extract
    rejects = pa.concat_tables(
        [extract.rejects.cast(QUARANTINE_SCHEMA), erased_rejects(extract.entity.name, erased)]
    )
    return dataclasses.replace(extract, rows=kept, rejects=rejects)
