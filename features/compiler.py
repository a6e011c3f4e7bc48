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

import logging
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import reduce
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema

from features import customer, customer_inputs, engine, transport
from features.assemble import Snapshot, assemble_snapshot, join_on_customer, snapshot_schema
from features.buckets import bucket_boundaries, customers_per_bucket
from features.events import FeatureInputs, member_cards, source_events, source_input_rows
from features.plan import FeaturePlan
from features.prepare import engine_partitions, engine_rows
from features.spec import SOURCES, FeatureDefinition, FeatureSpec

# ``_cluster`` of the per-customer inputs passed through the build's Spark job; the engine's
# clusters are 0, 1, ... and its per-customer rows -1, -2 (one per source).
CARD_SUMMARY_ROWS = -1 - len(SOURCES)
PROFILE_ROWS = -2 - len(SOURCES)
# Staged output folders: per-customer rows (true) or value rows (false), then the bucket (no
# leading underscore: pyarrow's discovery skips such folders).
PER_CUSTOMER, BUCKET = "per_customer", "bucket"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureBuild:
    """A computed snapshot: ``customer_id``, ``as_of_date`` and one column per feature in
    catalog order (``features``), one row per customer, sorted by ``customer_id``, in
    ``bucket_count`` customer buckets (ranges of ``customer_id``, :mod:`features.buckets`).

    ``buckets()`` assembles the buckets one at a time (what :func:`features.writer.write_snapshot`
    writes, one file each, so neither the wide table nor the population's long values are ever
    whole in memory); ``reader()`` streams every bucket's batches; ``table`` materialises them.
    """

    features: list[FeatureDefinition]
    schema: pa.Schema
    bucket_count: int
    bucket: Callable[[int], Snapshot]  # assembles one bucket (reads its staged engine output)
    staged: _Staged | None = None

    def buckets(self) -> Iterator[Snapshot]:
        for number in range(self.bucket_count):
            yield self.bucket(number)

    def batches(self) -> Iterator[pa.RecordBatch]:
        for snapshot in self.buckets():
            yield from snapshot.batches()

    @property
    def table(self) -> pa.Table:
        return pa.Table.from_batches(list(self.batches()), schema=self.schema)

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, self.batches())

    def close(self) -> None:
        """Delete the staged engine output (also done when the build is garbage-collected)."""
        if self.staged is not None:
            self.staged.remove()


def build_customer_features(
    inputs: FeatureInputs,
    spec: FeatureSpec,
    as_of: date,
    features: list[FeatureDefinition] | None = None,
    bucket_customers: int | None = None,
    staging: Path | None = None,
) -> FeatureBuild:
    """Every feature of ``spec`` for every customer known before ``as_of``.

    Args:
        inputs: the silver and gold input tables.
        spec: the validated feature spec.
        as_of: the as-of date D; only events dated before D (local day) are used.
        features: the expanded spec (default: ``expand(spec)``).
        bucket_customers: customers per bucket (default: from ``snapshot.memory_budget_mb``).
        staging: where the engine's output waits between the Spark job and the buckets' assembly
            when there is more than one bucket (a fresh directory is made inside; default the
            system's temporary directory). Executors must be able to write there.

    Returns:
        A :class:`FeatureBuild`: the snapshot (``customer_id``, ``as_of_date`` and one column
        per feature in catalog order), bucket by bucket, streamed by ``reader()`` or whole as
        ``table``.
    """
    plan = FeaturePlan(spec, features)
    per_bucket = bucket_customers or customers_per_bucket(spec.snapshot, len(plan.features))
    golden_ids = inputs.golden_records.select("customer_id").toArrow().column(0)
    boundaries = bucket_boundaries(golden_ids, per_bucket)
    output, passed_schemas = _spark_output(inputs, plan, as_of, boundaries)
    staged: _Staged | None = None
    if boundaries:
        staged = _Staged.write(output, staging)
        per_customer = staged.per_customer()
    else:  # one bucket: straight to the driver, no staging
        in_memory = transport.read_output(output.toArrow())
        per_customer = {cluster: t for cluster, t in in_memory.items() if cluster < 0}
    per_customer = _named_results(per_customer, plan, passed_schemas)
    internals = [per_customer[plan.internal_cluster(source)] for source in SOURCES]
    customer_level = _customer_level(
        plan, as_of, [*internals, per_customer[CARD_SUMMARY_ROWS]], per_customer[PROFILE_ROWS]
    ).sort_by("customer_id")
    customer_buckets = transport.bucket_of(boundaries, customer_level.column("customer_id"))
    no_events = {
        cluster.index: engine.no_event_values(job, cluster)
        for job in plan.jobs.values()
        for cluster in job.clusters
    }

    def bucket(number: int) -> Snapshot:
        if staged is None:
            long_values = {c: t for c, t in in_memory.items() if c >= 0}
        else:
            long_values = staged.long_values(number)
        first, stop = np.searchsorted(customer_buckets, [number, number + 1])
        customers = customer_level.slice(first, stop - first)
        return assemble_snapshot(
            customers, long_values, no_events, plan.plans, plan.features, as_of
        )

    build = FeatureBuild(
        features=plan.features,
        schema=snapshot_schema(customer_level.schema, plan.features),
        bucket_count=len(boundaries) + 1,
        bucket=bucket,
        staged=staged,
    )
    if staged is not None:
        weakref.finalize(build, staged.remove)
    log.info("features as of %s: %s customers in %s buckets of at most %s", as_of,
             customer_level.num_rows, build.bucket_count, per_bucket)  # fmt: skip
    return build


