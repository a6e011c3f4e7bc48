"""The snapshot built and written in customer buckets (issue 16), on a small random lakehouse.

The bucket size is forced tiny so 300 customers make several buckets: the bucketed build must
equal the one-bucket build in every column, bit for bit; every bucket's file lands in one Delta
commit; re-running a date replaces it; a crash before the commit leaves the table as it was;
a reader of one customer touches one file and one row group. Two builds on the same input in
another row order and shuffle partitioning are identical (the engine's total sort order).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import numpy as np
import pyarrow.compute as pc
import pytest
import yaml
from feature_tables import AS_OF, golden, identity, member, points, tx, write_tables
from pyspark.sql import functions as F

from c360.lakehouse import Lakehouse
from c360.tables import GOLD_CUSTOMER_FEATURES
from features.buckets import bucket_boundaries, customers_per_bucket
from features.compiler import _spark_output, build_customer_features
from features.events import _or_empty, read_feature_inputs, source_input_rows
from features.plan import FeaturePlan
from features.prepare import engine_partitions
from features.spec import DEFAULT_SPEC_PATH, SnapshotSettings, SpecError, expand, load_spec
from features.writer import remove_orphans, table_path, write_snapshot

pytestmark = pytest.mark.spark

CUSTOMERS = 300
CHANNELS = ["store", "web", "app", "marketplace"]
CATEGORIES = ["grocery", "beverages", "fashion", "electronics", "beauty"]
PAYMENTS = ["cash", "card", "momo", "vnpay"]


def random_inputs(seed: int = 5) -> tuple[list, list, list, list, list]:
    """Transactions, identity map, golden records, points and cards of CUSTOMERS people."""
    rng = np.random.default_rng(seed)
    transactions, ids, goldens, point_rows, members = [], [], [], [], []
    for n in range(CUSTOMERS):
        customer = f"C{n:04d}"
        goldens.append(golden(customer, int(rng.integers(30, 900))))
        ids.append(identity(f"crm:CT{n}", customer))
        for _ in range(int(rng.poisson(8))):
            transactions.append(tx(
                f"crm:CT{n}", int(rng.integers(1, 400)), int(rng.integers(1, 900)) * 1_000 + 7,
                channel=str(rng.choice(CHANNELS)), category=str(rng.choice(CATEGORIES)),
                payment=str(rng.choice(PAYMENTS)), hour=int(rng.integers(0, 24)),
                status="refunded" if rng.random() < 0.08 else "completed",
                discount=int(rng.choice([0, 0, 0, 10_000])),
                voucher=str(rng.choice(["SALE10", "FREESHIP"])) if rng.random() < 0.2 else None,
            ))  # fmt: skip
        if n % 3 == 0:
            ids.append(identity(f"loyalty:LM{n}", customer))
            members.append(member(f"LM{n}", "gold", "active", int(rng.integers(40, 500)), 20))
            for _ in range(int(rng.poisson(3))):
                point_rows.append(points(f"LM{n}", int(rng.integers(1, 300)), "earn",
                                         int(rng.integers(1, 500))))  # fmt: skip
    return transactions, ids, goldens, point_rows, members


def small_spec(path, row_group_rows: int = 16):
    """conf/features.yaml with a handful of measures (every family kept) and small row groups."""
    raw = yaml.safe_load(DEFAULT_SPEC_PATH.read_text(encoding="utf-8"))
    raw["families"]["transactions"]["groups"] = [
        {"slices": ["all", "channel"], "windows": ["d30", "life"],
         "measures": ["count", "amount_sum", "amount_std"]}]  # fmt: skip
    raw["snapshot"] = {"memory_budget_mb": 2048, "row_group_rows": row_group_rows}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_spec(path)


@pytest.fixture(scope="module")
def random_lake(spark, tmp_path_factory) -> Lakehouse:
    lake = Lakehouse(tmp_path_factory.mktemp("buckets") / "lake", spark)
    write_tables(lake, *random_inputs())
    return lake


def test_bucketed_build_equals_the_one_bucket_build_in_every_column(random_lake, tmp_path):
    spec = load_spec()  # the full spec: all 3,020 columns
    inputs = read_feature_inputs(random_lake)
    whole = build_customer_features(inputs, spec, AS_OF)
    bucketed = build_customer_features(inputs, spec, AS_OF, bucket_customers=45, staging=tmp_path)
    assert whole.bucket_count == 1
    assert bucketed.bucket_count == 7  # 300 customers, 45 a bucket
    one, many = whole.table, bucketed.table
    assert one.num_rows == CUSTOMERS and one.num_columns == 2 + 3020
    assert many.schema == one.schema
    for name in one.column_names:  # bit for bit (no NaN: nulls are nulls)
        assert many.column(name).equals(one.column(name)), name
    sizes = [snapshot.customer_level.num_rows for snapshot in bucketed.buckets()]
    assert sizes == [45] * 6 + [30]
    bucketed.close()
    assert not any(tmp_path.iterdir())  # the staged engine output is removed


def test_two_builds_in_another_row_order_and_partitioning_are_identical(spark, random_lake):
    spec = load_spec()
    inputs = read_feature_inputs(random_lake)
    first = build_customer_features(inputs, spec, AS_OF).table
    shuffled = dataclasses.replace(
        inputs,
        transactions=inputs.transactions.orderBy(F.rand(17)).repartition(3),
        loyalty_points=inputs.loyalty_points.orderBy(F.rand(5)),
    )
    partitions = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "5")
    try:
        second = build_customer_features(shuffled, spec, AS_OF, bucket_customers=100).table
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", partitions)
    assert second.num_rows == CUSTOMERS
    for name in first.column_names:
        assert second.column(name).equals(first.column(name)), name


def test_more_engine_partitions_than_spark_s_default_give_the_same_snapshot(spark, random_lake):
    spec = load_spec()
    inputs = read_feature_inputs(random_lake)
    default = build_customer_features(inputs, spec, AS_OF).table
    transactions = source_input_rows(inputs)["transactions"]
    per_partition = transactions // 6
    shuffle_partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    assert engine_partitions(transactions, per_partition, shuffle_partitions) > shuffle_partitions
    small_tasks = dataclasses.replace(
        spec,
        snapshot=dataclasses.replace(spec.snapshot, engine_events_per_partition=per_partition),
    )
    split = build_customer_features(inputs, small_tasks, AS_OF).table
    assert split.num_rows == CUSTOMERS
    for name in default.column_names:  # bit for bit
        assert split.column(name).equals(default.column(name)), name


def test_engine_partitions_bound_the_events_per_task():
    assert engine_partitions(6_251_507, 250_000, 4) == 26
    assert engine_partitions(625_000, 250_000, 4) == 4  # never below Spark's shuffle partitions
    assert engine_partitions(0, 250_000, 4) == 4
    assert engine_partitions(250_001, 250_000, 1) == 2


def _write(lake, spec, as_of, per_bucket, tmp_path):
    built = build_customer_features(
        read_feature_inputs(lake), spec, as_of, bucket_customers=per_bucket, staging=tmp_path
    )
    batches = (snapshot.batches() for snapshot in built.buckets())
    return write_snapshot(lake, built.schema, batches, as_of, spec.snapshot.row_group_rows)


def _commit(lake, version: int) -> list[dict]:
    log = table_path(lake) / "_delta_log" / f"{version:020d}.json"
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_one_commit_for_every_bucket_and_an_idempotent_rerun(random_lake, tmp_path):
    lake = random_lake
    spec = small_spec(tmp_path / "features.yaml")
    first = _write(lake, spec, AS_OF, 60, tmp_path)  # a new table
    assert (first.version, first.files, first.rows) == (0, 5, CUSTOMERS)
    adds = [a["add"] for a in _commit(lake, 0) if "add" in a]
    assert len(adds) == 5
    ranges = [(json.loads(a["stats"])["minValues"]["customer_id"],
               json.loads(a["stats"])["maxValues"]["customer_id"]) for a in adds]  # fmt: skip
    assert sorted(ranges) == [(f"C{k:04d}", f"C{k + 59:04d}") for k in range(0, 300, 60)]
    before = lake.read_arrow(GOLD_CUSTOMER_FEATURES).sort_by("customer_id")

    other_day = AS_OF - timedelta(days=1)
    assert _write(lake, spec, other_day, 100, tmp_path).version == 1
    again = _write(lake, spec, AS_OF, 60, tmp_path)  # the same date again: replaced
    assert (again.version, again.files) == (2, 5)
    actions = _commit(lake, 2)
    assert len([a for a in actions if "add" in a]) == 5
    removed = {a["remove"]["path"] for a in actions if "remove" in a}
    assert removed == {a["path"] for a in adds}  # the old files, in the same commit
    table = lake.read_arrow(GOLD_CUSTOMER_FEATURES)
    today = table.filter(pc.field("as_of_date") == AS_OF).sort_by("customer_id")
    assert today.equals(before)
    assert table.filter(pc.field("as_of_date") == other_day).num_rows == CUSTOMERS


def test_a_crash_before_the_commit_leaves_the_table_as_it_was(random_lake, tmp_path):
    lake = Lakehouse(tmp_path / "lake", random_lake.spark)
    write_tables(lake, *random_inputs(seed=9))
    spec = small_spec(tmp_path / "features.yaml")
    _write(lake, spec, AS_OF, 100, tmp_path)
    before = lake.read_arrow(GOLD_CUSTOMER_FEATURES)
    built = build_customer_features(read_feature_inputs(lake), spec, AS_OF, bucket_customers=50)

    def crashing():
        for number, snapshot in enumerate(built.buckets()):
            if number == 3:
                raise RuntimeError("killed")
            yield snapshot.batches()

    with pytest.raises(RuntimeError, match="killed"):
        write_snapshot(lake, built.schema, crashing(), AS_OF, spec.snapshot.row_group_rows)
    assert lake.version(GOLD_CUSTOMER_FEATURES) == 0
    assert lake.read_arrow(GOLD_CUSTOMER_FEATURES).equals(before)
    partition = table_path(lake) / f"as_of_date={AS_OF.isoformat()}"
    live = sorted(partition.glob("*.parquet"))
    assert len(live) == 3  # the 3 files of the crashed write were deleted with the error

    # a hard kill leaves its files behind: orphans no reader sees, removed by remove_orphans
    orphan = partition / "part-00000-killed.zstd.parquet"
    orphan.write_bytes(live[0].read_bytes())
    assert lake.read_arrow(GOLD_CUSTOMER_FEATURES).equals(before)
    assert remove_orphans(lake, retention_hours=0) == [
        orphan.relative_to(table_path(lake)).as_posix()
    ]
    assert sorted(partition.glob("*.parquet")) == live
    assert lake.read_arrow(GOLD_CUSTOMER_FEATURES).equals(before)


def test_a_reader_of_one_customer_touches_one_file_and_one_row_group(random_lake, tmp_path):
    lake = Lakehouse(tmp_path / "lake", random_lake.spark)
    write_tables(lake, *random_inputs(seed=3))
    spec = small_spec(tmp_path / "features.yaml", row_group_rows=16)
    _write(lake, spec, AS_OF, 60, tmp_path)
    dataset = lake.arrow_dataset(GOLD_CUSTOMER_FEATURES)
    customer = pc.field("customer_id") == "C0137"
    wanted = customer & (pc.field("as_of_date") == AS_OF)
    fragments = list(dataset.get_fragments(filter=wanted))  # delta-rs file statistics
    assert len(fragments) == 1
    groups = fragments[0].split_by_row_group(filter=customer)  # Parquet row-group statistics
    assert len(groups) == 1
    assert [group.num_rows for group in groups[0].row_groups] == [16]
    row = groups[0].to_table(filter=customer)
    assert row.column("customer_id").to_pylist() == ["C0137"]
    assert fragments[0].metadata.num_row_groups == 4  # 60 customers in row groups of 16
    ids = fragments[0].to_table(columns=["customer_id"]).column(0).to_pylist()
    assert ids == sorted(ids)


def test_the_bucket_size_comes_from_the_memory_budget():
    assert customers_per_bucket(SnapshotSettings(memory_budget_mb=2048), 2784) == 24_105
    assert customers_per_bucket(SnapshotSettings(memory_budget_mb=1), 10**6) == 1
    import pyarrow as pa

    ids = pa.array([f"C{n}" for n in (5, 1, 3, 2, 4, 1)])
    assert bucket_boundaries(ids, 2) == ["C3", "C5"]
    assert bucket_boundaries(ids, 5) == []


@pytest.mark.parametrize(
    ("snapshot", "message"),
    [
        ({"memory_budget_mb": 0}, "snapshot.memory_budget_mb: expected a positive whole number"),
        ({"row_group_rows": "1k"}, "snapshot.row_group_rows: expected a positive whole number"),
        ({"memory_budget": 100}, "snapshot: unknown keys"),
        ({"engine_events_per_partition": 0}, "snapshot.engine_events_per_partition: expected a"),
    ],
)
def test_bad_snapshot_settings_are_refused_at_load(tmp_path, snapshot, message):
    raw = yaml.safe_load(DEFAULT_SPEC_PATH.read_text(encoding="utf-8"))
    raw["snapshot"] = snapshot
    path = tmp_path / "features.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError, match=message):
        load_spec(path)


def test_a_source_without_rows_gets_no_engine_stage_and_changes_nothing(random_lake):
    spec = load_spec()
    absent = read_feature_inputs(random_lake)  # no engagement or service table at all
    assert absent.engagement_messages is None and absent.service_contacts is None
    no_messages = _or_empty(None, absent.transactions, "engagement_messages")
    empty = dataclasses.replace(absent, engagement_messages=no_messages)
    plan = FeaturePlan(spec, expand(spec))
    output, _ = _spark_output(empty, plan, AS_OF, [])
    physical = output._jdf.queryExecution().executedPlan().toString()
    # transactions, loyalty points, the card summary and the profile; not the two empty sources
    assert physical.count("MapInArrow") == 4
    one = build_customer_features(absent, spec, AS_OF).table
    other = build_customer_features(empty, spec, AS_OF).table
    assert other.num_rows == CUSTOMERS
    for name in one.column_names:
        assert other.column(name).equals(one.column(name)), name
    assert set(pc.unique(other.column("eng_sent_mch_email_d30")).to_pylist()) == {0}
