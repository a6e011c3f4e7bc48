"""Spec -> feature snapshot: the build that runs every other module of the package.

1. :class:`features.plan.FeaturePlan` works out the engine's passes (clusters of slice keys and
   the base aggregates each computes) from the expanded spec.
2. Spark (:mod:`features.prepare`) turns the point-in-time events (:mod:`features.events`) into
   what the engine reads, repartitions them by customer and runs :mod:`features.engine` on each
   partition (``mapInArrow``): per cluster, one row per (customer, slice key) with the final
   value of every windowed feature of that key (fills, ratios, trends, dtype cast), and one row
   per customer with the raw aggregates the customer-level families read.
3. Both results reach the driver as Arrow IPC (:mod:`features.transport`) in one Spark job, with
   the card summary and the golden-record profile (:mod:`features.customer_inputs`) riding
   along. The 74 customer-level features (:mod:`features.customer`: first use, RFM, lifetime
   value, loyalty status, profile) are numpy over one narrow row per customer: those
   aggregates, the card summary and the profile, joined in Arrow.
4. :func:`features.assemble.assemble_snapshot` scatters the long values into one column per
   feature, in catalog order, next to the customer-level ones.

Spark never plans the 2,800-column projection the table is: planning, generating and compiling
it was most of the build's time (docs/features.md, "Performance"). No ``withColumn`` loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import reduce

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import to_arrow_schema

from features import customer, customer_inputs, engine, transport
from features.assemble import Snapshot, assemble_snapshot, join_on_customer
from features.events import FeatureInputs, loyalty_events, member_cards, transaction_events
from features.plan import FeaturePlan
from features.prepare import engine_rows
from features.spec import POINTS_SOURCE, SOURCES, TX_SOURCE, FeatureDefinition, FeatureSpec

# ``_cluster`` of the per-customer inputs passed through the build's Spark job; the engine's
# clusters are 0, 1, ... and its per-customer rows -1, -2 (one per source).
CARD_SUMMARY_ROWS = -1 - len(SOURCES)
PROFILE_ROWS = -2 - len(SOURCES)


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
    plan = FeaturePlan(spec, features)
    results = _spark_results(inputs, plan, as_of)
    long_values = {cluster: table for cluster, table in results.items() if cluster >= 0}
    internals = [results[plan.internal_cluster(source)] for source in SOURCES]
    customer_level = _customer_level(
        plan, as_of, [*internals, results[CARD_SUMMARY_ROWS]], results[PROFILE_ROWS]
    )
    no_events = {
        cluster.index: engine.no_event_values(job, cluster)
        for job in plan.jobs.values()
        for cluster in job.clusters
    }
    snapshot = assemble_snapshot(
        customer_level, long_values, no_events, plan.plans, plan.features, as_of
    )
    return FeatureBuild(snapshot=snapshot, features=plan.features)


def _spark_results(inputs: FeatureInputs, plan: FeaturePlan, as_of: date) -> dict[int, pa.Table]:
    """Everything the build reads from Spark, in one job, by ``_cluster``: the engine's
    (customer, key) value rows per cluster; per source, the customers' internal aggregates
    (``customer_id``, ``_i_<source>_<n>``...); the card summary; the golden-record profile.

    One job, because each Spark job costs a fixed 0.1-0.5 s here however small: the card
    summary and the profile travel as Arrow IPC batches like the engine's results.
    """
    spec = plan.spec
    tx_events = transaction_events(inputs.transactions, inputs.identity_map, as_of, spec.timezone)
    points = loyalty_events(inputs.loyalty_points, inputs.identity_map, as_of, spec.point_signs)
    cards = member_cards(inputs.loyalty_members, inputs.identity_map, as_of, spec.timezone)
    passed_through = {
        CARD_SUMMARY_ROWS: customer_inputs.card_summary(cards, spec),
        PROFILE_ROWS: customer_inputs.profile_columns(inputs.golden_records, as_of, spec.timezone),
    }
    frames = [engine_rows(plan, tx_events, TX_SOURCE),
              engine_rows(plan, points, POINTS_SOURCE),
              *[frame.mapInArrow(transport.ship_function(cluster), transport.OUTPUT_DDL)
                for cluster, frame in passed_through.items()]]  # fmt: skip
    results = transport.read_output(reduce(DataFrame.unionByName, frames).toArrow())
    for source in SOURCES:  # the engine's columns are positions; name them
        width = len(plan.internal_layout[source])
        names = ["customer_id", *[plan.internal_column(source, n) for n in range(width)]]
        schema = pa.schema([pa.field(names[0], pa.string())] +
                           [pa.field(name, pa.float64()) for name in names[1:]])  # fmt: skip
        cluster = plan.internal_cluster(source)
        table = results.get(cluster, schema.empty_table())
        results[cluster] = table.rename_columns(names).cast(schema)
    for cluster, frame in passed_through.items():  # no row at all: an empty table
        results.setdefault(cluster, to_arrow_schema(frame.schema).empty_table())
    return results


def _customer_level(
    plan: FeaturePlan, as_of: date, per_customer: list[pa.Table], profiles: pa.Table
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
    return customer.customer_features(inputs, plan.spec, plan.customer_level, plan.locations, as_of)
