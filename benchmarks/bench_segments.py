"""Benchmark of segments (issue 18): a 5-condition segment over a synthesised lakehouse.

The lakehouse is synthesised directly (numpy, seeded; `benchmarks/synthetic.py`) rather than
run through the pipeline:
``gold/golden_records`` with ``--customers`` rows (regions, provinces, birth dates, emails,
phones, consent with nulls), a ``gold/customer_features`` snapshot of ``--feature-columns``
columns (the real snapshot has about 2,800; the segment reads four of them) and its
``gold/feature_catalog``. Then it times, best of ``--repeat``:

- ``preview``: the one-query evaluation with the preview's sample fields (count, consent
  exclusions, PII columns for the masked sample of 10);
- ``export_csv`` / ``export_xlsx``: evaluation plus writing every member with six fields
  (``export_xlsx`` with openpyxl's write-only mode) and the gold/export_log row;
- ``export_everyone_xlsx``: the same xlsx export of every customer (no filter, no channel),
  once: the xlsx writer's throughput.

The segment: region in [south, centre] (golden), born more than 25 years before the as-of day
(golden, relative date), ``tx_count_d90 >= 2`` and ``clv_estimate_1y`` between 1M and 50M VND
(features), and ``{consent: email}``, on the sms channel (consent exclusion). Results keep one
entry per ``--customers`` size (100k with 500 feature columns, 1M with 100).

``--lakehouse PATH`` runs the same segment and exports over a lakehouse the pipeline built
(e.g. ``benchmarks/bench_pipeline.py --keep``: the full snapshot of every feature, real golden
records) instead of a synthesised one; its entry is keyed ``pipeline_<customers>``. The exports
append to that lakehouse's ``gold/export_log``, as any export does.

Usage::

    .venv/bin/python benchmarks/bench_segments.py --customers 100000
    .venv/bin/python benchmarks/bench_segments.py --customers 1000000 --feature-columns 100 \\
        --repeat 2
    .venv/bin/python benchmarks/bench_segments.py --repeat 2 \\
        --lakehouse /work/bench1m/people_1000000/lake
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import customer_ids, golden_records, save_per_size

from c360.lakehouse import Lakehouse
from c360.segments.engine import evaluate, field_catalog
from c360.segments.export import export_members, masked_rows, resolve_fields
from c360.segments.model import load_segments_config, parse_filter
from c360.tables import (
    GOLD_CUSTOMER_FEATURES,
    GOLD_FEATURE_CATALOG,
    GOLD_FEATURE_CATALOG_SCHEMA,
    GOLD_GOLDEN_RECORDS,
)

RESULTS = Path(__file__).resolve().parent / "results" / "segments.json"
AS_OF = date(2026, 11, 10)
SEGMENT = {
    "all": [
        {"field": "region", "op": "in", "value": ["south", "centre"]},
        {"field": "date_of_birth", "op": "before_days", "value": 25 * 365},
        {"field": "tx_count_d90", "op": ">=", "value": 2},
        {"field": "clv_estimate_1y", "op": "between", "value": [1_000_000, 50_000_000]},
        {"consent": "email"},
    ]
}
EXPORT_FIELDS = ["region", "province", "email", "phone_e164", "tx_count_d90", "clv_estimate_1y"]


def synthesise(root: Path, customers: int, feature_columns: int, seed: int = 7) -> Lakehouse:
    """Write golden records, one feature snapshot and its catalog under ``root``."""
    rng = np.random.default_rng(seed)
    ids = customer_ids(0, customers)
    golden = golden_records(ids, rng, AS_OF)  # benchmarks/synthetic.py
    shutil.rmtree(root, ignore_errors=True)
    lake = Lakehouse(root, spark=None, writer="delta-rs")
    lake.overwrite(golden, GOLD_GOLDEN_RECORDS)
    columns = {
        "customer_id": pa.array(ids),
        "as_of_date": pa.array([AS_OF] * customers, pa.date32()),
        "tx_count_d90": pa.array(rng.poisson(1.5, customers), pa.int64()),
        "clv_estimate_1y": pa.array(rng.lognormal(15, 1.2, customers)),
    }
    for k in range(feature_columns - 2):
        columns[f"bench_f{k:04d}"] = pa.array(rng.random(customers))
    lake.replace_where(pa.table(columns), GOLD_CUSTOMER_FEATURES, {"as_of_date": [AS_OF]})
    names = [n for n in columns if n not in ("customer_id", "as_of_date")]
    catalog = {
        "name": names,
        "family": ["bench"] * len(names),
        "window_days": pa.nulls(len(names), pa.int32()),
        "slice": pa.nulls(len(names), pa.string()),
        "measure": ["bench"] * len(names),
        "dtype": ["bigint" if n == "tx_count_d90" else "double" for n in names],
        "description_en": names,
        "description_vi": names,
        "version": ["bench"] * len(names),
    }
    lake.overwrite(pa.table(catalog, schema=GOLD_FEATURE_CATALOG_SCHEMA), GOLD_FEATURE_CATALOG)
    return lake


def _best(repeat: int, action) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return min(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--feature-columns", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/c360-bench-segments"))
    parser.add_argument("--lakehouse", type=Path, help="a pipeline-built lakehouse to query")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.lakehouse is not None:
        lake = Lakehouse(args.lakehouse, spark=None, writer="delta-rs")
        args.customers = lake.count(GOLD_GOLDEN_RECORDS)
        args.feature_columns = len(lake.arrow_dataset(GOLD_CUSTOMER_FEATURES).schema) - 2
    else:
        lake = synthesise(args.work / "lake", args.customers, args.feature_columns)
    synthesis = time.perf_counter() - started
    config = load_segments_config()
    catalog = field_catalog(lake, config)
    node = parse_filter(SEGMENT, "bench")
    sample_fields = [f for f in config.pii if f in catalog.fields]

    def preview():
        result = evaluate(lake, config, catalog, node, "sms", fields=sample_fields)
        masked_rows(result.members.slice(0, 10), config)
        return result

    columns = resolve_fields(EXPORT_FIELDS, config, catalog)

    def export(fmt: str):
        def run():
            result = evaluate(lake, config, catalog, node, "sms", fields=columns)
            out = args.work / f"members.{fmt}"
            return export_members(lake, result, "bench", columns, fmt, out, config, catalog)

        return run

    everyone = parse_filter({"field": "customer_id", "op": "is_not_null"}, "bench")

    def export_everyone():
        result = evaluate(lake, config, catalog, everyone, None, fields=columns)
        out = args.work / "everyone.xlsx"
        return export_members(lake, result, "everyone", columns, "xlsx", out, config, catalog)

    preview_s, result = _best(args.repeat, preview)
    csv_s, _ = _best(args.repeat, export("csv"))
    xlsx_s, _ = _best(max(1, args.repeat - 1), export("xlsx"))
    everyone_s, everyone_result = _best(1, export_everyone)
    figures = {
        "customers": args.customers,
        "feature_columns": args.feature_columns,
        "conditions": 5,
        "channel": "sms",
        "matched": result.matched,
        "members": result.count,
        "excluded_for_consent": result.excluded_for_consent,
        "export_fields": len(columns),
        "lakehouse": str(args.lakehouse) if args.lakehouse else "synthesised",
        "synthesis_seconds": round(synthesis, 2),
        "preview_seconds": round(preview_s, 3),
        "export_csv_seconds": round(csv_s, 3),
        "export_xlsx_seconds": round(xlsx_s, 3),
        "export_everyone_xlsx_rows": everyone_result.rows,
        "export_everyone_xlsx_seconds": round(everyone_s, 3),
        "how": (
            f"pipeline-built lakehouse ({args.feature_columns} feature columns)"
            if args.lakehouse
            else "lakehouse synthesised with numpy (seed 7): golden records + one feature "
            f"snapshot of {args.feature_columns} columns + catalog"
        )
        + f"; best of {args.repeat} (xlsx: best of repeat-1); 2-core machine",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    _save(figures, pipeline=args.lakehouse is not None)
    return 0


def _save(figures: dict, pipeline: bool) -> None:
    """Keep one entry per population size (and kind of lakehouse) in the results file."""
    size = f"pipeline_{figures['customers']}" if pipeline else str(figures["customers"])
    save_per_size(RESULTS, "by_customers", size, figures)


if __name__ == "__main__":
    sys.exit(main())
