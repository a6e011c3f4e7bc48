"""Spec -> Spark: the windowed features as long aggregations pivoted with explicit values.

For each source (transactions, loyalty points) the compiler works out which base aggregates
every feature needs (a ratio needs its numerator and denominator, a trend its two windows),
then, per cluster of slice dimensions that need similar aggregates:

1. explodes each event into one row per slice key it belongs to (``all``, ``ch_store``,
   ``cat_grocery``...; keys come from the explicit slice values, unlisted values get none),
2. aggregates in long form per (customer, slice key): one conditional aggregate per
   (measure, window); exact distinct counts in two stages (latest occurrence of each value,
   then a count per window) instead of thousands of ``collect_set``,
3. pivots with the explicit key list: a customer's long rows become one array in key order, so
   a base aggregate is a positional lookup (``_transactions_0[3].`count__d30```).

One final ``selectExpr`` computes every feature from those lookups (fills, ratios, trends, and
the customer-level families of :mod:`features.customer`) and casts it to its catalog dtype.
Everything is emitted as Spark SQL text: no ``withColumn`` loop, no wide conditional
aggregation, one JVM call for the 2,000+ columns. (Spark's own ``pivot`` materialises every
key x aggregate column and was 3-4x slower here; see docs/features.md.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features import customer, sql
from features.events import (
    FeatureInputs,
    local_date,
    loyalty_events,
    member_cards,
    transaction_events,
)
from features.spec import (
    ALL,
    COMPARISON_AGGS,
    WINDOWED_AGGS,
    FeatureDefinition,
    FeatureSpec,
    Measure,
    SpecError,
    expand,
)

log = logging.getLogger(__name__)

SOURCES = ("transactions", "loyalty_points")
BasePair = tuple[str, str]  # (measure, window)

# Aggregates the customer-level families read (features/customer.py), whatever the spec lists.
INTERNAL_MEASURES: dict[str, tuple[str, Measure]] = {
    name: (source, Measure(name=name, dtype=dtype, en="", vi="", **kwargs))
    for name, source, dtype, kwargs in (
        ("x_count", "transactions", "bigint", {"agg": "count", "where": "purchase", "fill": 0}),
        ("x_amount", "transactions", "double",
         {"agg": "sum", "value": "amount", "where": "purchase", "fill": 0}),
        ("x_first_days", "transactions", "int", {"agg": "first_days_ago", "where": "purchase"}),
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


class Compiler:
    """Compiles a :class:`FeatureSpec` into Spark expressions for one as-of date."""

    def __init__(self, spec: FeatureSpec, features: list[FeatureDefinition] | None = None):
        self.spec = spec
        self.features = features if features is not None else expand(spec)
        self.measures: dict[str, Measure] = dict(spec.measures)
        for name, (_, measure) in INTERNAL_MEASURES.items():
            self.measures[name] = measure
        for required in ("purchase", "any_points"):
            if required not in spec.filters:
                raise SpecError(f"filters: the customer-level features need filter {required!r}")
        self.needs = _Needs()
        for feature in self.features:
            if feature.source is not None:
                self.needs.add(
                    feature.source,
                    feature.slice_key,
                    self.base_pairs(feature.measure, feature.window or ""),
                )
        for source, key, measure, window in customer.required_aggregates(spec):
            self.needs.add(source, key, [(measure, window)])
        # Where each base aggregate lands: (source, key, measure, window) -> SQL over the
        # per-customer dense arrays (one per cluster of slice keys, in explicit key order).
        self.layout: dict[str, list[tuple[list[str], list[BasePair]]]] = {}
        self.locations: dict[tuple[str, str, str], str] = {}
        for source in SOURCES:
            self.layout[source] = []
            for number, (keys, pairs) in enumerate(self.clusters(source)):
                ordered_keys, ordered_pairs = sorted(keys), sorted(pairs)
                self.layout[source].append((ordered_keys, ordered_pairs))
                array = sql.ident(self.array_column(source, number))
                for index, key in enumerate(ordered_keys):
                    for m, w in ordered_pairs:
                        self.locations[(key, m, w)] = f"{array}[{index}].{sql.ident(f'{m}__{w}')}"

    # ---- resolution ------------------------------------------------------------------------
    def base_pairs(self, measure_name: str, period: str) -> list[BasePair]:
        """The aggregated (measure, window) pairs a measure over a window or comparison reads."""
        measure = self.measures[measure_name]
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

    def value(self, slice_key: str, measure_name: str, period: str) -> str:
        """SQL of a measure's value for one slice key and window / comparison (after the pivot)."""
        measure = self.measures[measure_name]
        if measure.agg in WINDOWED_AGGS:
            column = self.locations[(slice_key, measure_name, period)]
            return (
                column
                if measure.fill is None
                else f"coalesce({column}, {sql.literal(measure.fill)})"
            )
        if measure.agg == "ratio":
            numerator = self.value(slice_key, measure.numerator or "", period)
            denominator = self.value(slice_key, measure.denominator or "", period)
            return (
                f"CASE WHEN {denominator} > 0 THEN CAST({numerator} AS DOUBLE) / {denominator} END"
            )
        comparison = self.spec.comparisons[period]
        current = f"CAST({self.value(slice_key, measure.of or '', comparison.current)} AS DOUBLE)"
        baseline = (
            f"({self.value(slice_key, measure.of or '', comparison.baseline)} * "
            f"{sql.literal(float(comparison.scale))})"
        )
        if measure.agg == "delta":
            return f"({current} - {baseline})"
        assert measure.agg in COMPARISON_AGGS
        total = f"({current} + {baseline})"
        return f"CASE WHEN {total} != 0 THEN ({current} - {baseline}) / {total} END"

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

    def aggregate(self, measure_name: str, window_name: str) -> str:
        """SQL of one conditional aggregate over the exploded events, ``AS <measure>__<window>``.

        A distinct count reads the deduplicated rows of :meth:`distinct_values` instead: a value
        counts in a window ending at D when its latest occurrence (``last_ago``) falls in it.
        """
        measure = self.measures[measure_name]
        alias = sql.ident(f"{measure_name}__{window_name}")
        low, high = self.spec.windows[window_name].bounds()
        if measure.agg == "distinct":
            if low > 1:
                raise SpecError(
                    f"measure {measure_name!r}: distinct counts need windows ending at the "
                    f"as-of date, not {window_name!r}"
                )
            within = "" if high is None else f" AND last_ago <= {high}"
            return (
                f"count(CASE WHEN distinct_measure = {sql.literal(measure_name)}{within} "
                f"THEN 1 END) AS {alias}"
            )
        condition = sql.ident(f"_f_{measure.where}")
        if (window_condition := self.window_condition_sql(window_name)) is not None:
            condition = f"{condition} AND {window_condition}"
        value = sql.ident(measure.value) if measure.value else "days_ago"
        when = f"CASE WHEN {condition} THEN {{}} END"
        template = {
            "count": "count({})".format(when.format("1")),
            "sum": "sum({})",
            "max": "max({})",
            "min": "min({})",
            "std": "stddev_samp({})",
            "last_days_ago": "min({})",
            "first_days_ago": "max({})",
        }[measure.agg]
        expression = template if measure.agg == "count" else template.format(when.format(value))
        return f"{expression} AS {alias}"

    def distinct_values(self, exploded: DataFrame, pairs: list[BasePair]) -> DataFrame | None:
        """(customer, slice key, distinct measure, value) with the value's latest ``days_ago``."""
        distinct = sorted({m for m, _ in pairs if self.measures[m].agg == "distinct"})
        if not distinct:
            return None
        entries = ", ".join(
            f"named_struct('m', {sql.literal(m)}, 'v', "
            f"CASE WHEN {sql.ident('_f_' + (self.measures[m].where or ''))} "
            f"THEN CAST({sql.ident(self.measures[m].value or '')} AS STRING) END)"
            for m in distinct
        )
        return (
            exploded.selectExpr("customer_id", "slice_key", "days_ago", f"inline(array({entries}))")
            .where(F.col("v").isNotNull())
            .groupBy("customer_id", "slice_key", F.col("m").alias("distinct_measure"), "v")
            .agg(F.min("days_ago").alias("last_ago"))
        )

    def flagged(self, events: DataFrame, source: str) -> DataFrame:
        """Events with one boolean column per filter the source's measures use."""
        filters = sorted(
            {
                self.measures[m].where or ""
                for pairs in self.needs.pairs[source].values()
                for m, _ in pairs
            }
        )
        return events.selectExpr(
            "*",
            *[
                f"coalesce({self.spec.filters[name]}, false) AS {sql.ident(f'_f_{name}')}"
                for name in filters
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

    @staticmethod
    def array_column(source: str, number: int) -> str:
        return f"_{source}_{number}"

    def wide_aggregates(self, events: DataFrame, source: str) -> list[DataFrame]:
        """Per cluster of slice keys: one row per customer holding the pivoted base aggregates.

        Long form first: one row per (customer, slice key) with every aggregate of the cluster.
        The pivot then packs a customer's rows into one array in the explicit order of the
        keys (null where the customer has no row for a key), so the final select reads
        ``_transactions_0[3].count__d30`` with a positional lookup.
        """
        flagged = self.flagged(events, source)
        frames = []
        for number, (keys, pairs) in enumerate(self.layout[source]):
            dimensions = sorted({ALL if k == ALL else self.dimension_of(k) for k in keys})
            key_array = f"array({', '.join(self.slice_key_expr(d) for d in dimensions)})"
            exploded = flagged.selectExpr("*", f"explode({key_array}) AS slice_key").where(
                F.col("slice_key").isin(keys)
            )
            plain = [p for p in pairs if self.measures[p[0]].agg != "distinct"]
            counted = [p for p in pairs if self.measures[p[0]].agg == "distinct"]
            long = exploded.groupBy("customer_id", "slice_key").agg(
                *[F.expr(self.aggregate(m, w)) for m, w in plain]
            )
            if (values := self.distinct_values(exploded, counted)) is not None:
                distinct = values.groupBy("customer_id", "slice_key").agg(
                    *[F.expr(self.aggregate(m, w)) for m, w in counted]
                )
                long = long.join(distinct, ["customer_id", "slice_key"], "full")
            position = sql.case(
                [(f"slice_key = {sql.literal(k)}", str(i)) for i, k in enumerate(keys)]
            )
            fields = ", ".join(
                f"{sql.literal(f'{m}__{w}')}, {sql.ident(f'{m}__{w}')}" for m, w in pairs
            )
            array = sql.ident(self.array_column(source, number))
            frames.append(
                long.selectExpr("customer_id", f"named_struct('_k', {position}, {fields}) AS r")
                .groupBy("customer_id")
                .agg(F.expr("collect_list(r) AS rows"))
                .selectExpr(
                    "customer_id",
                    f"transform(sequence(0, {len(keys) - 1}), "
                    f"i -> try_element_at(filter(rows, x -> x._k = i), 1)) AS {array}",
                )
            )
            log.debug(
                "%s: %d slice keys x %d aggregates in one pass", source, len(keys), len(pairs)
            )
        return frames

    def feature_sql(self, feature: FeatureDefinition, context: customer.Context) -> str:
        """SQL of the final, typed column of one feature."""
        if feature.source is not None:
            expression = self.value(feature.slice_key, feature.measure, feature.window or "")
        else:
            expression = customer.build(feature, context)
        return f"CAST({expression} AS {feature.dtype.upper()}) AS {sql.ident(feature.name)}"


@dataclass
class FeatureBuild:
    """The lazily computed feature frame, holding its cached event frames until released.

    Use as a context manager: ``with build_customer_features(...) as build: write(build.frame)``.
    """

    frame: DataFrame
    features: list[FeatureDefinition]
    cached: list[DataFrame]

    def release(self) -> None:
        """Drop the cached event frames (call once the frame is written)."""
        for frame in self.cached:
            frame.unpersist()
        self.cached = []

    def __enter__(self) -> FeatureBuild:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def population(
    golden_records: DataFrame, event_customers: Iterable[DataFrame], as_of: date, timezone: str
) -> DataFrame:
    """Customers known before ``as_of``: first seen before it, or with an event before it."""
    known = golden_records.where(local_date(F.col("first_seen"), timezone) < F.lit(as_of)).select(
        "customer_id"
    )
    for frame in event_customers:
        known = known.unionByName(frame.select("customer_id"))
    return known.where(F.col("customer_id").isNotNull()).distinct()


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
        A :class:`FeatureBuild` whose ``frame`` has ``customer_id``, ``as_of_date`` and one
        column per feature in catalog order; release it (or use ``with``) after writing.
    """
    compiler = Compiler(spec, features)
    timezone = spec.timezone
    tx_events = transaction_events(
        inputs.transactions, inputs.identity_map, as_of, timezone
    ).persist(StorageLevel.MEMORY_AND_DISK)
    points = loyalty_events(inputs.loyalty_points, inputs.identity_map, as_of, spec.point_signs)
    cards = member_cards(inputs.loyalty_members, inputs.identity_map, as_of, timezone)

    customers = population(inputs.golden_records, [tx_events, points, cards], as_of, timezone)
    wide = customers
    for frame in compiler.wide_aggregates(tx_events, "transactions") + compiler.wide_aggregates(
        points, "loyalty_points"
    ):
        wide = wide.join(frame, "customer_id", "left")
    wide = wide.join(customer.card_summary(cards, spec), "customer_id", "left")
    wide = wide.join(customer.profile_columns(inputs.golden_records), "customer_id", "left")
    wide = wide.crossJoin(F.broadcast(customer.rfm_thresholds(tx_events, spec)))

    context = customer.Context(spec=spec, as_of=as_of, compiler=compiler)
    frame = wide.selectExpr(
        "customer_id",
        f"{sql.literal(as_of)} AS as_of_date",
        *[compiler.feature_sql(f, context) for f in compiler.features],
    )
    return FeatureBuild(frame=frame, features=compiler.features, cached=[tx_events])
