"""Identity resolution benchmark: our identity stage vs plain Splink, per evaluation profile.

For each profile (generator noise profiles ``default``, ``hard``, ``western``, ``sparse`` at
``--people``; the public FEBRL benchmark ``febrl3`` / ``febrl4``) it writes a landing zone with
truth (``c360 generate``), runs the project's own bronze and silver stages on it
(``pipelines.runner.run_pipeline``), then on the same ``silver/person_records``:

- **ours**: ``resolution.run.resolve_identities``, the function the ``identity_map`` asset calls
  (train, predict, guarded clustering, stable IDs) on DuckDB;
- **plain Splink** configured the way its documentation does: ``NameComparison`` on given and
  family name, ``DateOfBirthComparison``, ``EmailComparison``, ``ExactMatch`` with term
  frequencies on phone and national ID, Jaro-Winkler levels on the address and an exact
  province (the "postcode" of Splink's examples); blocking on phone, email, national ID, name
  pair and given name + birth date; prior from deterministic rules, u by random sampling, EM on
  two rules; connected components at the same threshold. Comparisons and rules whose columns
  are empty in the whole input are left out, as a user looking at the data would.

Prints per profile: records, F1 / precision / recall and wall time (train / predict / cluster)
of both; writes benchmarks/results/resolution.json (per profile)::

    python benchmarks/bench_resolution.py --profiles default,hard,western,sparse,febrl3,febrl4 \\
        --people 10000 --work /tmp/resolution-bench

The older single-input mode still works: ``--records LAKE/silver/person_records --truth TRUTH``.
``--reuse`` matches the silver an earlier run left under ``--work`` again (matcher experiments
without landing and standardising anew).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable

RESULTS = Path(__file__).resolve().parent / "results" / "resolution.json"
GENERATOR_PROFILES = ("default", "hard", "western", "sparse")
FEBRL_PROFILES = {"febrl3": "3", "febrl4": "4"}
ALL_PROFILES = (*GENERATOR_PROFILES, *FEBRL_PROFILES)
START = date(2025, 10, 1)
DAYS = 2  # two landing days, so later-day changes (moves, new phones) are part of the data
# No transaction history (history_days=0): the benchmark measures identity, not activity.
SEED = 42
# Plain Splink's settings, as its documentation writes them.
PLAIN_U_MAX_PAIRS = 1e6
PLAIN_RECALL = 0.7
PLAIN_COLUMNS = (
    "record_key", "given_name", "family_name", "date_of_birth", "email", "phone_e164",
    "national_id", "address_folded", "province",
)  # fmt: skip


def read_records(path: Path) -> pa.Table:
    """A person_records Delta table folder or parquet file."""
    if DeltaTable.is_deltatable(str(path)):
        return DeltaTable(str(path)).to_pyarrow_dataset().to_table()
    return pq.read_table(path)


def duckdb_memory_limit() -> str | None:
    """The profile's DuckDB memory cap (``identity.duckdb_memory_limit``), for both matchers:
    DuckDB's default (80% of the machine) got a 100k comparison OOM-killed on a shared box."""
    from c360.config import load_settings

    return load_settings().identity.duckdb_memory_limit


def quiet_splink() -> None:
    """Splink logs every EM iteration at INFO; keep the output to one line per result."""
    logging.getLogger("splink").setLevel(logging.ERROR)


def land(profile: str, people: int, folder: Path) -> tuple[Path, Path]:
    """Generate (or convert FEBRL into) a landing zone with truth under ``folder``."""
    from c360.sample import generate_landing_zone
    from c360.sample.febrl import write_febrl_landing_zone
    from c360.sample.profiles import load_noise_profile

    raw, truth = folder / "raw", folder / "truth"
    if profile in FEBRL_PROFILES:
        write_febrl_landing_zone(FEBRL_PROFILES[profile], raw, truth, START)
    else:
        config = load_noise_profile(profile).generator_config(
            people=people, days=DAYS, start=START, seed=SEED, history_days=0
        )
        generate_landing_zone(config, raw, truth)
    return raw, truth


def bronze_and_silver(raw: Path, lake: Path) -> tuple[pa.Table, float]:
    """The project's bronze and silver stages; returns silver/person_records and seconds."""
    from c360.tables import SILVER_PERSON_RECORDS
    from pipelines.runner import run_pipeline

    started = time.perf_counter()
    run_pipeline({"raw_root": str(raw), "lakehouse_root": str(lake)}, stages=["bronze", "silver"])
    seconds = time.perf_counter() - started
    quiet_splink()  # the pipeline's logging setup turns Splink's INFO lines back on
    return read_records(lake / SILVER_PERSON_RECORDS.layer / SILVER_PERSON_RECORDS.name), seconds


