"""Spec -> feature snapshot: Spark prepares and partitions the events, numpy aggregates them,
Arrow assembles the wide table.

For each source (transactions, loyalty points) the compiler works out which base aggregates
every feature needs (a ratio needs its numerator and denominator, a trend its two windows) and
groups the slice keys into clusters that need similar aggregates (:class:`ClusterPlan`). Then:

1. Spark turns the events into what the engine reads (filters as booleans, slice keys per
   dimension, values), repartitions them by customer and runs :mod:`features.engine` on each
   partition (``mapInArrow``): per cluster, one row per (customer, slice key) with the final
   value of every windowed feature of that key (fills, ratios, trends, dtype cast), and one row
   per customer with the raw aggregates the customer-level families read.
2. Both results reach the driver as Arrow in one Spark job, with the card summary and the
   golden-record profile riding along. The 74 customer-level features (:mod:`features.customer`:
   first use, RFM, lifetime value, loyalty status, profile) are numpy over one narrow row per
   customer: those aggregates, the card summary and the profile, joined in Arrow.
3. :func:`features.assemble.assemble_snapshot` scatters the long values into one column per
   feature, in catalog order, next to the customer-level ones.

Spark never plans the 2,800-column projection the table is: planning, generating and compiling
it was most of the build's time (docs/features.md, "Performance"). No ``withColumn`` loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import reduce

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import to_arrow_schema

from features import customer, engine, sql
from features.assemble import NUMERIC_DTYPES, Snapshot, assemble_snapshot, join_on_customer
from features.events import (
    FeatureInputs,
    loyalty_events,
    member_cards,
    transaction_events,
)
from features.spec import (
    ALL,
    WINDOWED_AGGS,
    FeatureDefinition,
    FeatureSpec,
    Measure,
    SpecError,
    expand,
)

SOURCES = ("transactions", "loyalty_points")
# ``_cluster`` of the per-customer inputs passed through the build's Spark job; the engine's
# clusters are 0, 1, ... and its per-customer rows -1, -2 (one per source).
CARD_SUMMARY_ROWS = -1 - len(SOURCES)
PROFILE_ROWS = -2 - len(SOURCES)
BasePair = tuple[str, str]  # (measure, window)

# Aggregates the customer-level families read (features/customer.py), whatever the spec lists.
INTERNAL_MEASURES: dict[str, tuple[str, Measure]] = {
    name: (source, Measure(name=name, dtype=dtype, en="", vi="", **kwargs))
    for name, source, dtype, kwargs in (
        ("x_count", "transactions", "bigint", {"agg": "count", "where": "purchase", "fill": 0}),
        ("x_amount", "transactions", "double",
         {"agg": "sum", "value": "amount", "where": "purchase", "fill": 0}),
        ("x_first_days", "transactions", "int", {"agg": "first_days_ago", "where": "purchase"}),
        # rank of the key's x_first_days among its dimension's keys (1 = bought first)
        ("x_first_rank", "transactions", "int", {"agg": "first_rank", "of": "x_first_days"}),
        ("x_last_days", "transactions", "int", {"agg": "last_days_ago", "where": "purchase"}),
        ("x_first_epoch", "transactions", "bigint",
         {"agg": "min", "value": "event_epoch", "where": "purchase"}),
        ("x_last_epoch", "transactions", "bigint",
         {"agg": "max", "value": "event_epoch", "where": "purchase"}),
        ("x_points_balance", "loyalty_points", "bigint",
         {"agg": "sum", "value": "points_signed", "where": "any_points", "fill": 0}),
    )
}  # fmt: skip


@dataclass
class _Needs:
    """Base aggregates needed per source and slice key."""

    pairs: dict[str, dict[str, set[BasePair]]] = field(
        default_factory=lambda: {source: {} for source in SOURCES}
    )

    def add(self, source: str, slice_key: str, pairs: Iterable[BasePair]) -> None:
        self.pairs[source].setdefault(slice_key, set()).update(pairs)


@dataclass(frozen=True)
class ClusterPlan:
    """One aggregation pass: a cluster of slice keys of one source and what it computes.

    ``slots`` are the distinct (measure, window or comparison, dtype) the cluster's windowed
    features take; ``scatter`` maps each slice key to ``(slot, feature name)`` pairs, so a
    (customer, key) row's slot values fill those features' cells of the wide table.
    """

    index: int
    source: str
    keys: list[str]
    pairs: list[BasePair]
    slots: list[tuple[str, str, str]]
    scatter: dict[str, list[tuple[int, str]]]


class Compiler:
    """Compiles a :class:`FeatureSpec` into the engine's plan (:attr:`jobs`) and the SQL of the
    customer-level features."""

    def __init__(self, spec: FeatureSpec, features: list[FeatureDefinition] | None = None):
        self.spec = spec
        self.features = features if features is not None else expand(spec)
        self.measures: dict[str, Measure] = dict(spec.measures)
        for name, (_, measure) in INTERNAL_MEASURES.items():
            self.measures[name] = measure
        for required in ("purchase", "any_points"):
            if required not in spec.filters:
                raise SpecError(f"filters: the customer-level features need filter {required!r}")
        self.windowed = [f for f in self.features if f.source is not None]
        self._check_distinct_windows()
        self.customer_level = [f for f in self.features if f.source is None]
        self.needs = _Needs()
        for feature in self.windowed:
            self.needs.add(
                feature.source or "",
                feature.slice_key,
                self.base_pairs(feature.measure, feature.window or ""),
            )
        for source, key, measure, window in customer.required_aggregates(spec):
            self.needs.add(source, key, self.base_pairs(measure, window))
        self.plans: list[ClusterPlan] = []
        for source in SOURCES:
            for keys, pairs in self.clusters(source):
                self.plans.append(self._plan(len(self.plans), source, keys, pairs))
        # Where each internal aggregate lands: the engine writes them per customer and source in
        # this order, as columns of the customer-level inputs; (key, measure, window) -> column.
        self.internal_layout: dict[str, list[tuple[int, str, str, str]]] = {}
        self.locations: dict[tuple[str, str, str], str] = {}
        for source in SOURCES:
            layout = self.internal_layout.setdefault(source, [])
            for plan in (p for p in self.plans if p.source == source):
                for key in plan.keys:
                    for m, w in sorted(self.needs.pairs[source].get(key, set())):
                        if m in INTERNAL_MEASURES:
                            self.locations[(key, m, w)] = self.internal_column(source, len(layout))
                            layout.append((plan.index, key, m, w))
        self.jobs = {source: self._source_job(source) for source in SOURCES}

    def _plan(self, index: int, source: str, keys: list[str], pairs: set[BasePair]) -> ClusterPlan:
        """Which windowed features a cluster computes, in which slot."""
        slots: dict[tuple[str, str, str], int] = {}
        scatter: dict[str, list[tuple[int, str]]] = {}
        for feature in self.windowed:
            if feature.source != source or feature.slice_key not in keys:
                continue
            if feature.dtype not in NUMERIC_DTYPES:
                raise SpecError(f"feature {feature.name!r}: windowed features must be numeric")
            slot = slots.setdefault(
                (feature.measure, feature.window or "", feature.dtype), len(slots)
            )
            scatter.setdefault(feature.slice_key, []).append((slot, feature.name))
        return ClusterPlan(
            index=index,
            source=source,
            keys=sorted(keys),
            pairs=sorted(pairs),
            slots=list(slots),
            scatter=scatter,
        )

    def _check_distinct_windows(self) -> None:
        for feature in self.windowed:
            for measure_name, window in self.base_pairs(feature.measure, feature.window or ""):
                if self.measures[measure_name].agg == "distinct" and (
                    self.spec.windows[window].bounds()[0] > 1
                ):
                    raise SpecError(
                        f"measure {measure_name!r}: distinct counts need windows ending at the "
                        f"as-of date, not {window!r}"
                    )

    # ---- resolution ------------------------------------------------------------------------
    def base_pairs(self, measure_name: str, period: str) -> list[BasePair]:
        """The aggregated (measure, window) pairs a measure over a window or comparison reads."""
        measure = self.measures[measure_name]
        if measure.agg == "first_rank":
            return [(measure.of or "", period), (measure_name, period)]
        if measure.agg in WINDOWED_AGGS:
            return [(measure_name, period)]
        if measure.agg == "ratio":
            return self.base_pairs(measure.numerator or "", period) + self.base_pairs(
                measure.denominator or "", period
            )
        comparison = self.spec.comparisons[period]
        return self.base_pairs(measure.of or "", comparison.current) + self.base_pairs(
            measure.of or "", comparison.baseline
        )

    def internal_source(self, slice_key: str, measure_name: str, period: str) -> tuple[str, str]:
        """(column, dtype) of an internal aggregate of one slice key and window in the
        customer-level inputs; the customer-level families read only these."""
        return self.locations[(slice_key, measure_name, period)], self.measures[measure_name].dtype

    # ---- aggregation -----------------------------------------------------------------------
    def slice_key_expr(self, dimension_name: str) -> str:
        """SQL of the slice key an event has in one dimension (null when its value is unlisted)."""
        if dimension_name == ALL:
            return sql.literal(ALL)
        dimension = self.spec.slices[dimension_name]
        column = sql.ident(dimension.column)
        branches = []
        for value in dimension.values:
            if value.match is not None:
                condition = f"{column} IN ({', '.join(sql.literal(v) for v in value.match)})"
            elif value.pattern is not None:
                condition = f"{column} RLIKE {sql.literal(value.pattern)}"
            else:
                low, high = value.value_range or (0, 0)
                condition = f"{column} BETWEEN {int(low)} AND {int(high)}"
            branches.append(f"WHEN {condition} THEN {sql.literal(dimension.key(value.name))}")
        return f"CASE {' '.join(branches)} END"

    def window_condition_sql(self, window_name: str) -> str | None:
        low, high = self.spec.windows[window_name].bounds()
        if high is None:
            return None if low <= 1 else f"days_ago >= {low}"
        return f"days_ago BETWEEN {low} AND {high}"

    def filters(self, source: str) -> list[str]:
        """The filters (``spec.filters`` names) the source's aggregates use."""
        return sorted(
            {
                self.measures[m].where
                for pairs in self.needs.pairs[source].values()
                for m, _ in pairs
                if self.measures[m].where
            }
        )

    def flagged(self, events: DataFrame, source: str) -> DataFrame:
        """Events with one boolean column per filter the source's aggregates use."""
        return events.selectExpr(
            "*",
            *[
                f"coalesce({self.spec.filters[name]}, false) AS "
                f"{sql.ident(engine.flag_column(name))}"
                for name in self.filters(source)
            ],
        )

    def clusters(self, source: str) -> list[tuple[list[str], set[BasePair]]]:
        """Slice keys grouped so each group is aggregated (and pivoted) in one pass.

        Dimensions whose needed aggregates overlap by half or more share a pass; a pass computes
        the union of its dimensions' aggregates for every key in it.
        """
        by_dimension: dict[str, tuple[list[str], set[BasePair]]] = {}
        for key, pairs in self.needs.pairs[source].items():
            dimension = ALL if key == ALL else self.dimension_of(key)
            keys, union = by_dimension.setdefault(dimension, ([], set()))
            keys.append(key)
            union.update(pairs)
        clusters: list[tuple[list[str], set[BasePair], list[str]]] = []
        for dimension, (keys, pairs) in by_dimension.items():
            for cluster_keys, cluster_pairs, dimensions in clusters:
                overlap = len(pairs & cluster_pairs) / max(1, len(pairs | cluster_pairs))
                if overlap >= 0.5:
                    cluster_keys.extend(keys)
                    cluster_pairs.update(pairs)
                    dimensions.append(dimension)
                    break
            else:
                clusters.append((list(keys), set(pairs), [dimension]))
        return [(keys, pairs) for keys, pairs, _ in clusters]

    def dimension_of(self, slice_key: str) -> str:
        for dimension in self.spec.slices.values():
            if slice_key.startswith(dimension.prefix + "_") and any(
                dimension.key(v.name) == slice_key for v in dimension.values
            ):
                return dimension.name
        raise SpecError(f"slice key {slice_key!r} belongs to no slice dimension")

    def _source_job(self, source: str) -> engine.SourceJob:
        """The engine's share of the plan for one source (picklable, shipped to the workers)."""
        clusters = [
            engine.ClusterJob(
                index=plan.index,
                keys=plan.keys,
                key_dimensions=[ALL if k == ALL else self.dimension_of(k) for k in plan.keys],
                pairs=plan.pairs,
                slots=plan.slots,
            )
            for plan in self.plans
            if plan.source == source
        ]
        return engine.SourceJob(
            clusters=clusters,
            internal_cluster=self.internal_cluster(source),
            internal_layout=self.internal_layout[source],
            measures=self.measures,
            windows={name: window.bounds() for name, window in self.spec.windows.items()},
            comparisons=dict(self.spec.comparisons),
        )

    def engine_input(self, events: DataFrame, source: str) -> DataFrame:
        """The columns the engine reads: customer, values, filter flags and slice keys."""
        job = self.jobs[source]
        measures = {self.measures[m] for cluster in job.clusters for m, _ in cluster.pairs}
        numeric = {"days_ago"} | {
            m.value for m in measures if m.value and m.agg not in ("count", "distinct")
        }
        strings = {m.value for m in measures if m.value and m.agg == "distinct"}
        dimensions = {d for cluster in job.clusters for d in cluster.dimensions} - {ALL}
        return self.flagged(events, source).selectExpr(
            "customer_id",
            *[f"CAST({sql.ident(c)} AS DOUBLE) AS {sql.ident(engine.numeric_column(c))}"
              for c in sorted(numeric)],
            *[f"CAST({sql.ident(c)} AS STRING) AS {sql.ident(engine.string_column(c))}"
              for c in sorted(strings)],
            *[sql.ident(engine.flag_column(name)) for name in self.filters(source)],
            *[f"{self.slice_key_expr(d)} AS {sql.ident(engine.key_column(d))}"
              for d in sorted(dimensions)],
        )  # fmt: skip

    def engine_rows(self, events: DataFrame, source: str) -> DataFrame:
        """The engine's output rows for one source (see :data:`features.engine.OUTPUT_DDL`),
        computed per partition of customers by :mod:`features.engine`."""
        return (
            self.engine_input(events, source)
            .repartition("customer_id")
            .mapInArrow(engine.partition_function(self.jobs[source]), engine.OUTPUT_DDL)
        )

    @staticmethod
    def internal_column(source: str, position: int) -> str:
        """The customer-level frame's column for one position of a source's internal layout."""
        return f"_i_{source}_{position}"

    @staticmethod
    def internal_cluster(source: str) -> int:
        """The ``_cluster`` of a source's per-customer engine rows (negative)."""
        return -1 - SOURCES.index(source)


