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

and returns one row per (customer, slice key) with ``_values`` (the slots), plus one row per
customer (``_cluster`` negative) with ``_internal``: the raw aggregates the customer-level families
read, at the positions of :attr:`SourceJob.internal_layout`. The semantics are those of the SQL they
replace: an aggregate over no rows is null (a count is 0), nulls in a value column are skipped,
a sample standard deviation needs two values, a ratio needs a positive denominator.

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

from features.spec import ALL, Comparison, Measure

BasePair = tuple[str, str]  # (measure, window)
Column = tuple[np.ndarray, np.ndarray]  # float64 values, bool validity (False = null)

VALUES_ELEMENT = pa.field("element", pa.float64())
OUTPUT_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string()),
        pa.field("_cluster", pa.int32()),
        pa.field("slice_key", pa.string()),
        pa.field("_values", pa.list_(VALUES_ELEMENT)),
        pa.field("_internal", pa.list_(VALUES_ELEMENT)),
    ]
)
OUTPUT_DDL = (
    "customer_id string, _cluster int, slice_key string, "
    "_values array<double>, _internal array<double>"
)


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
                yield _value_rows(job, cluster, groups, aggregates, customers)
        yield _internal_rows(customers, internal, job.internal_cluster)

    return compute


def _value_rows(
    job: SourceJob,
    cluster: ClusterJob,
    groups: _Groups,
    aggregates: dict[BasePair, Column],
    customers: np.ndarray,
) -> pa.RecordBatch:
    """One row per (customer, slice key) of the cluster: its slots in ``_values``."""
    values = [_slot(job, aggregates, m, period, dtype) for m, period, dtype in cluster.slots]
    group_customers = groups.ids // len(cluster.keys)
    group_keys = groups.ids % len(cluster.keys)
    return pa.RecordBatch.from_arrays(
        [
            pa.array(customers[group_customers], pa.string()),
            pa.array(np.full(groups.count, cluster.index, dtype=np.int32)),
            pa.array(np.asarray(cluster.keys, dtype=object)[group_keys], pa.string()),
            _list_column(values, groups.count),
            _list_column([], groups.count),
        ],
        schema=OUTPUT_SCHEMA,
    )


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


def _internal_rows(customers: np.ndarray, internal: np.ndarray, cluster: int) -> pa.RecordBatch:
    """One row per customer (a negative ``_cluster``): the internal aggregates in layout order."""
    rows, width = internal.shape
    columns = [(internal[:, j], ~np.isnan(internal[:, j])) for j in range(width)]
    return pa.RecordBatch.from_arrays(
        [
            pa.array(customers, pa.string()),
            pa.array(np.full(rows, cluster, dtype=np.int32)),
            pa.nulls(rows, pa.string()),
            _list_column([], rows),
            _list_column(columns, rows),
        ],
        schema=OUTPUT_SCHEMA,
    )


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
        order = np.argsort(ids, kind="stable")
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
        selected = selected & _in_window(days_ago, bounds)
        if measure.agg == "count":
            counts = np.add.reduceat(selected.astype(np.int64), groups.starts)
            aggregates[(measure_name, window)] = (
                counts.astype(np.float64),
                np.ones(groups.count, bool),
            )
            continue
        values = (
            days_ago if measure.agg.endswith("days_ago") else inputs.numeric(measure.value or "")
        )
        selected = selected & ~np.isnan(values)
        aggregates[(measure_name, window)] = _reduce(measure.agg, values, selected, groups)
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


def _reduce(agg: str, values: np.ndarray, selected: np.ndarray, groups: _Groups) -> Column:
    """One aggregate of ``values`` over the selected rows of every group (null over none)."""
    count = np.add.reduceat(selected.astype(np.int64), groups.starts)
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
    pair = groups.group[rows] * (int(codes.max(initial=0)) + 1) + codes[rows]
    order = np.lexsort((days_ago[rows], pair))
    pair, rows = pair[order], rows[order]
    first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else pair
    return groups.group[rows[first]], days_ago[rows[first]]


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
    if measure.agg in ("ratio",):
        numerator, numerator_ok = _value(job, aggregates, measure.numerator or "", period)
        denominator, denominator_ok = _value(job, aggregates, measure.denominator or "", period)
        positive = denominator_ok & (np.nan_to_num(denominator) > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return numerator / np.where(positive, denominator, 1.0), positive & numerator_ok
    if measure.agg in ("delta", "change"):
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


def _list_column(columns: list[Column], rows: int) -> pa.ListArray:
    """``rows`` lists of ``len(columns)`` doubles (null where invalid), row-major."""
    width = len(columns)
    if width == 0:
        values = pa.array(np.zeros(0), pa.float64())
    else:
        matrix = np.stack([v for v, _ in columns], axis=1).reshape(-1)
        invalid = ~np.stack([ok for _, ok in columns], axis=1).reshape(-1)
        values = pa.array(matrix, pa.float64(), mask=invalid if invalid.any() else None)
    offsets = pa.array(np.arange(rows + 1, dtype=np.int32) * width)
    return pa.ListArray.from_arrays(offsets, values, type=pa.list_(VALUES_ELEMENT))