def ours(records: pa.Table, threshold: float, truth: Path | None) -> dict[str, Any]:
    """Our identity stage as the asset runs it (no saved model: trains on these records)."""
    from resolution.config import load_identity_config
    from resolution.linker import DuckDBBackend
    from resolution.run import resolve_identities

    started = time.perf_counter()
    run = resolve_identities(
        records, None, None, DuckDBBackend(duckdb_memory_limit()), load_identity_config(),
        threshold, run_id="bench", at=datetime.now(UTC), truth_root=truth,
    )  # fmt: skip
    wall = time.perf_counter() - started
    figures: dict[str, Any] = {
        "wall_seconds": round(wall, 3),
        "stage_seconds": dict(run.match.stage_seconds),
        "train_seconds": run.match.stage_seconds.get("train"),
        "pairs_scored": run.match.pairs_scored,
        "clusters": run.match.cluster_count,
        "edges_refused_by_guard": run.match.clustering.edges_refused_by_guard,
    }
    if run.metrics is not None:
        figures["metrics"] = run.metrics.as_dict()
        ids = run.identity_map.to_pandas()
        clusters = pd.DataFrame(
            {
                "record_id": ids["source_system"] + ":" + ids["source_record_id"],
                "cluster_id": ids["customer_id"],
            }
        )
        figures["breakdown"] = breakdown(clusters, truth)
    return figures


def _populated(records: pa.Table, column: str) -> bool:
    if column not in records.column_names:
        return False
    values = records[column]
    if pa.types.is_string(values.type):
        values = pc.if_else(pc.equal(pc.utf8_trim_whitespace(values), ""), None, values)
    return values.null_count < len(values)


def plain_splink_settings(available: set[str]) -> tuple[Any, list, list]:
    """Splink settings as its documentation configures them, over the populated columns.

    Returns the SettingsCreator, the deterministic rules for the prior and the two EM rules.
    """
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons = {
        "given_name": cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        "family_name": cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
        "date_of_birth": cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
        "email": cl.EmailComparison("email"),
        "phone_e164": cl.ExactMatch("phone_e164").configure(term_frequency_adjustments=True),
        "national_id": cl.ExactMatch("national_id").configure(term_frequency_adjustments=True),
        "address_folded": cl.JaroWinklerAtThresholds("address_folded", [0.95, 0.88]),
        "province": cl.ExactMatch("province").configure(term_frequency_adjustments=True),
    }

    def rules(*column_sets: tuple[str, ...]) -> list:
        return [block_on(*cols) for cols in column_sets if set(cols) <= available]

    blocking = rules(
        ("phone_e164",), ("email",), ("national_id",), ("given_name", "family_name"),
        ("given_name", "date_of_birth"),
    )  # fmt: skip
    deterministic = rules(
        ("given_name", "family_name", "date_of_birth"), ("email",), ("phone_e164",),
        ("national_id",),
    )  # fmt: skip
    em = rules(("given_name", "family_name"), ("date_of_birth",), ("national_id",))[:2]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=[c for name, c in comparisons.items() if name in available],
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )
    return settings, deterministic, em


