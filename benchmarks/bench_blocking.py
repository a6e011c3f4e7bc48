"""Pairs per record of each blocking rule, and the true pairs the rules block, per block cap.

Reads ``silver/person_records`` of a lakehouse and the truth of its landing zone, prepares the
records as identity does (``resolution.prepare``), and for every equality blocking rule of
``conf/identity.yaml`` (and the birth date + first letter rule) counts the pairs its blocks make
per record, uncapped and with each ``--caps`` value of ``prediction.max_records_per_block``
(a block over the cap scores no pair through that rule). Then it counts the true pairs (same
person in the truth) that at least one rule blocks at each cap: the ceiling on recall that
blocking leaves. The national-ID one-edit rules are not counted (they add few pairs).

``--person-share 0.1`` keeps a hash sample of the people (all their records): the population of
a smaller company with the same name distribution, so one lakehouse shows how the pairs grow.

Usage::

    .venv/bin/python benchmarks/bench_blocking.py --work /work/bench1m/people_1000000 \
        --caps 25,50,100,200 [--person-share 0.1]

Figures go to ``benchmarks/results/blocking.json``, one entry per population.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
from deltalake import DeltaTable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from resolution.config import SqlRule, load_identity_config
from resolution.evaluation import TRUTH_FILE
from resolution.prepare import LINKING_COLUMNS, prepare_records

RESULTS = Path(__file__).resolve().parent / "results" / "blocking.json"
UNCAPPED = 10**12


def rule_keys(config) -> list[tuple[str, list[str]]]:
    """(label, key expressions) of every rule counted: the equality rules and birth date +
    first letter of the sorted name tokens."""
    keys = []
    for rule in config.blocking_rules:
        if not isinstance(rule, SqlRule):
            keys.append(("+".join(rule), list(rule)))
        elif "date_of_birth" in rule.columns:
            keys.append(("date_of_birth+name_letter", ["date_of_birth", "substr(name_sorted,1,1)"]))
    return keys


def load(work: Path, person_share: float, con: duckdb.DuckDBPyConnection):
    table = DeltaTable(str(work / "lake" / "silver" / "person_records"))
    columns = [c for c in LINKING_COLUMNS if c in table.schema().to_arrow().names]
    records = table.to_pyarrow_table(columns=columns)
    truth = pd.read_csv(work / "truth" / TRUTH_FILE, dtype=str)
    truth["record_key"] = truth["source_system"] + ":" + truth["source_record_id"]
    con.register("truth", truth[["record_key", "person_id"]])
    if person_share < 1:
        con.register("all_records", records)
        records = con.execute(
            "SELECT r.* FROM all_records r JOIN truth t USING (record_key) "
            f"WHERE hash(t.person_id) % 1000 < {int(person_share * 1000)}"
        ).to_arrow_table()
    return records


def measure(work: Path, caps: list[int], person_share: float) -> dict:
    config = load_identity_config()
    con = duckdb.connect()
    prepared = prepare_records(load(work, person_share, con), config.prepare)
    records = prepared.num_rows
    con.register("p", prepared)
    con.execute(
        "CREATE TABLE true_pairs AS SELECT a.record_key l, b.record_key r FROM "
        "(SELECT record_key, person_id FROM p JOIN truth USING (record_key)) a JOIN "
        "(SELECT record_key, person_id FROM p JOIN truth USING (record_key)) b "
        "ON a.person_id = b.person_id AND a.record_key < b.record_key"
    )
    true_pairs = con.execute("SELECT count(*) FROM true_pairs").fetchone()[0]
    per_rule: dict[str, dict[str, float]] = {}
    for number, (label, exprs) in enumerate(rule_keys(config)):
        names = [f"k{i}" for i in range(len(exprs))]
        selected = ", ".join(f"{e} {n}" for e, n in zip(exprs, names, strict=True))
        complete = " AND ".join(f"{e} IS NOT NULL" for e in exprs)
        con.execute(
            f"CREATE TABLE k{number} AS SELECT record_key, {selected}, "
            f"count(*) OVER (PARTITION BY {', '.join(exprs)}) block FROM p WHERE {complete}"
        )
        per_rule[label] = {}
        for cap in [UNCAPPED, *caps]:
            pairs = con.execute(
                f"SELECT sum(c * (c - 1) / 2) FROM (SELECT count(*) c FROM k{number} "
                f"GROUP BY {', '.join(names)}) WHERE c <= {cap}"
            ).fetchone()[0]
            per_rule[label]["uncapped" if cap == UNCAPPED else str(cap)] = round(
                (pairs or 0) / records, 3
            )
    blocked = {}
    for cap in [UNCAPPED, *caps]:
        parts = [
            f"SELECT t.l, t.r FROM true_pairs t JOIN k{number} a ON t.l = a.record_key "
            f"JOIN k{number} b ON t.r = b.record_key WHERE a.block <= {cap} AND "
            + " AND ".join(f"a.k{i} = b.k{i}" for i in range(len(exprs)))
            for number, (_, exprs) in enumerate(rule_keys(config))
        ]
        found = con.execute(f"SELECT count(*) FROM ({' UNION '.join(parts)})").fetchone()[0]
        blocked["uncapped" if cap == UNCAPPED else str(cap)] = round(found / true_pairs, 5)
    totals = {
        key: round(sum(rule[key] for rule in per_rule.values()), 2)
        for key in ["uncapped", *map(str, caps)]
    }
    return {
        "records": records,
        "person_share": person_share,
        "true_pairs": true_pairs,
        "pairs_per_record": per_rule,
        "pairs_per_record_summed_over_rules": totals,
        "true_pairs_blocked_share": blocked,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="a bench_pipeline size folder")
    parser.add_argument("--caps", default="25,50,100,200")
    parser.add_argument("--person-share", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    started = time.perf_counter()
    figures = measure(args.work, [int(c) for c in args.caps.split(",")], args.person_share)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"{figures['records']:,} records, {figures['true_pairs']:,} true pairs")
    caps = list(figures["pairs_per_record_summed_over_rules"])
    print("rule | " + " | ".join(caps))
    for rule, values in figures["pairs_per_record"].items():
        print(f"{rule} | " + " | ".join(f"{values[c]:.2f}" for c in caps))
    print(
        "summed | "
        + " | ".join(f"{v:.2f}" for v in figures["pairs_per_record_summed_over_rules"].values())
    )
    print(
        "true pairs blocked | "
        + " | ".join(f"{v:.4f}" for v in figures["true_pairs_blocked_share"].values())
    )
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results[f"{figures['records']}_records"] = figures
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
