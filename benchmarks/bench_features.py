"""Benchmark of the gold feature stage (issues 6 and 16): its ratio to the partition floor.

Inputs: either a landing zone generated with the sample generator (``c360.sample``) and run
through the project's own stages (``c360 run --stages bronze,silver,identity``), or, with
``--synthetic``, the five feature inputs synthesised directly (``benchmarks/synthetic.py``:
1M people through the pipeline take longer than this benchmark can wait). Then, in one Spark
session, it times in alternation, ``--repeat`` rounds, best of each (so all see an equally
warm JVM):

- ``reference_groupby_count_scan``: one ``groupBy(record_key).count()`` of silver transactions;
- ``floor_partition`` (issue 16's *partition floor*): read the transaction columns the
  features use, resolve them to customers (identity-map join), repartition by customer,
  discard; ``floor_python_handoff``: the same passed through a Python worker and back;
- ``features``: the stage as the asset runs it (``features.snapshot.materialise_snapshot``):
  the build, bucket by bucket, written to ``gold/customer_features`` in one Delta commit, with
  the column check's profile; then the check's report.

It prints the ratio of ``features`` to ``floor_partition`` (the goal: at most 3x) and the peak
resident memory of the process tree (this process, Spark's JVM and its Python workers) during
the feature rounds; the figures go to ``benchmarks/results/features.json``, one entry per
size.

Usage::

    .venv/bin/python benchmarks/bench_features.py --people 10000                      # realistic
    .venv/bin/python benchmarks/bench_features.py --people 10000 --orders-per-year 80  # ~1M tx
    flock /work/wt/_bigrun.lock .venv/bin/python benchmarks/bench_features.py --synthetic \
        --people 1000000 --orders-per-customer 6.3 --repeat 1 --shuffle-partitions 16
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import PeakMemory, save_per_size, write_feature_inputs

from c360.config import SparkSettings, load_settings
from c360.lakehouse import Lakehouse
from c360.sample import GeneratorConfig, PopulationConfig, generate_landing_zone, load_noise_config
from c360.spark import build_spark_session
from c360.tables import (
    FEATURE_INPUT_TABLES,
    GOLD_FEATURE_CATALOG,
    OPTIONAL_FEATURE_INPUTS,
    SILVER_TRANSACTIONS,
)
from features.catalog import catalog_table
from features.checks import check_profile
from features.events import read_feature_inputs, transaction_events
from features.plan import FeaturePlan
from features.prepare import engine_input
from features.snapshot import MaterialisedSnapshot, materialise_snapshot
from features.spec import TX_SOURCE, expand, load_spec

REPOSITORY = Path(__file__).resolve().parent.parent
RESULTS = REPOSITORY / "benchmarks" / "results" / "features.json"
SYNTHETIC_AS_OF = date(2026, 10, 4)
INPUT_STAGES = "bronze,silver,identity"  # the stages that write FEATURE_INPUT_TABLES
log = logging.getLogger("benchmarks.bench_features")


def build_inputs(raw: Path, lakehouse: Path, days: list[date]) -> None:
    """Run the pipeline's bronze, silver and identity stages on ``days`` of ``raw`` into
    ``lakehouse`` (``c360 run`` in a subprocess, so its Spark session is not the benchmark's)."""
    command = [
        sys.executable, "-m", "pipelines.cli", "run", "--raw", str(raw),
        "--lakehouse", str(lakehouse), "--stages", INPUT_STAGES,
        "--days", ",".join(day.isoformat() for day in days),
    ]  # fmt: skip
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), path]))}
    subprocess.run(command, cwd=REPOSITORY, env=env, check=True)


def _pass_through(batches):
    """A ``mapInArrow`` function that returns its input (the Python hand-off floor)."""
    yield from batches


