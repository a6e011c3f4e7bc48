"""Every lakehouse table, named once (ARCHITECTURE.md section 4).

Code refers to tables by these constants; only :mod:`c360.lakehouse` turns them into paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from c360.contract import SOURCE_ENTITIES, SourceEntity

LAYERS = ("bronze", "silver", "gold", "quarantine")


@dataclass(frozen=True)
class Table:
    """A Delta table under the lakehouse root: ``<root>/<layer>/<name>``."""

    layer: str
    name: str
    partition_by: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}; expected one of {LAYERS}")

    @property
    def qualified_name(self) -> str:
        """``layer.name``, as used in logs, metadata and SQL views."""
        return f"{self.layer}.{self.name}"


# Lineage columns every bronze table carries besides the landed columns (all strings as landed).
INGEST_DATE = "_ingest_date"
BRONZE_LINEAGE_SCHEMA = pa.schema(
    [
        pa.field(INGEST_DATE, pa.date32(), nullable=False),
        pa.field("_source_file", pa.string(), nullable=False),
        pa.field("_row_number", pa.int64(), nullable=False),
        pa.field("_ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("_record_hash", pa.string(), nullable=False),
    ]
)


def bronze_table(entity: SourceEntity) -> Table:
    """The bronze table for one landing-zone source entity."""
    return Table(
        layer="bronze",
        name=entity.name,
        partition_by=(INGEST_DATE,),
        keys=(INGEST_DATE, "_source_file", "_row_number"),
        description=f"{entity.source} {entity.entity} as landed (strings) plus lineage columns",
    )


BRONZE_TABLES: dict[str, Table] = {e.name: bronze_table(e) for e in SOURCE_ENTITIES}

QUARANTINE_REJECTS = Table(
    layer="quarantine",
    name="rejects",
    partition_by=(INGEST_DATE,),
    keys=("layer", "table", INGEST_DATE, "_source_file", "_row_number"),
    description="rows that could not be used, with their raw text and the reasons",
)
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("layer", pa.string(), nullable=False),
        pa.field("table", pa.string(), nullable=False),
        pa.field(INGEST_DATE, pa.date32(), nullable=False),
        pa.field("_source_file", pa.string(), nullable=False),
        pa.field("_row_number", pa.int64()),
        pa.field("raw", pa.string()),
        pa.field("reasons", pa.list_(pa.string()), nullable=False),
        pa.field("detected_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