@dataclass(frozen=True)
class FeatureBuild:
    """A computed snapshot: ``customer_id``, ``as_of_date`` and one column per feature in
    catalog order (``features``), one row per customer, sorted by ``customer_id``.

    ``reader()`` streams it batch by batch (what the asset hands to the Delta writer, so the
    wide table is never whole in memory); ``table`` materialises it.
    """

    snapshot: Snapshot
    features: list[FeatureDefinition]

    @property
    def table(self) -> pa.Table:
        return self.snapshot.to_table()

    def reader(self) -> pa.RecordBatchReader:
        return self.snapshot.reader()


def build_customer_features(
    inputs: FeatureInputs,
    spec: FeatureSpec,
    as_of: date,
    features: list[FeatureDefinition] | None = None,
) -> FeatureBuild:
    """Every feature of ``spec`` for every customer known before ``as_of``.

    Args:
        inputs: the silver and gold input tables.
        spec: the validated feature spec.
        as_of: the as-of date D; only events dated before D (local day) are used.
        features: the expanded spec (default: ``expand(spec)``).

    Returns:
        A :class:`FeatureBuild`: the snapshot (``customer_id``, ``as_of_date`` and one column
        per feature in catalog order), streamed by ``reader()`` or whole as ``table``.
    """
    compiler = Compiler(spec, features)
    results = _spark_results(inputs, compiler, as_of)
    long_values = {cluster: table for cluster, table in results.items() if cluster >= 0}
    internals = [results[compiler.internal_cluster(source)] for source in SOURCES]
    customer_level = _customer_level(
        compiler, as_of, [*internals, results[CARD_SUMMARY_ROWS]], results[PROFILE_ROWS]
    )
    no_events = {
        cluster.index: engine.no_event_values(job, cluster)
        for job in compiler.jobs.values()
        for cluster in job.clusters
    }
    snapshot = assemble_snapshot(
        customer_level, long_values, no_events, compiler.plans, compiler.features, as_of
    )
    return FeatureBuild(snapshot=snapshot, features=compiler.features)