@dataclass(frozen=True)
class _Staged:
    """The engine's output written by Spark as Parquet, by kind of row and bucket, so the
    driver reads one bucket's long values at a time."""

    root: Path

    @classmethod
    def write(cls, output: DataFrame, staging: Path | None) -> _Staged:
        if staging is not None:
            staging.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="c360-features-", dir=staging))
        (
            output.withColumn(PER_CUSTOMER, F.col("_cluster") < 0)
            .withColumnRenamed("_bucket", BUCKET)
            .write.mode("overwrite")
            .partitionBy(PER_CUSTOMER, BUCKET)
            .parquet((root / "engine").as_uri())
        )
        return cls(root)

    def _read(self, folder: Path) -> dict[int, pa.Table]:
        if not folder.exists():  # no row of that kind (or bucket) at all
            return {}
        table = pads.dataset(folder, format="parquet", partitioning="hive").to_table(
            columns=["_cluster", "_batch"]
        )
        return transport.read_output(table)

    def per_customer(self) -> dict[int, pa.Table]:
        """Every bucket's per-customer rows (the customer-level families need them all)."""
        return self._read(self.root / "engine" / f"{PER_CUSTOMER}=true")

    def long_values(self, bucket: int) -> dict[int, pa.Table]:
        """One bucket's (customer, slice key) value rows, by cluster."""
        return self._read(self.root / "engine" / f"{PER_CUSTOMER}=false" / f"{BUCKET}={bucket}")

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _spark_output(
    inputs: FeatureInputs, plan: FeaturePlan, as_of: date, boundaries: list[str]
) -> tuple[DataFrame, dict[int, pa.Schema]]:
    """Everything the build reads from Spark, as one job's output rows (``_bucket``,
    ``_cluster``, ``_batch``): the engine's (customer, key) value rows per cluster; per source,
    the customers' internal aggregates; the card summary; the golden-record profile. With the
    Arrow schemas of the last two (for an empty result).

    One job, because each Spark job costs a fixed 0.1-0.5 s here however small: the card
    summary and the profile travel as Arrow IPC batches like the engine's results.
    """
    spec = plan.spec
    events = source_events(inputs, spec, as_of)
    minimum = int(inputs.transactions.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    # A source without a row (an optional source never landed) gets no engine stage: each
    # costs a shuffle and a Python stage (0.2-0.4 s here) for no output.
    partitions = {
        source: engine_partitions(rows, spec.snapshot.engine_events_per_partition, minimum)
        for source, rows in source_input_rows(inputs).items()
        if rows > 0
    }
    cards = member_cards(inputs.loyalty_members, inputs.identity_map, as_of, spec.timezone)
    passed_through = {
        CARD_SUMMARY_ROWS: customer_inputs.card_summary(cards, spec),
        PROFILE_ROWS: customer_inputs.profile_columns(inputs.golden_records, as_of, spec.timezone),
    }
    frames = [*[engine_rows(plan, events[source], source, boundaries, partitions[source])
                for source in SOURCES if source in partitions],
              *[frame.mapInArrow(transport.ship_function(cluster, boundaries),
                                 transport.OUTPUT_DDL)
                for cluster, frame in passed_through.items()]]  # fmt: skip
    schemas = {cluster: to_arrow_schema(frame.schema) for cluster, frame in passed_through.items()}
    return reduce(DataFrame.unionByName, frames), schemas


def _named_results(
    results: dict[int, pa.Table], plan: FeaturePlan, passed_schemas: dict[int, pa.Schema]
) -> dict[int, pa.Table]:
    """The per-customer results with their columns named, an empty table for a missing one."""
    for source in SOURCES:  # the engine's columns are positions; name them
        width = len(plan.internal_layout[source])
        names = ["customer_id", *[plan.internal_column(source, n) for n in range(width)]]
        schema = pa.schema([pa.field(names[0], pa.string())] +
                           [pa.field(name, pa.float64()) for name in names[1:]])  # fmt: skip
        cluster = plan.internal_cluster(source)
        table = results.get(cluster, schema.empty_table())
        results[cluster] = table.rename_columns(names).cast(schema)
    for cluster, schema in passed_schemas.items():  # no row at all: an empty table
        results.setdefault(cluster, schema.empty_table())
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
