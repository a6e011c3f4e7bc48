"""The Arrow IPC transport between the Spark workers and the driver.

The engine's results (and the small per-customer inputs that share its Spark job) leave the
workers as output rows of :data:`OUTPUT_DDL`: a ``_bucket`` number, a ``_cluster`` number and one
lz4-compressed Arrow IPC stream of at most :data:`BATCH_ROWS` rows, all of one bucket (customers
are ranged by ``customer_id`` into buckets at the given boundaries: :func:`bucket_of`). So 50
million values do not cross the JVM as Spark arrays and back; :func:`read_output` decodes them on
the driver, one table per ``_cluster``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa

OUTPUT_DDL = "_bucket int, _cluster int, _batch binary"
OUTPUT_SCHEMA = pa.schema(
    [
        pa.field("_bucket", pa.int32()),
        pa.field("_cluster", pa.int32()),
        pa.field("_batch", pa.binary()),
    ]
)
BATCH_ROWS = 16_384
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")
Boundaries = Sequence[str]  # first customer_id of buckets 1, 2, ... (bucket 0 has no bound)


def bucket_of(boundaries: Boundaries, customer_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The bucket of each customer: the number of boundaries at or below its id (byte order,
    as Spark and Arrow sort strings)."""
    if not boundaries:
        return np.zeros(len(customer_ids), dtype=np.int32)
    ids = np.asarray(customer_ids.fill_null("").to_numpy(zero_copy_only=False), dtype=object)
    return np.searchsorted(np.asarray(boundaries, dtype=object), ids, side="right").astype(np.int32)


def shipped(cluster: int, table: pa.Table, boundaries: Boundaries = ()) -> Iterator[pa.RecordBatch]:
    """``table`` (with a ``customer_id`` column when ``boundaries`` are given) as output rows of
    at most :data:`BATCH_ROWS` rows each, IPC-serialised, one bucket per row."""
    if not boundaries:
        yield from _shipped(0, cluster, table)
        return
    buckets = bucket_of(boundaries, table.column("customer_id"))
    for bucket in np.unique(buckets):
        yield from _shipped(int(bucket), cluster, table.filter(pa.array(buckets == bucket)))


def _shipped(bucket: int, cluster: int, table: pa.Table) -> Iterator[pa.RecordBatch]:
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema, options=_IPC_OPTIONS) as writer:
            writer.write_batch(batch)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array([bucket], pa.int32()),
                pa.array([cluster], pa.int32()),
                pa.array([sink.getvalue().to_pybytes()], pa.binary()),
            ],
            schema=OUTPUT_SCHEMA,
        )


def ship_function(
    cluster: int, boundaries: Boundaries = ()
) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """A ``mapInArrow`` function that passes its rows (with a ``customer_id``) through as output
    rows of ``cluster``, so other small results can share the engine's Spark job."""

    def ship(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows:
                yield from shipped(cluster, pa.Table.from_batches([batch]), boundaries)

    return ship


def read_output(output: pa.Table) -> dict[int, pa.Table]:
    """The engine's output rows decoded on the driver: one table per ``_cluster``."""
    parts: dict[int, list[pa.Table]] = {}
    for cluster, blob in zip(
        output.column("_cluster").to_pylist(), output.column("_batch").to_pylist(), strict=True
    ):
        parts.setdefault(cluster, []).append(pa.ipc.open_stream(blob).read_all())
    return {cluster: pa.concat_tables(tables) for cluster, tables in parts.items()}