def _spark_results(inputs: FeatureInputs, compiler: Compiler, as_of: date) -> dict[int, pa.Table]:
    """Everything the build reads from Spark, in one job, by ``_cluster``: the engine's
    (customer, key) value rows per cluster; per source, the customers' internal aggregates
    (``customer_id``, ``_i_<source>_<n>``...); the card summary; the golden-record profile.

    One job, because each Spark job costs a fixed 0.1-0.5 s here however small: the card
    summary and the profile travel as Arrow IPC batches like the engine's results.
    """
    spec = compiler.spec
    tx_events = transaction_events(inputs.transactions, inputs.identity_map, as_of, spec.timezone)
    points = loyalty_events(inputs.loyalty_points, inputs.identity_map, as_of, spec.point_signs)
    cards = member_cards(inputs.loyalty_members, inputs.identity_map, as_of, spec.timezone)
    passed_through = {
        CARD_SUMMARY_ROWS: customer.card_summary(cards, spec),
        PROFILE_ROWS: customer.profile_columns(inputs.golden_records, as_of, spec.timezone),
    }
    frames = [compiler.engine_rows(tx_events, "transactions"),
              compiler.engine_rows(points, "loyalty_points"),
              *[frame.mapInArrow(engine.ship_function(cluster), engine.OUTPUT_DDL)
                for cluster, frame in passed_through.items()]]  # fmt: skip
    results = engine.read_output(reduce(DataFrame.unionByName, frames).toArrow())
    for source in SOURCES:  # the engine's columns are positions; name them
        width = len(compiler.internal_layout[source])
        names = ["customer_id", *[compiler.internal_column(source, n) for n in range(width)]]
        schema = pa.schema([pa.field(names[0], pa.string())] +
                           [pa.field(name, pa.float64()) for name in names[1:]])  # fmt: skip
        cluster = compiler.internal_cluster(source)
        table = results.get(cluster, schema.empty_table())
        results[cluster] = table.rename_columns(names).cast(schema)
    for cluster, frame in passed_through.items():  # no row at all: an empty table
        results.setdefault(cluster, to_arrow_schema(frame.schema).empty_table())
    return results


def _customer_level(
    compiler: Compiler, as_of: date, per_customer: list[pa.Table], profiles: pa.Table
) -> pa.Table:
    """``customer_id`` and the customer-level features of every customer known before D.

    The population is whoever was first seen before D (``profiles``) or has an event or a card
    before D (``per_customer``: the engine's internal aggregates, the card summary). These
    inputs are one small row per customer, joined in Arrow.
    """
    known = profiles.filter(profiles.column("_g_known_before"))
    customer_ids: set[str] = set()
    for table in (known, *per_customer):
        customer_ids.update(table.column("customer_id").to_pylist())
    customer_ids.discard(None)  # type: ignore[arg-type]
    inputs = join_on_customer(sorted(customer_ids), [*per_customer, profiles])
    return customer.customer_features(inputs, compiler, as_of)
