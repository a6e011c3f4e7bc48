"""Benchmark of the gold feature build (issue 6).

Generates a landing zone with the sample generator (``c360.sample``), builds the feature inputs
with the project's own stages (``c360 run --stages bronze,silver,identity``: silver transactions,
loyalty points and members, the identity map and golden records, as a run writes them), then in
one Spark session times

- one ``groupBy(record_key).count()`` scan of silver transactions (the reference),
- the full feature build (every feature of ``conf/features.yaml`` for every customer, into the
  snapshot table in Arrow on the driver: ``features_cold`` for the first build of the session,
  ``features_warm`` the best of ``--repeat`` more), and the build streamed into the Delta table
  (``features_with_delta_write``, as the asset writes it),
- two floors, the work any Spark build of these features does before aggregating anything:
  ``floor_partition`` reads the transaction columns the features use, resolves them to
  customers, partitions them by customer and discards them; ``floor_python_handoff`` also
  passes them through a Python worker and back (as the engine's ``mapInArrow`` does),

and prints the wall times, their ratios to the scan, the feature counts and the check report;
the figures go to ``benchmarks/results/features.json``. The scan, the warm build and the floors
are timed in alternation, ``--repeat`` rounds, best of each, so all see an equally warm JVM (a
scan timed only before the builds is slower than one timed between them).

Usage::

    .venv/bin/python benchmarks/bench_features.py --people 10000                      # realistic
    .venv/bin/python benchmarks/bench_features.py --people 10000 --orders-per-year 80  # ~1M tx
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from c360.config import SparkSettings, load_settings
from c360.lakehouse import Lakehouse
from c360.sample import GeneratorConfig, PopulationConfig, generate_landing_zone, load_noise_config
from c360.spark import build_spark_session
from c360.tables import (
    FEATURE_INPUT_TABLES,
    GOLD_CUSTOMER_FEATURES,
    GOLD_FEATURE_CATALOG,
    SILVER_TRANSACTIONS,
)
from features.catalog import catalog_table
from features.checks import check_feature_table
from features.compiler import build_customer_features
from features.events import read_feature_inputs, transaction_events
from features.plan import FeaturePlan
from features.prepare import engine_input
from features.spec import TX_SOURCE, expand, load_spec

REPOSITORY = Path(__file__).resolve().parent.parent
RESULTS = REPOSITORY / "benchmarks" / "results" / "features.json"
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


def run(args: argparse.Namespace) -> dict:
    work = Path(args.workdir or tempfile.mkdtemp(prefix="c360-features-bench-"))
    raw, truth = work / "raw", work / "truth"
    start = date.fromisoformat(args.start)
    days = [start + timedelta(days=i) for i in range(args.days)]
    started = time.perf_counter()
    if not (raw / "transactions").exists():
        config = GeneratorConfig(
            people=args.people, days=args.days, start=start, seed=args.seed,
            noise=load_noise_config(), transactions_format="parquet",
            population=PopulationConfig(orders_per_year_median=args.orders_per_year),
        )  # fmt: skip
        generate_landing_zone(config, raw, truth, overwrite=True, progress=log.info)
    generated = time.perf_counter() - started
    started = time.perf_counter()  # before the benchmark's own Spark session: one JVM at a time
    existing = Lakehouse(work / "lake", spark=None, writer="delta-rs")
    if not all(existing.exists(table) for table in FEATURE_INPUT_TABLES):
        build_inputs(raw, work / "lake", days)
    staged = time.perf_counter() - started

    settings = load_settings()
    spark = build_spark_session(
        SparkSettings(
            master=args.master, app_name="c360-bench-features", driver_memory=args.driver_memory,
            shuffle_partitions=args.shuffle_partitions, log_level="ERROR",
            extra_conf=settings.spark.extra_conf,
        )
    )  # fmt: skip
    lake = Lakehouse(work / "lake", spark)
    as_of = days[-1] + timedelta(days=1)
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

    def build(sink: str) -> None:
        built = build_customer_features(read_feature_inputs(lake), spec, as_of, features)
        if sink == "delta":  # streamed into the Delta table, as the asset does
            lake.replace_where(built.reader(), GOLD_CUSTOMER_FEATURES, {"as_of_date": [as_of]})
        elif built.table.num_rows == 0:  # the whole snapshot as one Arrow table on the driver
            raise RuntimeError("the benchmark's snapshot is empty")

    inputs = read_feature_inputs(lake)
    tx_events = transaction_events(inputs.transactions, inputs.identity_map, as_of, spec.timezone)
    partitioned = engine_input(FeaturePlan(spec, features), tx_events, TX_SOURCE)
    partitioned = partitioned.repartition("customer_id")
    handed_off = partitioned.mapInArrow(_pass_through, partitioned.schema)

    timed(reference_scan)  # warm the JVM and the file cache
    cold_seconds = timed(lambda: build("arrow"))  # pays code generation, Python worker start-up
    rounds: dict[str, list[float]] = {"scan": [], "warm": [], "partition": [], "handoff": []}
    for _ in range(args.repeat):
        rounds["scan"].append(timed(reference_scan))
        rounds["warm"].append(timed(lambda: build("arrow")))
        rounds["partition"].append(timed(lambda: discard(partitioned)))
        rounds["handoff"].append(timed(lambda: discard(handed_off)))
    rounds["scan"].append(timed(reference_scan))
    best = {name: min(times) for name, times in rounds.items()}
    scan_seconds, warm_seconds = best["scan"], best["warm"]
    write_seconds = timed(lambda: build("delta"))
    started = time.perf_counter()
    report = check_feature_table(lake, as_of, features)
    check_seconds = time.perf_counter() - started
    result = {
        "people": args.people,
        "orders_per_year_median": args.orders_per_year,
        "transactions": transactions,
        "customers": report.rows,
        "as_of_date": as_of.isoformat(),
        "features": len(features),
        "non_constant_features": report.non_constant,
        "defects": {name: kind for name, kind in report.defects.items()},
        "tolerated": report.tolerated,
        "seconds": {
            "generate": round(generated, 2),
            "bronze_silver_identity": round(staged, 2),
            "reference_groupby_count_scan": round(scan_seconds, 3),
            "features_cold": round(cold_seconds, 2),
            "features_warm": round(warm_seconds, 2),
            "features_with_delta_write": round(write_seconds, 2),
            "check": round(check_seconds, 2),
            "floor_partition": round(best["partition"], 3),
            "floor_python_handoff": round(best["handoff"], 3),
        },
        "ratio_warm_to_scan": round(warm_seconds / scan_seconds, 1),
        "ratio_cold_to_scan": round(cold_seconds / scan_seconds, 1),
        "ratio_floor_partition_to_scan": round(best["partition"] / scan_seconds, 1),
        "ratio_floor_python_handoff_to_scan": round(best["handoff"] / scan_seconds, 1),
        "rounds": args.repeat,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "master": args.master,
        },
    }
    spark.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--orders-per-year", type=float, default=4.0, help="median per person")
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
        f"({result['non_constant_features']:,} non-constant, {len(result['defects'])} defects)"
    )
    print(
        f"reference groupBy-count scan {seconds['reference_groupby_count_scan']:.2f} s; features "
        f"warm {seconds['features_warm']:.1f} s ({result['ratio_warm_to_scan']}x), cold "
        f"{seconds['features_cold']:.1f} s ({result['ratio_cold_to_scan']}x), with the Delta "
        f"write {seconds['features_with_delta_write']:.1f} s; check {seconds['check']:.1f} s"
    )
    print(
        f"floors (no aggregation): events read, resolved and partitioned by customer "
        f"{seconds['floor_partition']:.2f} s ({result['ratio_floor_partition_to_scan']}x); "
        f"and handed to Python and back {seconds['floor_python_handoff']:.2f} s "
        f"({result['ratio_floor_python_handoff_to_scan']}x)"
    )
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(output.read_text()) if output.exists() else {}
    runs = existing.get("runs", {}) if isinstance(existing, dict) else {}
    runs[f"{result['people']}p_{result['transactions']}tx"] = result
    output.write_text(json.dumps({"runs": runs}, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
