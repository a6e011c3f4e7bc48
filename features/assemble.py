"""Long values -> the wide snapshot table, in Arrow on the driver.

The build (:mod:`features.compiler`) leaves two small results: the windowed features in
long form (one array of values per customer and slice key, per cluster of keys) and the
customer-level features (one narrow row per customer). :func:`assemble_snapshot` returns a
:class:`Snapshot` that scatters the long values into one column per feature with numpy, batch
by batch of customers, when it is read: the wide table is never a Spark plan, and a writer can
stream it without holding it whole. A customer without a row for a key takes the cluster's no-event
values (a count of 0, a null mean...; :func:`features.engine.no_event_values`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.engine import slot_column
from features.plan import ClusterPlan
from features.spec import NUMERIC_DTYPES, FeatureDefinition

BATCH_ROWS = 8192


class AssemblyError(RuntimeError):
    """The long values and the customers do not fit together (a bug, not bad data)."""


@dataclass
class _ClusterCells:
    """One cluster's value rows, in the customers' snapshot order (through ``order``: the slot
    values stay the engine's arrays, not sorted copies, to halve the driver's memory)."""

    positions: np.ndarray  # snapshot row of each value row, ascending
    key_codes: np.ndarray  # index of the row's slice key in the key list, same order
    order: np.ndarray  # the engine's row behind each of those
    slots: list[np.ndarray]  # per slot, the value of each engine row (float64, NaN = null)
    targets: list[tuple[int, np.ndarray, np.ndarray]]  # (key code, slots, windowed rows)

    def scatter(self, cells: np.ndarray, start: int, stop: int) -> None:
        """Write the values of snapshot rows ``start``..``stop`` into ``cells`` (one row per
        windowed feature, one column per customer of the batch)."""
        first, last = np.searchsorted(self.positions, [start, stop])
        codes = self.key_codes[first:last]
        for code, slots, targets in self.targets:
            rows = first + np.flatnonzero(codes == code)
            if len(rows) == 0:
                continue
            columns = self.positions[rows] - start
            engine_rows = self.order[rows]
            for slot, target in zip(slots, targets, strict=True):
                cells[target, columns] = self.slots[slot][engine_rows]


def join_on_customer(customer_ids: list[str], tables: list[pa.Table]) -> pa.Table:
    """``customer_id`` and every other column of ``tables``, one row per given customer.

    Each table holds at most one row per customer; a customer it lacks gets nulls (a left join
    done in Arrow, because the customer-level inputs are small once aggregated).
    """
    population = pa.array(customer_ids, pa.string())
    columns: dict[str, pa.ChunkedArray | pa.Array] = {"customer_id": population}
    for table in tables:
        ids = table.column("customer_id").combine_chunks()
        if pc.count_distinct(ids, mode="all").as_py() != len(ids):
            raise AssemblyError(f"{table.column_names[1:]}: more than one row per customer")
        rows = pc.index_in(population, value_set=ids)  # null where the table lacks the customer
        for name in table.column_names:
            if name != "customer_id":
                columns[name] = table.column(name).take(rows)
    return pa.table(columns)


def assemble_snapshot(
    customer_level: pa.Table,
    long_values: dict[int, pa.Table],
    no_events: dict[int, tuple[np.ndarray, np.ndarray]],
    plans: list[ClusterPlan],
    features: list[FeatureDefinition],
    as_of: date,
    batch_rows: int = BATCH_ROWS,
) -> Snapshot:
    """The snapshot: ``customer_id``, ``as_of_date`` and every feature in catalog order, as
    record batches produced on demand (see :class:`Snapshot`).

    Args:
        customer_level: ``customer_id`` and the customer-level features, one row per customer.
        long_values: per cluster, the engine's ``(customer_id, slice_key, s0, s1...)`` rows.
        no_events: per cluster, the slots (values, validity) of a customer without events.
        plans: the plan's clusters (slots and which feature each slot fills per key).
        features: the expanded spec, in catalog order.
        as_of: the snapshot's date.
        batch_rows: customers per record batch (bounds the working memory).
    """
    customer_level = customer_level.sort_by("customer_id")
    customer_ids = customer_level.column("customer_id").combine_chunks()
    if pc.count_distinct(customer_ids, mode="all").as_py() != len(customer_ids):
        raise AssemblyError("the customer-level rows repeat a customer_id")
    windowed = [f for f in features if f.source is not None]
    windowed_row = {f.name: row for row, f in enumerate(windowed)}
    defaults = np.full(len(windowed), np.nan)
    clusters = []
    for plan in plans:
        if not plan.slots:
            continue
        rows = long_values.get(plan.index)
        if rows is None:  # nobody has an event in the cluster's keys: every cell is a default
            rows = pa.schema(
                [("customer_id", pa.string()), ("slice_key", pa.string())]
                + [(slot_column(n), pa.float64()) for n in range(len(plan.slots))]
            ).empty_table()
        clusters.append(
            _cluster_cells(rows, plan, no_events[plan.index], customer_ids, windowed_row, defaults)
        )
    schema = snapshot_schema(customer_level.schema, features)
    return Snapshot(
        schema, customer_level, clusters, features, windowed_row, defaults, as_of, batch_rows
    )


@dataclass
class Snapshot:
    """An assembled snapshot that builds its record batches when read: a writer can stream
    them (:meth:`reader`), so the whole wide table need not be in memory at once."""

    schema: pa.Schema
    customer_level: pa.Table
    clusters: list[_ClusterCells]
    features: list[FeatureDefinition]
    windowed_row: dict[str, int]
    defaults: np.ndarray
    as_of: date
    batch_rows: int

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The snapshot's rows, ``batch_rows`` customers at a time, sorted by customer."""
        rows = self.customer_level.num_rows
        for start in range(0, rows, self.batch_rows):
            stop = min(rows, start + self.batch_rows)
            cells = np.empty((len(self.defaults), stop - start))
            cells[:] = self.defaults[:, None]
            for cluster in self.clusters:
                cluster.scatter(cells, start, stop)
            part = self.customer_level.slice(start, stop - start)
            arrays: list[pa.Array] = [
                part.column("customer_id").combine_chunks(),
                pa.array(np.full(stop - start, np.datetime64(self.as_of, "D")), pa.date32()),
            ]
            for feature in self.features:
                if feature.source is None:
                    arrays.append(part.column(feature.name).combine_chunks())
                else:
                    row = self.windowed_row[feature.name]
                    arrays.append(_column(cells[row], feature.dtype))
            yield pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def reader(self) -> pa.RecordBatchReader:
        """A fresh stream of :meth:`batches` (each call assembles them again)."""
        return pa.RecordBatchReader.from_batches(self.schema, self.batches())

    def to_table(self) -> pa.Table:
        """The whole snapshot in memory."""
        return pa.Table.from_batches(list(self.batches()), schema=self.schema)