def plain_splink(records: pa.Table, threshold: float, truth: Path | None) -> dict[str, Any]:
    """Plain Splink on DuckDB over the same silver records (empty strings as NULL, as its
    docs ask)."""
    from splink import DuckDBAPI, Linker

    from resolution.evaluation import evaluate_clusters, read_truth

    started = time.perf_counter()
    columns = [c for c in PLAIN_COLUMNS if c in records.column_names]
    table = records.select(columns)
    table = pa.table(
        {
            c: pc.if_else(pc.equal(table[c], ""), None, table[c])
            if pa.types.is_string(table[c].type)
            else table[c]
            for c in columns
        }
    )
    available = {c for c in columns if _populated(table, c)}
    settings, deterministic, em_rules = plain_splink_settings(available)
    import duckdb

    spill = Path(tempfile.gettempdir()) / "c360-bench-duckdb"  # not .tmp/ in the working dir
    limits = {"memory_limit": duckdb_memory_limit() or "80%", "temp_directory": str(spill)}
    connection = duckdb.connect(config=limits)
    linker = Linker(DuckDBAPI(connection).register(table), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        deterministic, recall=PLAIN_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=PLAIN_U_MAX_PAIRS, seed=SEED)
    crashed = []
    for rule in em_rules:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except ValueError as error:  # Splink 5's "m_probability 0.0" crash (DEPENDENCY_NOTES)
            crashed.append(str(error)[:120])
    trained = time.perf_counter()
    predictions = linker.inference.predict()
    predicted = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold
    ).as_pandas_dataframe()
    wall = time.perf_counter() - started
    figures: dict[str, Any] = {
        "wall_seconds": round(wall, 3),
        "stage_seconds": {
            "train": round(trained - started, 3),
            "predict": round(predicted - trained, 3),
            "cluster": round(wall - (predicted - started), 3),
        },
        "comparisons": sorted(available - {"record_key"}),
        "em_sessions_crashed": crashed,
    }
    if truth is not None:
        predicted_clusters = clusters[["record_key", "cluster_id"]].rename(
            columns={"record_key": "record_id"}
        )
        figures["metrics"] = evaluate_clusters(predicted_clusters, read_truth(truth)).as_dict()
        figures["breakdown"] = breakdown(predicted_clusters, truth)
    return figures


