"""Customer buckets: the snapshot is built and written one range of ``customer_id`` at a time.

A 1M-customer snapshot of 3,020 features is 2.8 billion cells, so the driver must never hold
the population's wide rows, nor the engine's long values behind them. The build ranges
customers by ``customer_id`` (ranges, not hashes: each file of the snapshot then covers one
id range and its statistics prune a reader of one customer to one file) into buckets of
:func:`customers_per_bucket` customers, sized from ``snapshot.memory_budget_mb``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from features.spec import SnapshotSettings

# Driver bytes one customer of a bucket takes, per feature column: the engine's long values
# decompressed (float64 per slot and key row, with its ids), the assembly's float64 cells and
# the Arrow column built from them, and the Parquet writer's encoding buffers. Measured at 10k
# customers (docs/features.md, "Memory"): about 4 x 8 bytes per feature.
BYTES_PER_FEATURE = 32


def customers_per_bucket(settings: SnapshotSettings, feature_columns: int) -> int:
    """How many customers one bucket may hold within the memory budget (at least one)."""
    per_customer = BYTES_PER_FEATURE * max(1, feature_columns)
    return max(1, settings.memory_budget_mb * 2**20 // per_customer)


def bucket_boundaries(customer_ids: pa.Array | pa.ChunkedArray, per_bucket: int) -> list[str]:
    """The first customer_id of buckets 1, 2, ...: every ``per_bucket``-th distinct id in byte
    order (empty when everyone fits one bucket). Bucket ``b`` holds the ids from boundary
    ``b - 1`` (inclusive) to boundary ``b`` (exclusive); ids outside the list still fall in the
    first or the last bucket."""
    if per_bucket < 1:
        raise ValueError(f"a bucket must hold at least one customer, not {per_bucket}")
    distinct = pc.unique(customer_ids.drop_null() if len(customer_ids) else customer_ids)
    if len(distinct) <= per_bucket:
        return []
    ordered = distinct.take(pc.sort_indices(distinct))
    return ordered.take(pa.array(range(per_bucket, len(ordered), per_bucket))).to_pylist()
