"""Benchmark the sample-data generator (issue 3): people/s, rows/s, wall time, peak memory.

Usage:
    .venv/bin/python benchmarks/generate.py --people 100000 --days 3

Writes the figures to benchmarks/results/generate.json. Goal: 100k people with a year of activity
in under 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from c360.sample import GeneratorConfig, generate_landing_zone, load_noise_config

RESULTS = Path(__file__).resolve().parent / "results" / "generate.json"
GOAL_SECONDS = 120


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 10, 1))
    parser.add_argument("--transactions-format", choices=("csv", "parquet"), default="csv")
    parser.add_argument(
        "--out", type=Path, default=None,
        help="directory to write into (default: a temporary one, deleted afterwards)",
    )  # fmt: skip
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    config = GeneratorConfig(
        people=args.people,
        days=args.days,
        start=args.start,
        seed=args.seed,
        noise=load_noise_config(),
        history_days=args.history_days,
        transactions_format=args.transactions_format,
    )
    with tempfile.TemporaryDirectory(prefix="c360-generate-") as scratch:
        root = args.out or Path(scratch)
        started = time.perf_counter()
        summary = generate_landing_zone(
            config, root / "raw", root / "truth", overwrite=True, progress=print
        )
        wall = time.perf_counter() - started
        bytes_written = sum(p.stat().st_size for p in (root / "raw").rglob("*") if p.is_file())

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    result = {
        "people": args.people,
        "days": args.days,
        "history_days": args.history_days,
        "transactions_format": args.transactions_format,
        "seed": args.seed,
        "rows": summary.rows,
        "total_rows": summary.total_rows,
        "truth_rows": summary.truth_rows,
        "files": len(summary.files),
        "landed_mb": round(bytes_written / 2**20, 1),
        "wall_seconds": round(wall, 2),
        "people_per_second": round(args.people / wall),
        "rows_per_second": round(summary.total_rows / wall),
        "peak_rss_mb": round(peak_rss_mb),
        "stage_seconds": summary.stage_seconds,
        "goal_seconds": GOAL_SECONDS,
        "meets_goal": wall < GOAL_SECONDS,
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "platform": platform.platform(),
        },
    }
    print(
        f"people/s {result['people_per_second']:,}  rows/s {result['rows_per_second']:,}  "
        f"wall {wall:.1f} s  peak RSS {result['peak_rss_mb']:,} MB  "
        f"({summary.total_rows:,} rows, {result['landed_mb']} MB landed)"
    )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
