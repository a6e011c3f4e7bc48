"""The Arrow IPC transport between the Spark workers and the driver.

The engine's results (and the small per-customer inputs that share its Spark job) leave the
workers as output rows of :data:`OUTPUT_DDL`: a ``_cluster`` number and one lz4-compressed Arrow
IPC stream of at most :data:`BATCH_ROWS` rows. So 50 million values do not cross the JVM as
Spark arrays and back; :func:`read_output` decodes them on the driver, one table per
``_cluster``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa

OUTPUT_DDL = "_cluster int, _batch binary"
OUTPUT_SCHEMA = pa.schema([pa.field("_cluster", pa.int32()), pa.field("_batch", pa.binary())])
BATCH_ROWS = 16_384
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


def shipped(cluster: int, table: pa.Table) -> Iterator[pa.RecordBatch]:
    """``table`` as output rows of at most :data:`BATCH_ROWS` rows each, IPC-serialised."""
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema, options=_IPC_OPTIONS) as writer:
            writer.write_batch(batch)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array([cluster], pa.int32()),
                pa.array([sink.getvalue().to_pybytes()], pa.binary()),
            ],
            schema=OUTPUT_SCHEMA,
        )


def ship_function(cluster: int) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """A ``mapInArrow`` function that passes its rows through as output rows of ``cluster``,
    so other small results can share the engine's Spark job."""

    def ship(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows:
                yield from shipped(cluster, pa.Table.from_batches([batch]))

    return ship


def read_output(output: pa.Table) -> dict[int, pa.Table]:
    """The engine's output rows decoded on the driver: one table per ``_cluster``."""
    parts: dict[int, list[pa.Table]] = {}
    for cluster, blob in zip(
        output.column("_cluster").to_pylist(), output.column("_batch").to_pylist(), strict=True
    ):
        parts.setdefault(cluster, []).append(pa.ipc.open_stream(blob).read_all())
    return {cluster: pa.concat_tables(tables) for cluster, tables in parts.items()}
