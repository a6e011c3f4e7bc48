"""The windowed features of one partition of customers, computed with numpy.

Spark prepares each source's events (filters as ``_f_<filter>`` booleans, slice keys as
``_k_<dimension>``, numeric values as ``_n_<column>``, distinct-count values as ``_s_<column>``),
repartitions them by customer and hands each partition to :func:`partition_function` through
``mapInArrow``. Per cluster of slice keys (:class:`features.compiler.ClusterPlan`) the engine

1. explodes the events into (customer, slice key) groups, sorted once,
2. computes every base aggregate (a measure over a window) with one ``reduceat`` over the
   sorted rows: counts, sums, minima and maxima, two-pass sample standard deviations, first and
   last ``days_ago``; exact distinct counts from each value's latest occurrence,
3. evaluates the cluster's slots: fills, ratios, deltas and trends, cast through the dtype,

and returns, per cluster, one row per (customer, slice key) with the slots, plus one row per
customer (``_cluster`` negative) with the raw aggregates the customer-level families read, at
the positions of :attr:`SourceJob.internal_layout` (see :data:`OUTPUT_DDL`). The semantics are
those of the SQL they replace: an aggregate over no rows is null (a count is 0), nulls in a
value column are skipped, a sample standard deviation needs two values, a ratio needs a positive
denominator.

Why not Spark aggregates: 300 conditional aggregates per row kept Spark's hash aggregation out of
generated code and cost seconds per pass, far more than the vectorised passes here
(docs/features.md, "Performance").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from features.spec import ALL, COMPARISON_AGGS, Comparison, Measure

BasePair = tuple[str, str]  # (measure, window)
Column = tuple[np.ndarray, np.ndarray]  # float64 values, bool validity (False = null)

# Spark only ships the engine's results: each output row carries one Arrow IPC stream (a record
# batch of at most BATCH_ROWS rows, column per slot), so 50 million values do not cross the
# JVM as Spark arrays and back. :func:`read_output` decodes them on the driver.
OUTPUT_DDL = "_cluster int, _batch binary"
OUTPUT_SCHEMA = pa.schema([pa.field("_cluster", pa.int32()), pa.field("_batch", pa.binary())])
BATCH_ROWS = 16_384
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


@dataclass(frozen=True)
class ClusterJob:
    """What the engine computes for one cluster (a picklable slice of the compiler's plan)."""

    index: int
    keys: list[str]
    key_dimensions: list[str]  # the slice dimension of each key (``all`` for the total)
    pairs: list[BasePair]
    slots: list[tuple[str, str, str]]

    @property
    def dimensions(self) -> list[str]:
        return sorted(set(self.key_dimensions))


@dataclass(frozen=True)
class SourceJob:
    """Everything the engine needs for one source: clusters, measures, windows, comparisons."""

    clusters: list[ClusterJob]
    internal_cluster: int  # the ``_cluster`` (negative) of the per-customer rows
    # The per-customer row: which (cluster, key, measure, window) each position holds.
    internal_layout: list[tuple[int, str, str, str]]
    measures: dict[str, Measure]
    windows: dict[str, tuple[int, int | None]]  # name -> inclusive days_ago bounds
    comparisons: dict[str, Comparison]


def numeric_column(name: str) -> str:
    return f"_n_{name}"


def string_column(name: str) -> str:
    return f"_s_{name}"


def key_column(dimension: str) -> str:
    return f"_k_{dimension}"


def flag_column(filter_name: str) -> str:
    return f"_f_{filter_name}"


# ---- per partition ----------------------------------------------------------------------------


def partition_function(
    job: SourceJob,
) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The ``mapInArrow`` function: a partition's events in, its (customer, key) rows out."""

    def compute(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        received = list(batches)
        if not received:
            return
        events = pa.Table.from_batches(received)
        if events.num_rows == 0:
            return
        customers, customer_codes = _factorize(events.column("customer_id"))
        internal = np.full((len(customers), len(job.internal_layout)), np.nan)
        for cluster in job.clusters:
            groups = _Groups.explode(events, cluster, customer_codes)
            if groups.count == 0:
                continue
            aggregates = _aggregates(events, groups, job, cluster)
            _fill_internal(internal, job, cluster, groups, aggregates)
            if cluster.slots:
                yield from _value_rows(job, cluster, groups, aggregates, customers)
        yield from _internal_rows(customers, internal, job.internal_cluster)

    return compute


def _value_rows(
    job: SourceJob,
    cluster: ClusterJob,
    groups: _Groups,
    aggregates: dict[BasePair, Column],
    customers: np.ndarray,
) -> Iterator[pa.RecordBatch]:
    """The cluster's (customer, slice key) rows: ``customer_id``, ``slice_key``, one float64
    column per slot (``s0``, ``s1``...; NaN = null)."""
    group_customers = groups.ids // len(cluster.keys)
    group_keys = groups.ids % len(cluster.keys)
    columns = {
        "customer_id": pa.array(customers[group_customers], pa.string()),
        "slice_key": pa.array(np.asarray(cluster.keys, dtype=object)[group_keys], pa.string()),
    }
    for number, (measure, period, dtype) in enumerate(cluster.slots):
        values, valid = _slot(job, aggregates, measure, period, dtype)
        columns[slot_column(number)] = pa.array(np.where(valid, values, np.nan))
    yield from _shipped(cluster.index, pa.table(columns))


def _fill_internal(
    internal: np.ndarray,
    job: SourceJob,
    cluster: ClusterJob,
    groups: _Groups,
    aggregates: dict[BasePair, Column],
) -> None:
    """Copy the cluster's aggregates the customer-level families read into their positions."""
    key_code = {key: code for code, key in enumerate(cluster.keys)}
    group_customers = groups.ids // len(cluster.keys)
    group_keys = groups.ids % len(cluster.keys)
    for position, (index, key, measure, window) in enumerate(job.internal_layout):
        if index != cluster.index:
            continue
        values, valid = aggregates[(measure, window)]
        rows = np.flatnonzero((group_keys == key_code[key]) & valid)
        internal[group_customers[rows], position] = values[rows]


def _internal_rows(
    customers: np.ndarray, internal: np.ndarray, cluster: int
) -> Iterator[pa.RecordBatch]:
    """One row per customer: ``customer_id`` and the internal aggregates in layout order
    (``i0``, ``i1``...; real nulls, as Spark SQL reads them)."""
    columns = {"customer_id": pa.array(customers, pa.string())}
    for position in range(internal.shape[1]):
        values = internal[:, position]
        columns[internal_field(position)] = pa.array(values, mask=np.isnan(values))
    yield from _shipped(cluster, pa.table(columns))


def _shipped(cluster: int, table: pa.Table) -> Iterator[pa.RecordBatch]:
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
                yield from _shipped(cluster, pa.Table.from_batches([batch]))

    return ship


def read_output(output: pa.Table) -> dict[int, pa.Table]:
    """The engine's output rows decoded on the driver: one table per ``_cluster``."""
    parts: dict[int, list[pa.Table]] = {}
    for cluster, blob in zip(
        output.column("_cluster").to_pylist(), output.column("_batch").to_pylist(), strict=True
    ):
        parts.setdefault(cluster, []).append(pa.ipc.open_stream(blob).read_all())
    return {cluster: pa.concat_tables(tables) for cluster, tables in parts.items()}


def slot_column(number: int) -> str:
    return f"s{number}"


def internal_field(position: int) -> str:
    return f"i{position}"


def no_event_values(job: SourceJob, cluster: ClusterJob) -> Column:
    """The slots of a customer with no event in a key (a count of 0, a null mean, ...)."""
    aggregates = {pair: _empty_aggregate(job.measures[pair[0]].agg) for pair in cluster.pairs}
    slots = [_slot(job, aggregates, m, period, dtype) for m, period, dtype in cluster.slots]
    values = np.array([v[0] for v, _ in slots], dtype=np.float64)
    valid = np.array([ok[0] for _, ok in slots], dtype=bool)
    return values, valid


def _empty_aggregate(agg: str) -> Column:
    if agg in ("count", "distinct"):
        return np.zeros(1), np.ones(1, dtype=bool)
    return np.full(1, np.nan), np.zeros(1, dtype=bool)


def _factorize(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, code of each row); a null gets code -1."""
    encoded = column.combine_chunks().dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.asarray(encoded.dictionary.to_pylist(), dtype=object), codes


@dataclass
class _Groups:
    """The exploded (customer, key) rows of a cluster, sorted by group."""

    rows: np.ndarray  # event row of each exploded row, in group order
    group: np.ndarray  # dense group number of each exploded row (ascending)
    starts: np.ndarray  # first exploded row of each group
    ids: np.ndarray  # customer code * len(keys) + key code of each group
    count: int

    @classmethod
    def explode(cls, events: pa.Table, cluster: ClusterJob, customer_codes: np.ndarray) -> _Groups:
        key_codes = pd.Index(cluster.keys)
        rows, codes = [], []
        for dimension in cluster.dimensions:
            if dimension == ALL:
                code = key_codes.get_loc(ALL)
                rows.append(np.arange(events.num_rows))
                codes.append(np.full(events.num_rows, code))
                continue
            values, codes_of_value = _factorize(events.column(key_column(dimension)))
            code_of_value = np.append(key_codes.get_indexer(pd.Index(values, dtype=object)), -1)
            found = code_of_value[codes_of_value]  # a null key (-1) finds -1
            hit = np.flatnonzero(found >= 0)
            rows.append(hit)
            codes.append(found[hit])
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        code = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        ids = customer_codes[row] * len(cluster.keys) + code
        order = np.argsort(ids)
        row, ids = row[order], ids[order]
        if len(ids) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(rows=empty, group=empty, starts=empty, ids=empty, count=0)
        boundary = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        group = np.cumsum(np.r_[False, ids[1:] != ids[:-1]])
        return cls(rows=row, group=group, starts=boundary, ids=ids[boundary], count=len(boundary))


# ---- aggregates -------------------------------------------------------------------------------


class _Inputs:
    """Event columns as numpy, in the groups' exploded row order, read once each."""

    def __init__(self, events: pa.Table, groups: _Groups):
        self.events, self.groups = events, groups
        self._cache: dict[str, np.ndarray] = {}

    def numeric(self, column: str) -> np.ndarray:
        name = numeric_column(column)
        if name not in self._cache:
            values = self.events.column(name).to_numpy().astype(np.float64)
            self._cache[name] = values[self.groups.rows]
        return self._cache[name]

    def flag(self, filter_name: str) -> np.ndarray:
        name = flag_column(filter_name)
        if name not in self._cache:
            flags = self.events.column(name).fill_null(False).to_numpy(zero_copy_only=False)
            self._cache[name] = flags.astype(bool)[self.groups.rows]
        return self._cache[name]

    def string_codes(self, column: str) -> np.ndarray:
        """Integer code of each row's value (-1 for null)."""
        name = string_column(column)
        if name not in self._cache:
            _, codes = _factorize(self.events.column(name))
            self._cache[name] = codes[self.groups.rows]
        return self._cache[name]


def _in_window(days_ago: np.ndarray, bounds: tuple[int, int | None]) -> np.ndarray:
    low, high = bounds
    inside = days_ago >= low
    return inside if high is None else inside & (days_ago <= high)


def _aggregates(
    events: pa.Table, groups: _Groups, job: SourceJob, cluster: ClusterJob
) -> dict[BasePair, Column]:
    inputs = _Inputs(events, groups)
    days_ago = inputs.numeric("days_ago")
    aggregates: dict[BasePair, Column] = {}
    latest: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    selections: dict[tuple[str | None, str, str | None], tuple[np.ndarray, np.ndarray]] = {}
    ranks = []
    for measure_name, window in cluster.pairs:
        measure = job.measures[measure_name]
        bounds = job.windows[window]
        if measure.agg == "first_rank":
            ranks.append((measure_name, window, measure.of or ""))
            continue
        selected = inputs.flag(measure.where or "")
        if measure.agg == "distinct":
            if measure_name not in latest:
                latest[measure_name] = _latest_occurrences(
                    groups, inputs.string_codes(measure.value or ""), selected, days_ago
                )
            aggregates[(measure_name, window)] = _distinct(groups, *latest[measure_name], bounds)
            continue
        column = "days_ago" if measure.agg.endswith("days_ago") else measure.value
        if measure.agg == "count":
            column = None  # a count ignores the value
        key = (measure.where, window, column)
        if key not in selections:  # shared by every measure of this filter, window and value
            chosen = selected & _in_window(days_ago, bounds)
            if column is not None:
                chosen = chosen & ~np.isnan(inputs.numeric(column))
            selections[key] = chosen, np.add.reduceat(chosen.astype(np.int64), groups.starts)
        chosen, count = selections[key]
        if measure.agg == "count":
            aggregates[(measure_name, window)] = (
                count.astype(np.float64),
                np.ones(groups.count, bool),
            )
            continue
        aggregates[(measure_name, window)] = _reduce(
            measure.agg, inputs.numeric(column or ""), chosen, count, groups
        )
    for measure_name, window, of in ranks:
        aggregates[(measure_name, window)] = _first_ranks(groups, cluster, aggregates[(of, window)])
    return aggregates


def _first_ranks(groups: _Groups, cluster: ClusterJob, first_days: Column) -> Column:
    """Rank of each key among the customer's keys of its dimension by ``first_days``, largest
    (bought first) = 1; ties share a rank, a key never bought has none."""
    days, bought = first_days
    keys = len(cluster.keys)
    dimension_codes = pd.Index(cluster.dimensions).get_indexer(cluster.key_dimensions)
    rows = np.flatnonzero(bought)
    block = (groups.ids[rows] // keys) * len(cluster.dimensions) + dimension_codes[
        groups.ids[rows] % keys
    ]
    order = np.lexsort((-days[rows], block))
    rows, block, value = rows[order], block[order], days[rows][order]
    position = np.arange(len(rows))
    new_block = np.r_[True, block[1:] != block[:-1]] if len(rows) else np.zeros(0, bool)
    new_value = new_block | (np.r_[True, value[1:] != value[:-1]] if len(rows) else new_block)
    block_start = np.maximum.accumulate(np.where(new_block, position, 0))
    value_start = np.maximum.accumulate(np.where(new_value, position, 0))
    ranks = np.full(groups.count, np.nan)
    ranks[rows] = value_start - block_start + 1
    return ranks, bought.copy()


def _reduce(
    agg: str, values: np.ndarray, selected: np.ndarray, count: np.ndarray, groups: _Groups
) -> Column:
    """One aggregate of ``values`` over the selected rows of every group (``count`` of them;
    null over none)."""
    if agg == "sum":
        result = np.add.reduceat(np.where(selected, values, 0.0), groups.starts)
    elif agg in ("max", "first_days_ago"):
        result = np.maximum.reduceat(np.where(selected, values, -np.inf), groups.starts)
    elif agg in ("min", "last_days_ago"):
        result = np.minimum.reduceat(np.where(selected, values, np.inf), groups.starts)
    elif agg == "std":
        total = np.add.reduceat(np.where(selected, values, 0.0), groups.starts)
        mean = total / np.maximum(count, 1)
        deviation = np.where(selected, values - mean[groups.group], 0.0)
        squares = np.add.reduceat(deviation * deviation, groups.starts)
        result = np.sqrt(squares / np.maximum(count - 1, 1))
        return result, count >= 2
    else:
        raise ValueError(f"unknown aggregate {agg!r}")
    return result, count > 0


def _latest_occurrences(
    groups: _Groups, codes: np.ndarray, selected: np.ndarray, days_ago: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(group, latest days_ago) of every distinct (group, value) among the selected rows."""
    rows = np.flatnonzero(selected & (codes >= 0))
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    values = int(codes.max()) + 1
    span = int(days_ago[rows].max()) + 1
    pair = groups.group[rows] * values + codes[rows]
    if (int(pair.max()) + 1) * span < 2**62:  # one int64 sort: (pair, days) packed
        packed = np.sort(pair * span + days_ago[rows].astype(np.int64))
        pair, days = packed // span, packed % span
    else:
        order = np.lexsort((days_ago[rows], pair))
        pair, days = pair[order], days_ago[rows][order]
    first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    return pair[first] // values, days[first].astype(np.float64)


def _distinct(
    groups: _Groups, group_of: np.ndarray, latest: np.ndarray, bounds: tuple[int, int | None]
) -> Column:
    """Distinct values per group whose latest occurrence falls in the window (ends at D)."""
    _, high = bounds
    inside = group_of if high is None else group_of[latest <= high]
    counts = np.bincount(inside, minlength=groups.count).astype(np.float64)
    return counts, np.ones(groups.count, dtype=bool)


# ---- slots ------------------------------------------------------------------------------------


def _slot(
    job: SourceJob, aggregates: dict[BasePair, Column], measure: str, period: str, dtype: str
) -> Column:
    values, valid = _value(job, aggregates, measure, period)
    if dtype in ("bigint", "int"):
        values = np.trunc(values)
    return values, valid


def _value(job: SourceJob, aggregates: dict[BasePair, Column], name: str, period: str) -> Column:
    """A measure's value per group: the numpy twin of ``Compiler.value``."""
    measure = job.measures[name]
    if measure.agg == "ratio":
        numerator, numerator_ok = _value(job, aggregates, measure.numerator or "", period)
        denominator, denominator_ok = _value(job, aggregates, measure.denominator or "", period)
        positive = denominator_ok & (np.nan_to_num(denominator) > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return numerator / np.where(positive, denominator, 1.0), positive & numerator_ok
    if measure.agg in COMPARISON_AGGS:
        comparison = job.comparisons[period]
        current, current_ok = _value(job, aggregates, measure.of or "", comparison.current)
        baseline, baseline_ok = _value(job, aggregates, measure.of or "", comparison.baseline)
        baseline = baseline * float(comparison.scale)
        both = current_ok & baseline_ok
        if measure.agg == "delta":
            return current - baseline, both
        total = current + baseline
        nonzero = both & (np.nan_to_num(total) != 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (current - baseline) / np.where(nonzero, total, 1.0), nonzero
    values, valid = aggregates[(name, period)]
    if measure.fill is None:
        return values, valid
    return np.where(valid, values, float(measure.fill)), np.ones(len(values), dtype=bool)
