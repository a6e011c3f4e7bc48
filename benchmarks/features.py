"""Benchmark of the gold feature build (issue 6).

Generates a landing zone with the sample generator (``c360.sample``), shapes it into the silver
and gold input tables the feature build reads (a stand-in for the silver / identity layers:
the identity map is the generator's truth), then in one Spark session times

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

    .venv/bin/python benchmarks/features.py --people 10000                      # realistic
    .venv/bin/python benchmarks/features.py --people 10000 --orders-per-year 80  # ~1M tx
"""

# ruff: noqa: E402  (the package `features` must win over this script's own name on sys.path)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts benchmarks/ first on sys.path, where this file would shadow the
# `features` package; look the package up from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from c360.config import SparkSettings, load_settings
from c360.contract import LOYALTY_MEMBERS, LOYALTY_POINTS, TRANSACTIONS, day_folder
from c360.lakehouse import Lakehouse
from c360.reference_data import PROVINCES_PRE_2025, province_2025
from c360.sample import GeneratorConfig, PopulationConfig, generate_landing_zone, load_noise_config
from c360.spark import build_spark_session
from c360.tables import (
    GOLD_CUSTOMER_FEATURES,
    GOLD_FEATURE_CATALOG,
    GOLD_GOLDEN_RECORDS,
    GOLD_GOLDEN_RECORDS_SCHEMA,
    GOLD_IDENTITY_MAP,
    GOLD_IDENTITY_MAP_SCHEMA,
    SILVER_LOYALTY_MEMBERS,
    SILVER_LOYALTY_MEMBERS_SCHEMA,
    SILVER_LOYALTY_POINTS,
    SILVER_LOYALTY_POINTS_SCHEMA,
    SILVER_TRANSACTIONS,
    SILVER_TRANSACTIONS_SCHEMA,
)
from features.catalog import catalog_table
from features.checks import check_feature_table
from features.compiler import Compiler, build_customer_features
from features.events import read_feature_inputs, transaction_events
from features.spec import expand, load_spec

RESULTS = Path(__file__).resolve().parent / "results" / "features.json"
LOCAL_TZ = "Asia/Ho_Chi_Minh"
log = logging.getLogger("benchmarks.features")


def _read_days(raw: Path, source: str, days: list[date], pattern: str) -> pd.DataFrame:
    frames = []
    for day in days:
        for path in sorted(day_folder(raw, source, day).glob(pattern)):
            reader = pd.read_parquet if path.suffix == ".parquet" else pd.read_csv
            kwargs = {} if path.suffix == ".parquet" else {"dtype": str, "keep_default_na": False}
            frames.append(reader(path, **kwargs))
    return pd.concat(frames, ignore_index=True)


def _utc(local_text: pd.Series) -> pd.Series:
    """ISO timestamps, with or without an offset (naive ones are local time), as UTC."""
    parsed = pd.to_datetime(local_text.str.replace(r"[+-]\d\d:\d\d$", "", regex=True))
    return parsed.dt.tz_localize(LOCAL_TZ).dt.tz_convert("UTC")


def _money(values: pd.Series) -> list:
    from decimal import Decimal

    return [Decimal(str(v)) for v in values.astype(np.int64)]


