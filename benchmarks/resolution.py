"""Identity resolution benchmark: our stage vs plain Splink on DuckDB over the same records.

Input: a silver/person_records table (Delta folder or parquet file) and, optionally, the truth
folder the sample generator wrote beside the extracts. Produce them with::

    c360 generate --people 10000 --days 2 --out RAW --truth TRUTH
    C360_RAW=RAW C360_LAKEHOUSE=LAKE c360 run          # bronze + silver
    python benchmarks/resolution.py --records LAKE/silver/person_records --truth TRUTH

Prints F1 (when truth is given), records/s, comparisons scored and wall time per stage, then
runs plain Splink (same compiled settings, same training calls, plain connected components at
the same threshold, no guard, no stable IDs) and prints the time ratio. Writes
benchmarks/results/resolution.json.
"""

# ruff: noqa: E402  (the path fix below must run before the package imports)
from __future__ import annotations

import sys
from pathlib import Path

# This script is named like the package it measures: keep its own folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import logging
import time
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from splink import DuckDBAPI, Linker

from resolution.evaluation import evaluate_clusters, read_truth
from resolution.linker import DuckDBBackend
from resolution.pipeline import match_records
from resolution.prepare import prepare_records
from resolution.settings import (
    build_settings,
    load_matching_config,
    populated_columns,
    usable_rules,
)
from resolution.stable_ids import assign_customer_ids

RESULTS = Path(__file__).resolve().parent / "results" / "resolution.json"


def read_records(path: Path) -> pa.Table:
    """A person_records Delta table folder or parquet file."""
    if DeltaTable.is_deltatable(str(path)):
        return DeltaTable(str(path)).to_pyarrow_dataset().to_table()
    return pq.read_table(path)


def ours(records: pa.Table, threshold: float) -> tuple[dict, pd.DataFrame]:
    """Our whole resolution stage: prepare, train, predict, guarded clustering, stable IDs."""
    started = time.perf_counter()
    result = match_records(records, DuckDBBackend(), load_matching_config(), threshold)
    ids_started = time.perf_counter()
    ids = assign_customer_ids(None, result.clusters.to_pandas(), "bench", datetime.now(UTC))
    seconds = dict(result.stage_seconds)
    seconds["stable_ids"] = round(time.perf_counter() - ids_started, 3)
    wall = time.perf_counter() - started
    clusters = pd.DataFrame(
        {
            "record_id": ids.identity_map["source_system"]
            + ":"
            + ids.identity_map["source_record_id"],
            "cluster_id": ids.identity_map["customer_id"],
        }
    )
    return {
        "wall_seconds": round(wall, 3),
        "stage_seconds": seconds,
        "pairs_scored": result.pairs_scored,
        "clusters": result.cluster_count,
        "edges_refused_by_guard": result.clustering.edges_refused_by_guard,
    }, clusters


def plain_splink(records: pa.Table, threshold: float) -> tuple[dict, pd.DataFrame]:
    """Plain Splink on DuckDB with the same settings and training calls; no guard."""
    config = load_matching_config()
    training = config.training
    started = time.perf_counter()
    prepared = prepare_records(records, config.prepare)
    available = populated_columns(prepared, training.min_populated_share)
    linker = Linker(
        DuckDBAPI().register(prepared), build_settings(config, available), log_level=None
    )
    deterministic = usable_rules(training.deterministic_rules, available)
    linker.training.estimate_probability_two_random_records_match(
        deterministic, recall=training.deterministic_recall
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=training.u_max_pairs, seed=training.seed
    )
    failed_em = 0
    for rule in usable_rules(training.em_blocking_rules, available):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except ValueError:  # Splink's m = 0.0 crash; plain Splink would stop here
            failed_em += 1
    trained = time.perf_counter()
    predictions = linker.inference.predict()
    predicted = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold
    ).as_pandas_dataframe()
    wall = time.perf_counter() - started
    return {
        "wall_seconds": round(wall, 3),
        "stage_seconds": {
            "train": round(trained - started, 3),
            "predict": round(predicted - trained, 3),
            "cluster": round(wall - (predicted - started), 3),
        },
        "em_sessions_crashed": failed_em,
    }, clusters[["record_key", "cluster_id"]].rename(columns={"record_key": "record_id"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True, help="person_records Delta/parquet")
    parser.add_argument("--truth", type=Path, help="truth folder (person_truth.csv)")
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    records = read_records(args.records)
    truth = read_truth(args.truth) if args.truth else None
    results: dict = {"records": records.num_rows, "threshold": args.threshold}
    for name, run in (("ours", ours), ("plain_splink", plain_splink)):
        figures, clusters = run(records, args.threshold)
        figures["records_per_second"] = round(records.num_rows / figures["wall_seconds"], 1)
        if truth is not None:
            figures["metrics"] = evaluate_clusters(clusters, truth).as_dict()
        results[name] = figures
        f1 = figures.get("metrics", {}).get("f1")
        print(
            f"{name:>12}: {figures['wall_seconds']:.1f} s, "
            f"{figures['records_per_second']:,.0f} records/s, stages {figures['stage_seconds']}"
            + (f", F1 {f1:.4f}" if f1 is not None else "")
        )
    results["time_ratio_ours_to_plain"] = round(
        results["ours"]["wall_seconds"] / results["plain_splink"]["wall_seconds"], 3
    )
    print(f"comparisons scored: {results['ours']['pairs_scored']:,}")
    print(f"time ratio ours / plain Splink: {results['time_ratio_ours_to_plain']:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
