"""Spark: point-in-time events -> the engine's input columns, and the engine's Spark stage.

The spec's filters, slice values and windows become Spark SQL text (:mod:`features.sql`),
applied with one ``selectExpr`` per frame: filters as ``_f_<filter>`` booleans, the slice key of
each dimension as ``_k_<dimension>`` (null for a value the spec does not list), values as
``_n_<column>`` doubles and distinct-count values as ``_s_<column>`` strings. :func:`engine_rows`
repartitions them by customer and runs :mod:`features.engine` on each partition.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from features import engine, sql
from features.events import EVENT_ID
from features.plan import FeaturePlan
from features.spec import ALL, FeatureSpec
from features.transport import OUTPUT_DDL, Boundaries


def slice_key_expr(spec: FeatureSpec, dimension_name: str) -> str:
    """SQL of the slice key an event has in one dimension (null when its value is unlisted)."""
    if dimension_name == ALL:
        return sql.literal(ALL)
    dimension = spec.slices[dimension_name]
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


def window_condition_sql(spec: FeatureSpec, window_name: str) -> str | None:
    """SQL of ``days_ago`` falling in a window (None: every event before D)."""
    low, high = spec.windows[window_name].bounds()
    if high is None:
        return None if low <= 1 else f"days_ago >= {low}"
    return f"days_ago BETWEEN {low} AND {high}"


def flagged(plan: FeaturePlan, events: DataFrame, source: str) -> DataFrame:
    """Events with one boolean column per filter the source's aggregates use."""
    return events.selectExpr(
        "*",
        *[
            f"coalesce({plan.spec.filters[name]}, false) AS {sql.ident(engine.flag_column(name))}"
            for name in plan.filters(source)
        ],
    )


def engine_input(plan: FeaturePlan, events: DataFrame, source: str) -> DataFrame:
    """The columns the engine reads: customer, event id, values, filter flags and slice keys."""
    job = plan.jobs[source]
    measures = {plan.measures[m] for cluster in job.clusters for m, _ in cluster.pairs}
    numeric = {"days_ago"} | {
        m.value for m in measures if m.value and m.agg not in ("count", "distinct")
    }
    strings = {m.value for m in measures if m.value and m.agg == "distinct"}
    dimensions = {d for cluster in job.clusters for d in cluster.dimensions} - {ALL}
    return flagged(plan, events, source).selectExpr(
        "customer_id",
        f"CAST({EVENT_ID} AS STRING) AS {engine.EVENT_COLUMN}",
        *[f"CAST({sql.ident(c)} AS DOUBLE) AS {sql.ident(engine.numeric_column(c))}"
          for c in sorted(numeric)],
        *[f"CAST({sql.ident(c)} AS STRING) AS {sql.ident(engine.string_column(c))}"
          for c in sorted(strings)],
        *[sql.ident(engine.flag_column(name)) for name in plan.filters(source)],
        *[f"{slice_key_expr(plan.spec, d)} AS {sql.ident(engine.key_column(d))}"
          for d in sorted(dimensions)],
    )  # fmt: skip


def engine_partitions(event_rows: int, events_per_partition: int, minimum: int) -> int:
    """Customer partitions for ``event_rows`` events: at most ``events_per_partition`` events
    each on average, and never fewer than ``minimum`` (Spark's shuffle partitions)."""
    return max(minimum, -(-event_rows // events_per_partition))


def engine_rows(
    plan: FeaturePlan,
    events: DataFrame,
    source: str,
    boundaries: Boundaries = (),
    partitions: int | None = None,
) -> DataFrame:
    """The engine's output rows for one source (see :data:`features.transport.OUTPUT_DDL`),
    computed per partition of customers by :mod:`features.engine` (``partitions`` of them,
    default Spark's shuffle partitions), shipped by bucket."""
    columns = engine_input(plan, events, source)
    by_customer = (
        columns.repartition(partitions, "customer_id")
        if partitions
        else columns.repartition("customer_id")
    )
    return by_customer.mapInArrow(
        engine.partition_function(plan.jobs[source], boundaries), OUTPUT_DDL
    )