def breakdown(clusters: pd.DataFrame, truth: Path) -> dict[str, Any]:
    """Pair recall per noise kind, and hard-negative person pairs merged, per relation.

    A true pair counts for a kind when either record carries it (``noise_log.csv``);
    ``(no noise)`` holds pairs of two records without any. A hard-negative pair is merged when
    a record of each person shares a cluster.
    """
    from resolution.evaluation import read_truth

    joined = read_truth(truth).merge(clusters[["record_id", "cluster_id"]], on="record_id")
    pairs = joined.merge(joined, on="person_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["record_id_a"] < pairs["record_id_b"]]
    found = (pairs["cluster_id_a"] == pairs["cluster_id_b"]).to_numpy()
    log = pd.read_csv(truth / "noise_log.csv", dtype=str, keep_default_na=False)
    log["record_id"] = log["source_system"] + ":" + log["source_record_id"]
    recall: dict[str, dict[str, float | int]] = {}
    noisy = set(log["record_id"])
    groups = {"(no noise)": None, **dict(tuple(log.groupby("noise_kind")["record_id"]))}
    for kind, records in groups.items():
        if records is None:
            mask = ~(pairs["record_id_a"].isin(noisy) | pairs["record_id_b"].isin(noisy))
        else:
            members = set(records)
            mask = pairs["record_id_a"].isin(members) | pairs["record_id_b"].isin(members)
        mask = mask.to_numpy()
        if mask.any():
            recall[kind] = {"pairs": int(mask.sum()), "recall": round(float(found[mask].mean()), 4)}
    negatives = pd.read_csv(truth / "hard_negatives.csv", dtype=str, keep_default_na=False)
    clusters_of = joined.groupby("person_id")["cluster_id"].agg(frozenset)
    merged: dict[str, dict[str, int]] = {}
    for relation, rows in negatives.groupby("relation"):
        a = clusters_of.reindex(rows["person_id_a"]).to_numpy()
        b = clusters_of.reindex(rows["person_id_b"]).to_numpy()
        both = [
            isinstance(x, frozenset) and isinstance(y, frozenset) for x, y in zip(a, b, strict=True)
        ]
        hits = sum(bool(x & y) for x, y, ok in zip(a, b, both, strict=True) if ok)
        merged[relation] = {"pairs": int(sum(both)), "merged": int(hits)}
    return {"pair_recall_by_noise_kind": recall, "hard_negatives_merged": merged}


MATCHERS = ("ours", "plain_splink")


def measure(
    records: pa.Table, threshold: float, truth: Path | None, matchers: tuple[str, ...] = MATCHERS
) -> dict[str, Any]:
    """Ours and plain Splink (or only those of ``matchers``) on the same records."""
    result: dict[str, Any] = {"records": records.num_rows}
    for name, run in (("ours", ours), ("plain_splink", plain_splink)):
        if name in matchers:
            result[name] = run(records, threshold, truth)
    return result


def run_profile(
    profile: str, people: int, work: Path, threshold: float, reuse: bool = False
) -> dict[str, Any]:
    """Land, bronze + silver, then both matchers, for one profile.

    With ``reuse``, a silver/person_records table (and truth) left in ``work/<profile>`` by an
    earlier run is matched again without landing and standardising anew.
    """
    folder = work / profile
    silver = folder / "lake" / "silver" / "person_records"
    if reuse and DeltaTable.is_deltatable(str(silver)) and (folder / "truth").is_dir():
        persons = pd.read_csv(folder / "truth" / "person_truth.csv", usecols=["person_id"])
        result = {"people": None if profile in FEBRL_PROFILES else people, "reused": str(silver)}
        result |= {"persons": int(persons["person_id"].nunique()), "truth_records": len(persons)}
        return {
            "status": "ok",
            **result,
            **measure(read_records(silver), threshold, folder / "truth"),
        }
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    raw, truth = land(profile, people, folder)
    landed = time.perf_counter() - started
    persons = pd.read_csv(truth / "person_truth.csv", usecols=["person_id"])["person_id"]
    result: dict[str, Any] = {
        "people": None if profile in FEBRL_PROFILES else people,
        "persons": int(persons.nunique()),
        "truth_records": len(persons),
        "land_seconds": round(landed, 2),
    }
    from pipelines.runner import RunFailure

    try:
        records, silver_seconds = bronze_and_silver(raw, folder / "lake")
    except RunFailure as failure:  # the pipeline refuses this data: that is the result
        return result | {"status": "failed", "failure": str(failure)[:500]}
    result["bronze_silver_seconds"] = round(silver_seconds, 2)
    return {"status": "ok", **result, **measure(records, threshold, truth)}


def _line(name: str, figures: dict[str, Any]) -> str:
    metrics = figures.get("metrics", {})
    stages = figures["stage_seconds"]
    quality = (
        f"F1 {metrics['f1']:.4f} (P {metrics['precision']:.4f}, R {metrics['recall']:.4f})"
        if metrics
        else "no truth"
    )
    times = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
    return f"  {name:<13} {quality}; {figures['wall_seconds']:.1f} s ({times})"


def print_result(profile: str, result: dict[str, Any]) -> None:
    if result.get("status") == "failed":
        print(f"{profile}: {result['truth_records']:,} records; FAILED: {result['failure']}")
        return
    print(f"{profile}: {result['records']:,} records")
    for name in ("ours", "plain_splink"):
        if name in result:
            print(_line(name, result[name]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profiles", default=",".join(ALL_PROFILES),
        help=f"comma-separated, from {', '.join(ALL_PROFILES)} (default all)",
    )  # fmt: skip
    parser.add_argument("--people", type=int, default=10_000, help="people per generated profile")
    parser.add_argument("--work", type=Path, default=Path("/tmp/c360-resolution-bench"))
    parser.add_argument("--threshold", type=float, help="default: the profile's (conf/base.yaml)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--records", type=Path, help="single-input mode: person_records table")
    parser.add_argument("--truth", type=Path, help="single-input mode: truth folder")
    parser.add_argument(
        "--matchers", default=",".join(MATCHERS),
        help="single-input mode: which to run, e.g. plain_splink when the pipeline benchmark "
        "already timed ours on the same records (default both)",
    )  # fmt: skip
    parser.add_argument(
        "--reuse", action="store_true",
        help="match the silver a previous run left under --work again (no landing, no silver)",
    )  # fmt: skip
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    quiet_splink()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from c360.config import load_settings

    threshold = args.threshold or load_settings().identity.match_probability_threshold
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "threshold": threshold,
        "machine": f"{os.cpu_count()} cores",
        "profiles": {},
    }
    if args.records:
        matchers = tuple(m.strip() for m in args.matchers.split(",") if m.strip())
        if unknown := sorted(set(matchers) - set(MATCHERS)):
            parser.error(f"unknown matchers {unknown}; choose from {', '.join(MATCHERS)}")
        records = read_records(args.records)
        profiles = {"input": measure(records, threshold, args.truth, matchers)}
        print_result("input", profiles["input"])
    else:
        profiles = {}
        for profile in [p.strip() for p in args.profiles.split(",") if p.strip()]:
            if profile not in ALL_PROFILES:
                parser.error(f"unknown profile {profile!r}; choose from {', '.join(ALL_PROFILES)}")
            profiles[profile] = run_profile(profile, args.people, args.work, threshold, args.reuse)
            print_result(profile, profiles[profile])
    results["profiles"] = profiles
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