def prepare_inputs(args: argparse.Namespace, work: Path) -> tuple[date, dict[str, float]]:
    """The feature inputs under ``work/lake`` (kept between runs); the as-of date and the
    seconds it took."""
    seconds = {}
    existing = Lakehouse(work / "lake", spark=None, writer="delta-rs")
    ready = all(
        existing.exists(table)
        for table in FEATURE_INPUT_TABLES
        if table not in OPTIONAL_FEATURE_INPUTS
    )
    started = time.perf_counter()
    if args.synthetic:
        if not ready:
            write_feature_inputs(existing, args.people, args.orders_per_customer, SYNTHETIC_AS_OF)
        seconds["synthesise_inputs"] = round(time.perf_counter() - started, 2)
        return SYNTHETIC_AS_OF, seconds
    raw, truth = work / "raw", work / "truth"
    start = date.fromisoformat(args.start)
    days = [start + timedelta(days=i) for i in range(args.days)]
    if not (raw / "transactions").exists():
        config = GeneratorConfig(
            people=args.people, days=args.days, start=start, seed=args.seed,
            noise=load_noise_config(), transactions_format="parquet",
            population=PopulationConfig(orders_per_year_median=args.orders_per_year),
        )  # fmt: skip
        generate_landing_zone(config, raw, truth, overwrite=True, progress=log.info)
    seconds["generate"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()  # before the benchmark's own Spark session: one JVM at a time
    if not ready:
        build_inputs(raw, work / "lake", days)
    seconds["bronze_silver_identity"] = round(time.perf_counter() - started, 2)
    return days[-1] + timedelta(days=1), seconds


def run(args: argparse.Namespace) -> dict:
    work = Path(args.workdir or tempfile.mkdtemp(prefix="c360-features-bench-"))
    as_of, seconds = prepare_inputs(args, work)
    settings = load_settings()
    memory = PeakMemory().__enter__()
    spark = build_spark_session(
        SparkSettings(
            master=args.master, app_name="c360-bench-features", driver_memory=args.driver_memory,
            shuffle_partitions=args.shuffle_partitions, log_level="ERROR",
            extra_conf=settings.spark.extra_conf,
        )
    )  # fmt: skip
    lake = Lakehouse(work / "lake", spark)
    transactions = lake.count(SILVER_TRANSACTIONS)
    spec = load_spec(args.spec)
    features = expand(spec)
    lake.overwrite(catalog_table(spec, features), GOLD_FEATURE_CATALOG)

    def timed(action) -> float:
        t0 = time.perf_counter()
        action()
        return time.perf_counter() - t0

    def discard(frame) -> None:
        frame.write.format("noop").mode("overwrite").save()

    def reference_scan() -> None:
        discard(lake.read(SILVER_TRANSACTIONS).groupBy("record_key").count())

    written: list[MaterialisedSnapshot] = []

    def feature_stage() -> None:
        written.append(materialise_snapshot(lake, read_feature_inputs(lake), spec, as_of, features))

    inputs = read_feature_inputs(lake)
    tx_events = transaction_events(inputs.transactions, inputs.identity_map, as_of, spec.timezone)
    partitioned = engine_input(FeaturePlan(spec, features), tx_events, TX_SOURCE)
    partitioned = partitioned.repartition("customer_id")
    handed_off = partitioned.mapInArrow(_pass_through, partitioned.schema)

    timed(reference_scan)  # warm the JVM and the file cache
    rounds: dict[str, list[float]] = {"scan": [], "partition": [], "handoff": [], "features": []}
    feature_peaks = []
    for _ in range(args.repeat):
        rounds["scan"].append(timed(reference_scan))
        rounds["partition"].append(timed(lambda: discard(partitioned)))
        rounds["handoff"].append(timed(lambda: discard(handed_off)))
        memory.reset()
        rounds["features"].append(timed(feature_stage))
        feature_peaks.append(memory.peak_gib)
    rounds["scan"].append(timed(reference_scan))
    best = {name: min(times) for name, times in rounds.items()}
    started = time.perf_counter()
    snapshot = written[-1]
    report = check_profile(lake, snapshot.profile, features, min_customers=0)
    check_seconds = time.perf_counter() - started
    memory.__exit__()
    floor = best["partition"]
    result = {
        "people": args.people,
        "inputs": "synthesised (benchmarks/synthetic.py)" if args.synthetic else "pipeline",
        "orders_per_year_median": None if args.synthetic else args.orders_per_year,
        "orders_per_customer": args.orders_per_customer if args.synthetic else None,
        "transactions": transactions,
        "customers": report.rows,
        "as_of_date": as_of.isoformat(),
        "features": len(features),
        "non_constant_features": report.non_constant,
        "defects": dict(report.defects),
        "buckets": snapshot.buckets,
        "files": snapshot.written.files,
        "row_group_rows": spec.snapshot.row_group_rows,
        "memory_budget_mb": spec.snapshot.memory_budget_mb,
        "seconds": {
            **seconds,
            "reference_groupby_count_scan": round(best["scan"], 3),
            "floor_partition": round(floor, 3),
            "floor_python_handoff": round(best["handoff"], 3),
            "features": round(best["features"], 2),
            "features_rounds": [round(t, 2) for t in rounds["features"]],
            "check_report": round(check_seconds, 2),
        },
        "ratio_features_to_floor_partition": round(best["features"] / floor, 2),
        "ratio_floor_partition_to_scan": round(floor / best["scan"], 1),
        "ratio_floor_python_handoff_to_scan": round(best["handoff"] / best["scan"], 1),
        "peak_gib_process_tree_features": max(feature_peaks),
        "peak_gib_process_tree_run": memory.peak_gib,
        "rounds": args.repeat,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "master": args.master,
            "driver_memory": args.driver_memory,
            "shuffle_partitions": args.shuffle_partitions,
            "load_average_1m_at_end": round(os.getloadavg()[0], 1),
        },
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    spark.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--orders-per-year", type=float, default=4.0, help="median per person")
    parser.add_argument("--synthetic", action="store_true", help="synthesise the inputs")
    parser.add_argument("--orders-per-customer", type=float, default=6.3,
                        help="--synthetic: mean transactions per customer (Poisson)")  # fmt: skip
    parser.add_argument("--days", type=int, default=3, help="landing days after a year of history")
    parser.add_argument("--start", default="2026-10-01")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spec", default=None, help="feature spec (default conf/features.yaml)")
    parser.add_argument("--workdir", default=None, help="reuse generated data here")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--shuffle-partitions", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (best of each)")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = run(args)
    seconds = result["seconds"]
    print(
        f"{result['people']:,} people, {result['transactions']:,} transactions, "
        f"{result['customers']:,} customers, {result['features']:,} features "
        f"({result['non_constant_features']:,} non-constant, {len(result['defects'])} defects), "
        f"{result['buckets']} buckets"
    )
    print(
        f"features stage {seconds['features']:.1f} s = "
        f"{result['ratio_features_to_floor_partition']}x the partition floor "
        f"({seconds['floor_partition']:.2f} s: events read, resolved and partitioned by "
        f"customer; handed to Python and back {seconds['floor_python_handoff']:.2f} s; "
        f"groupBy-count scan {seconds['reference_groupby_count_scan']:.2f} s); peak of the "
        f"process tree {result['peak_gib_process_tree_features']} GiB"
    )
    size = f"{result['people']}p_{result['transactions']}tx"
    save_per_size(Path(args.output), "runs", size, result)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