def _cluster_cells(
    rows: pa.Table,
    plan: ClusterPlan,
    no_events: tuple[np.ndarray, np.ndarray],
    customer_ids: pa.Array,
    windowed_row: dict[str, int],
    defaults: np.ndarray,
) -> _ClusterCells:
    """Read one cluster's rows; record its no-event values in ``defaults``."""
    slot_values = [
        rows.column(slot_column(n)).combine_chunks().to_numpy(zero_copy_only=False)
        for n in range(len(plan.slots))
    ]
    no_event_values = np.where(no_events[1], no_events[0], np.nan)
    targets = []
    for code, key in enumerate(plan.keys):
        pairs = plan.scatter.get(key, [])
        if not pairs:
            continue
        slots = np.array([slot for slot, _ in pairs])
        targets_rows = np.array([windowed_row[name] for _, name in pairs])
        defaults[targets_rows] = no_event_values[slots]
        targets.append((code, slots, targets_rows))
    positions = _positions(rows.column("customer_id"), customer_ids)
    if (positions < 0).any():
        raise AssemblyError(f"cluster {plan.index}: values for customers outside the population")
    key_codes = _positions(rows.column("slice_key"), pa.array(plan.keys, pa.string()))
    order = np.argsort(positions, kind="stable")
    return _ClusterCells(
        positions=positions[order],
        key_codes=key_codes[order],
        order=order,
        slots=slot_values,
        targets=targets,
    )


def _positions(values: pa.ChunkedArray, listed: pa.Array) -> np.ndarray:
    """Index of each value in ``listed`` (-1 when absent)."""
    found = pc.index_in(values, value_set=listed)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def snapshot_schema(customer_schema: pa.Schema, features: list[FeatureDefinition]) -> pa.Schema:
    """``customer_id``, ``as_of_date`` and every feature in catalog order."""
    fields = [customer_schema.field("customer_id"), pa.field("as_of_date", pa.date32())]
    for feature in features:
        if feature.source is None:
            fields.append(customer_schema.field(feature.name))
        else:
            fields.append(pa.field(feature.name, NUMERIC_DTYPES[feature.dtype]))
    return pa.schema(fields)


def _column(values: np.ndarray, dtype: str) -> pa.Array:
    """One feature column; NaN is null (the engine never yields NaN as a value). Integers were
    truncated by the engine already."""
    missing = np.isnan(values)
    mask = missing if missing.any() else None
    if dtype != "double":
        values = np.where(missing, 0, values).astype(NUMERIC_DTYPES[dtype].to_pandas_dtype())
    return pa.array(values, type=NUMERIC_DTYPES[dtype], mask=mask)
