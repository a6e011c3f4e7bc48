"""The windowed features of one partition of customers, computed with numpy.

Spark prepares each source's events (:mod:`features.prepare`: filters as ``_f_<filter>``
booleans, slice keys as ``_k_<dimension>``, numeric values as ``_n_<column>``, distinct-count
values as ``_s_<column>``), repartitions them by customer and hands each partition to
:func:`partition_function` through ``mapInArrow``. Per cluster of slice keys
(:class:`ClusterJob`, from :class:`features.plan.ClusterPlan`) the engine

1. explodes the events into (customer, slice key) groups, sorted once by group and day,
2. cuts each group at the windows' day boundaries (:class:`_Segments`) and reduces every
   filter and value once per (group, segment) with ``reduceat``: counts, sums, minima and
   maxima, squared deviations from the segment mean; each base aggregate (a measure over a
   window) then combines the few segments its window spans (a stable pairwise update for
   sample standard deviations). Exact distinct counts come from each value's latest occurrence,
3. evaluates the cluster's slots: fills, ratios, deltas and trends, cast through the dtype,

and returns, per cluster, one row per (customer, slice key) with the slots, plus one row per
customer (``_cluster`` negative) with the raw aggregates the customer-level families read, at
the positions of :attr:`SourceJob.internal_layout`, shipped as Arrow IPC
(:mod:`features.transport`). Semantics: an aggregate over no rows is null (a count is 0),
nulls in a value column are skipped, a sample standard deviation needs two values, a ratio
needs a positive denominator.

Why not Spark aggregates: 300 conditional aggregates per row kept Spark's hash aggregation out of
generated code and cost seconds per pass, far more than the vectorised passes here
(docs/features.md, "Performance").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.spec import ALL, COMPARISON_AGGS, Comparison, Measure
from features.transport import Boundaries, shipped

BasePair = tuple[str, str]  # (measure, window)
Column = tuple[np.ndarray, np.ndarray]  # float64 values, bool validity (False = null)


@dataclass(frozen=True)
class ClusterJob:
    """What the engine computes for one cluster (a picklable slice of
    :class:`features.plan.FeaturePlan`)."""

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


# The event's key (``features.events.EVENT_ID``): with the day, a total order of a group's rows.
EVENT_COLUMN = "_e_id"


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
    job: SourceJob, boundaries: Boundaries = ()
) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The ``mapInArrow`` function: a partition's events in, its (customer, key) rows out,
    shipped by customer bucket (``boundaries``: :func:`features.transport.bucket_of`)."""

    def compute(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        received = list(batches)
        if not received:
            return
        events = _in_event_order(pa.Table.from_batches(received))
        if events.num_rows == 0:
            return
        customers, customer_codes = _factorize(events.column("customer_id"))
        days_ago = events.column(numeric_column("days_ago")).to_numpy().astype(np.int64)
        if (days_ago < 1).any():  # the windows' segments rely on it (features/events.py)
            raise ValueError("the engine's events must be dated before the as-of date")
        internal = np.full((len(customers), len(job.internal_layout)), np.nan)
        for cluster in job.clusters:
            groups = _Groups.explode(events, cluster, customer_codes, days_ago)
            if groups.count == 0:
                continue
            aggregates = _aggregates(events, groups, job, cluster)
            _fill_internal(internal, job, cluster, groups, aggregates)
            if cluster.slots:
                yield from _value_rows(job, cluster, groups, aggregates, customers, boundaries)
        yield from _internal_rows(customers, internal, job.internal_cluster, boundaries)

    return compute


def _in_event_order(events: pa.Table) -> pa.Table:
    """The partition's events sorted by their key, so every later (stable) sort orders a
    group's rows by (day, event id): a total key. Spark's row order inside a partition varies
    with the partitioning, and float sums in another order differ in the last bits."""
    if events.num_rows == 0:
        return events
    return events.take(pc.sort_indices(events.column(EVENT_COLUMN)))


def _value_rows(
    job: SourceJob,
    cluster: ClusterJob,
    groups: _Groups,
    aggregates: dict[BasePair, Column],
    customers: np.ndarray,
    boundaries: Boundaries,
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
    yield from shipped(cluster.index, pa.table(columns), boundaries)


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
    customers: np.ndarray, internal: np.ndarray, cluster: int, boundaries: Boundaries
) -> Iterator[pa.RecordBatch]:
    """One row per customer: ``customer_id`` and the internal aggregates in layout order
    (``i0``, ``i1``...; real nulls, as Arrow and Spark read them)."""
    columns = {"customer_id": pa.array(customers, pa.string())}
    for position in range(internal.shape[1]):
        values = internal[:, position]
        columns[internal_field(position)] = pa.array(values, mask=np.isnan(values))
    yield from shipped(cluster, pa.table(columns), boundaries)


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
    """The exploded (customer, key) rows of a cluster, sorted by group, then by ``days_ago``."""

    rows: np.ndarray  # event row of each exploded row, by group then days_ago
    group: np.ndarray  # dense group number of each exploded row (ascending)
    starts: np.ndarray  # first exploded row of each group
    ids: np.ndarray  # customer code * len(keys) + key code of each group
    count: int

    @classmethod
    def explode(
        cls,
        events: pa.Table,
        cluster: ClusterJob,
        customer_codes: np.ndarray,
        days_ago: np.ndarray,
    ) -> _Groups:
        key_code = {key: code for code, key in enumerate(cluster.keys)}
        rows, codes = [], []
        for dimension in cluster.dimensions:
            if dimension == ALL:
                rows.append(np.arange(events.num_rows))
                codes.append(np.full(events.num_rows, key_code[ALL]))
                continue
            values, codes_of_value = _factorize(events.column(key_column(dimension)))
            code_of_value = np.array([key_code.get(value, -1) for value in values] + [-1])
            found = code_of_value[codes_of_value]  # a null key (-1) finds -1
            hit = np.flatnonzero(found >= 0)
            rows.append(hit)
            codes.append(found[hit])
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        code = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        ids = customer_codes[row] * len(cluster.keys) + code
        order = _sort_order(ids, days_ago[row])  # by group, then by day within the group
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


def _sort_order(ids: np.ndarray, days_ago: np.ndarray) -> np.ndarray:
    """Row order by ``ids``, then ``days_ago``, then the rows' own order (one packed int64 sort
    when it fits). Stable: the events arrive in event-id order (:func:`_in_event_order`)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    span = int(days_ago.max()) + 1
    if (int(ids.max()) + 1) * span < 2**62:
        return np.argsort(ids * span + days_ago, kind="stable")
    return np.lexsort((days_ago, ids))


@dataclass
class _Segments:
    """Each group's rows cut at the windows' day boundaries.

    Windows are ranges of ``days_ago``, and a group's rows are sorted by it, so every window is
    a run of consecutive segments: an aggregate is reduced once per (group, segment), then per
    window over a handful of segments, instead of once per window over every row.
    """

    edges: list[int]  # segment k + 1 holds days_ago in [edges[k], edges[k + 1]); 0 the rest
    starts: np.ndarray  # first row of each (group, segment), group-major
    filled: np.ndarray  # (group, segment) with rows
    row_segment: np.ndarray  # flat (group, segment) index of each row
    groups: int

    @classmethod
    def cut(
        cls, groups: _Groups, days_ago: np.ndarray, windows: list[tuple[int, int | None]]
    ) -> _Segments:
        edges = sorted({low for low, _ in windows} | {h + 1 for _, h in windows if h is not None})
        span = max(int(days_ago.max()) if len(days_ago) else 0, *edges) + 1
        sort_key = groups.group * span + days_ago  # ascending: rows are by group, then day
        targets = np.arange(groups.count)[:, None] * span + np.asarray(edges)[None, :]
        inner = np.searchsorted(sort_key, targets.ravel()).reshape(groups.count, len(edges))
        starts = np.column_stack([groups.starts, inner]).ravel()
        sizes = np.diff(np.append(starts, len(days_ago)))
        row_segment = np.repeat(np.arange(len(starts)), sizes)
        return cls(edges, starts, sizes > 0, row_segment, groups.count)

    @property
    def per_group(self) -> int:
        return len(self.edges) + 1

    def of_window(self, bounds: tuple[int, int | None]) -> slice:
        """The segments a window covers."""
        low, high = bounds
        first = 1 + self.edges.index(low)
        return slice(first, self.per_group if high is None else 1 + self.edges.index(high + 1))

    def reduce(self, ufunc: np.ufunc, values: np.ndarray, identity: float) -> np.ndarray:
        """``ufunc`` over each (group, segment)'s rows, as (segments, groups) so a window's
        segments are contiguous rows; ``identity`` where a segment has no rows."""
        reduced = np.full(len(self.starts), identity, dtype=np.float64)
        # reduceat over the non-empty segments only: each then runs to the next one's start
        # (an empty range would yield the next row instead of the identity)
        reduced[self.filled] = ufunc.reduceat(values, self.starts[self.filled], dtype=np.float64)
        return np.ascontiguousarray(reduced.reshape(self.groups, self.per_group).T)


def _aggregates(
    events: pa.Table, groups: _Groups, job: SourceJob, cluster: ClusterJob
) -> dict[BasePair, Column]:
    inputs = _Inputs(events, groups)
    days_ago = inputs.numeric("days_ago").astype(np.int64)
    windows = {window for _, window in cluster.pairs}
    segments = _Segments.cut(groups, days_ago, [job.windows[w] for w in windows])
    partials = _Partials(inputs, segments)
    aggregates: dict[BasePair, Column] = {}
    latest: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    ranks = []
    for measure_name, window in cluster.pairs:
        measure = job.measures[measure_name]
        bounds = job.windows[window]
        if measure.agg == "first_rank":
            ranks.append((measure_name, window, measure.of or ""))
            continue
        if measure.agg == "distinct":
            if measure_name not in latest:
                selected = inputs.flag(measure.where or "")
                codes = inputs.string_codes(measure.value or "")
                latest[measure_name] = _latest_occurrences(groups, codes, selected, days_ago)
            aggregates[(measure_name, window)] = _distinct(groups, *latest[measure_name], bounds)
            continue
        aggregates[(measure_name, window)] = partials.window(measure, segments.of_window(bounds))
    for measure_name, window, of in ranks:
        aggregates[(measure_name, window)] = _first_ranks(groups, cluster, aggregates[(of, window)])
    return aggregates


class _Partials:
    """Per (group, segment) counts, sums, extremes and squared deviations of the selected rows,
    computed once per filter and value, and combined per window."""

    def __init__(self, inputs: _Inputs, segments: _Segments):
        self.inputs, self.segments = inputs, segments
        self._cache: dict[tuple[str, str | None, str | None], np.ndarray] = {}

    def _selected(self, where: str | None, column: str | None) -> np.ndarray:
        selected = self.inputs.flag(where or "")
        if column is not None:
            selected = selected & ~np.isnan(self.inputs.numeric(column))
        return selected

    def get(self, kind: str, where: str | None, column: str | None) -> np.ndarray:
        key = (kind, where, column)
        if key in self._cache:
            return self._cache[key]
        reduce = self.segments.reduce
        if kind == "count":
            result = reduce(np.add, self._selected(where, column), 0)
        else:
            selected = self._selected(where, column)
            values = self.inputs.numeric(column or "")
            if kind == "sum":
                result = reduce(np.add, np.where(selected, values, 0.0), 0.0)
            elif kind == "max":
                result = reduce(np.maximum, np.where(selected, values, -np.inf), -np.inf)
            elif kind == "min":
                result = reduce(np.minimum, np.where(selected, values, np.inf), np.inf)
            elif kind == "squares":  # squared deviations from the (group, segment) mean
                count = self.get("count", where, column).T.ravel()  # group-major, as the rows
                mean = self.get("sum", where, column).T.ravel() / np.maximum(count, 1)
                deviation = np.where(selected, values - mean[self.segments.row_segment], 0.0)
                result = reduce(np.add, deviation * deviation, 0.0)
            else:
                raise ValueError(f"unknown partial {kind!r}")
        self._cache[key] = result
        return result

    def window(self, measure: Measure, segments: slice) -> Column:
        """One measure over one window (its run of segments): null over no rows."""
        agg = measure.agg
        column = "days_ago" if agg.endswith("days_ago") else measure.value
        if agg == "count":
            column = None  # a count ignores the value
        count = self.get("count", measure.where, column)[segments].sum(axis=0)
        if agg == "count":
            return count, np.ones(len(count), dtype=bool)
        if agg == "sum":
            return self.get("sum", measure.where, column)[segments].sum(axis=0), count > 0
        if agg in ("max", "first_days_ago"):
            return self.get("max", measure.where, column)[segments].max(axis=0), count > 0
        if agg in ("min", "last_days_ago"):
            return self.get("min", measure.where, column)[segments].min(axis=0), count > 0
        if agg == "std":
            return _combined_std(
                self.get("count", measure.where, column)[segments],
                self.get("sum", measure.where, column)[segments],
                self.get("squares", measure.where, column)[segments],
            )
        raise ValueError(f"unknown aggregate {agg!r}")


def _combined_std(counts: np.ndarray, sums: np.ndarray, squares: np.ndarray) -> Column:
    """Sample standard deviation over several segments (rows) from each one's count, sum and
    squared deviations from its own mean (Chan et al.'s pairwise update, stable); needs two
    values."""
    count = counts.sum(axis=0)
    mean = sums.sum(axis=0) / np.maximum(count, 1)
    segment_mean = sums / np.maximum(counts, 1)
    between = (counts * (segment_mean - mean) ** 2).sum(axis=0)
    total = squares.sum(axis=0) + between
    return np.sqrt(total / np.maximum(count - 1, 1)), count >= 2


def _first_ranks(groups: _Groups, cluster: ClusterJob, first_days: Column) -> Column:
    """Rank of each key among the customer's keys of its dimension by ``first_days``, largest
    (bought first) = 1; ties share a rank, a key never bought has none."""
    days, bought = first_days
    keys = len(cluster.keys)
    dimension_codes = np.array([cluster.dimensions.index(d) for d in cluster.key_dimensions])
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
    """A measure's value per group: its aggregate with the fill, or the ratio or comparison
    of the aggregates it is made of."""
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