def _lineage(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.assign(_ingest_date=day, _source_file="sample", _row_number=np.arange(len(frame)))


def silver_inputs(raw: Path, truth: Path, days: list[date]) -> dict:
    """The five feature inputs, shaped from a generated landing zone and its truth."""
    first_day = days[0]
    tx = _read_days(raw, TRANSACTIONS.source, days, "transactions*")
    tx = tx.astype({c: str for c in ("customer_ref_type", "customer_ref", "voucher_code")})
    ts = _utc(tx["transaction_ts"].astype(str))
    ref_type = tx["customer_ref_type"].replace({"": None, "nan": None, "None": None})
    ref = tx["customer_ref"].replace({"": None, "nan": None, "None": None})
    transactions = _lineage(
        pd.DataFrame(
            {
                "transaction_id": tx["transaction_id"],
                "customer_ref_type": ref_type,
                "customer_ref": ref,
                "record_key": np.where(ref_type.notna(), ref_type + ":" + ref.fillna(""), None),
                "channel": tx["channel"].str.lower(),
                "store_id": tx["store_id"],
                "product_sku": tx["product_sku"],
                "product_category": tx["product_category"].str.lower(),
                "quantity": tx["quantity"].astype(np.int64),
                "unit_price": _money(tx["unit_price"]),
                "discount": _money(tx["discount"]),
                "amount": _money(tx["amount"]),
                "currency": tx["currency"],
                "payment_method": tx["payment_method"].str.lower(),
                "voucher_code": tx["voucher_code"].replace({"": None, "nan": None, "None": None}),
                "transaction_ts": ts,
                "transaction_date": ts.dt.tz_convert(LOCAL_TZ).dt.date,
                "status": tx["status"].str.lower(),
            }
        ),
        first_day,
    )
    pts = _read_days(raw, LOYALTY_POINTS.source, days, "points*.csv")
    event_ts = _utc(pts["event_ts"])
    points = _lineage(
        pd.DataFrame(
            {
                "entry_id": pts["entry_id"],
                "member_id": pts["member_id"],
                "record_key": "loyalty:" + pts["member_id"],
                "event_ts": event_ts,
                "event_date": event_ts.dt.tz_convert(LOCAL_TZ).dt.date,
                "event_type": pts["event_type"].str.lower(),
                "points": pts["points"].astype(np.int64),
                "reference": pts["reference"],
            }
        ),
        first_day,
    )
    mem = _read_days(raw, LOYALTY_MEMBERS.source, days, "members*.csv")
    mem = mem.assign(_updated=_utc(mem["updated_at"]), _enrolled=_utc(mem["enrolled_at"]))
    mem = mem.sort_values("_updated").drop_duplicates("member_id", keep="last")
    members = _lineage(
        pd.DataFrame(
            {
                "member_id": mem["member_id"],
                "card_number": mem["card_number"],
                "tier": mem["tier"].str.lower(),
                "status": mem["status"].str.lower(),
                "enrolled_at": mem["_enrolled"],
                "updated_at": mem["_updated"],
            }
        ),
        first_day,
    )
    person_truth = pd.read_csv(truth / "person_truth.csv", dtype=str)
    identity = pd.DataFrame(
        {
            "source_system": person_truth["source_system"],
            "source_record_id": person_truth["source_record_id"],
            "customer_id": person_truth["person_id"],
            "match_probability": 1.0,
        }
    )
    identity["first_seen"] = pd.Timestamp(first_day, tz="UTC")
    identity["last_seen"] = pd.Timestamp(first_day, tz="UTC")
    persons = pd.read_csv(truth / "persons.csv", dtype=str, keep_default_na=False)
    region = {p.name: p.region for p in PROVINCES_PRE_2025}
    created = _record_created(raw, days).merge(
        person_truth, on=["source_system", "source_record_id"]
    )
    seen = created.groupby("person_id")["created"].agg(["min", "max"])
    linked = person_truth.groupby(["person_id", "source_system"]).size().unstack(fill_value=0)
    rng = np.random.default_rng(11)
    golden = pd.DataFrame({"customer_id": persons["person_id"]})
    golden["gender"] = persons["gender"].map({"F": "female", "M": "male"})
    golden["date_of_birth"] = pd.to_datetime(persons["date_of_birth"], errors="coerce").dt.date
    # like the generator's empty_field noise: 5% of customers end up with no usable phone
    has_phone = (persons["phone"] != "") & (rng.random(len(persons)) >= 0.05)
    golden["phone_e164"] = np.where(has_phone, "+84" + persons["phone"].str[1:], None)
    golden["email"] = np.where(persons["email"] != "", persons["email"], None)
    golden["province"] = persons["province"].map(province_2025)
    golden["region"] = persons["province"].map(region)
    # The sources carry no consent yet; a share is filled here so the benchmark covers the flags.
    for column in ("consent_email", "consent_sms", "consent_data_use"):
        golden[column] = np.where(
            rng.random(len(golden)) < 0.6, rng.random(len(golden)) < 0.7, None
        )
    for source in ("crm", "erp", "loyalty"):
        golden[f"linked_records_{source}"] = (
            golden["customer_id"]
            .map(linked.get(source, pd.Series(dtype=int)))
            .fillna(0)
            .astype(np.int32)
        )
    golden["first_seen"] = golden["customer_id"].map(seen["min"])
    golden["last_seen"] = golden["customer_id"].map(seen["max"])
    golden = golden[golden["first_seen"].notna()]
    return {
        SILVER_TRANSACTIONS: _arrow(transactions, SILVER_TRANSACTIONS_SCHEMA),
        SILVER_LOYALTY_POINTS: _arrow(points, SILVER_LOYALTY_POINTS_SCHEMA),
        SILVER_LOYALTY_MEMBERS: _arrow(members, SILVER_LOYALTY_MEMBERS_SCHEMA),
        GOLD_IDENTITY_MAP: _arrow(identity, GOLD_IDENTITY_MAP_SCHEMA),
        GOLD_GOLDEN_RECORDS: _arrow(golden, GOLD_GOLDEN_RECORDS_SCHEMA),
    }


def _record_created(raw: Path, days: list[date]) -> pd.DataFrame:
    frames = []
    for source, pattern, key, column in (
        ("crm", "contacts*.csv", "contact_id", "created_at"),
        ("loyalty", "members*.csv", "member_id", "enrolled_at"),
    ):
        frame = _read_days(raw, source, days, pattern)
        frames.append(
            pd.DataFrame(
                {
                    "source_system": source,
                    "source_record_id": frame[key],
                    "created": _utc(frame[column]),
                }
            )
        )
    rows = []
    for day in days:
        for path in sorted(day_folder(raw, "erp", day).glob("customers*.jsonl")):
            rows.append(pd.read_json(path, lines=True, dtype=str))
    if rows:
        erp = pd.concat(rows, ignore_index=True)
        created = pd.to_datetime(
            erp["created_date"], errors="coerce", dayfirst=False, format="mixed"
        )
        frames.append(
            pd.DataFrame(
                {
                    "source_system": "erp",
                    "source_record_id": erp["customer_code"],
                    "created": created.dt.tz_localize(LOCAL_TZ).dt.tz_convert("UTC"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).dropna(subset=["created"])


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    columns = {f.name: frame.get(f.name) for f in schema}
    arrays = [
        pa.array(columns[f.name], type=f.type, from_pandas=True)
        if columns[f.name] is not None
        else pa.nulls(len(frame), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


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

    settings = load_settings()
    spark = build_spark_session(
        SparkSettings(
            master=args.master, app_name="c360-bench-features", driver_memory=args.driver_memory,
            shuffle_partitions=args.shuffle_partitions, log_level="ERROR",
            extra_conf=settings.spark.extra_conf,
        )
    )  # fmt: skip
    lake = Lakehouse(work / "lake", spark)
    started = time.perf_counter()
    for table, data in silver_inputs(raw, truth, days).items():
        lake.overwrite(data, table)
    shaped = time.perf_counter() - started
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
    partitioned = Compiler(spec, features).engine_input(tx_events, "transactions")
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
            "shape_and_load_inputs": round(shaped, 2),
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
