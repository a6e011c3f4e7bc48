"""Benchmark of the single customer view (issue 19): wall time per request over a lakehouse.

For a sample of customers (those with the most linked records first, then a seeded random
draw) it times, each request on its own:

- ``show``: :func:`c360.customer_view.profile.customer_profile` (what ``c360 customer show``
  prints: golden record, consent, linked records with their landed rows, identity history,
  timeline page, key features of the latest snapshot, segments);
- ``find_phone``: :func:`c360.customer_view.lookup.find_customers` with the golden phone typed
  in national format (``0912 345 678``);
- ``explain``: :func:`c360.customer_view.explanation.explain_customer`;
- ``profile_page``: ``POST /profile`` on the real ``c360 serve`` server (uvicorn, over HTTP).

It prints and saves min / median / p95 / max seconds per request kind in
``benchmarks/results/customer_view.json``, one entry per lakehouse size (customers). Build the
lakehouse first (``c360 generate`` + ``c360 run``, under ``flock /work/wt/_bigrun.lock`` for
100k and more), then::

    .venv/bin/python benchmarks/bench_customer_view.py --lakehouse /tmp/view/lake100k
    .venv/bin/python benchmarks/bench_customer_view.py --lakehouse /path/to/1M/lakehouse

The 1M half of issue 19 runs this script on the scale issue's 1M lakehouse.
"""

# ruff: noqa: E402  (the path line below must run before the package imports)
from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))

import argparse
import json
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pyarrow.compute as pc
import requests

from c360.customer_view.config import load_customer_view_config
from c360.customer_view.explanation import explain_customer
from c360.customer_view.lookup import find_customers
from c360.customer_view.profile import customer_profile
from c360.customer_view.store import ViewStore
from c360.customer_view.web import running_server
from c360.tables import (
    GOLD_CONSENT_HISTORY,
    GOLD_CUSTOMER_FEATURES,
    GOLD_GOLDEN_RECORDS,
    GOLD_IDENTITY_LINKS,
    GOLD_IDENTITY_MAP,
    GOLD_SEGMENT_MEMBERS,
)

VIEW_TABLES = (
    GOLD_IDENTITY_LINKS, GOLD_CUSTOMER_FEATURES, GOLD_SEGMENT_MEMBERS, GOLD_CONSENT_HISTORY,
)  # fmt: skip

RESULTS = _HERE / "results" / "customer_view.json"


def sample_customers(store: ViewStore, count: int, seed: int) -> list[tuple[str, str | None]]:
    """(customer_id, phone) of ``count`` customers: half the most-linked, half random."""
    ids = store.rows(GOLD_IDENTITY_MAP, None, ["customer_id"]).column(0)
    sizes = pc.value_counts(ids)
    by_size = sorted(
        zip(sizes.field("values").to_pylist(), sizes.field("counts").to_pylist(), strict=True),
        key=lambda pair: (-pair[1], pair[0]),
    )
    chosen = [c for c, _ in by_size[: count // 2]]
    rest = sorted(c for c, _ in by_size[count // 2 :])
    chosen += random.Random(seed).sample(rest, min(count - len(chosen), len(rest)))
    phones = store.rows(
        GOLD_GOLDEN_RECORDS,
        pc.field("customer_id").isin(chosen),
        ["customer_id", "phone_e164"],
    ).to_pylist()
    phone_of = {r["customer_id"]: r["phone_e164"] for r in phones}
    return [(c, phone_of.get(c)) for c in chosen]


def national(phone: str) -> str:
    """``+84912345678`` as typed at a counter: ``0912 345 678``."""
    return f"0{phone[3:6]} {phone[6:9]} {phone[9:]}"


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def summary(seconds: list[float]) -> dict[str, float | int]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "requests": len(ordered),
        "min_s": round(ordered[0], 4),
        "median_s": round(statistics.median(ordered), 4),
        "p95_s": round(p95, 4),
        "max_s": round(ordered[-1], 4),
    }


def measure(root: Path, count: int, seed: int) -> dict:
    store, config = ViewStore(root), load_customer_view_config()
    customers = sample_customers(store, count, seed)
    customer_profile(store, customers[0][0], config)  # warm imports and caches once
    times: dict[str, list[float]] = {"show": [], "find_phone": [], "explain": [],
                                     "profile_page": []}  # fmt: skip
    for customer, phone in customers:
        times["show"].append(timed(lambda c=customer: customer_profile(store, c, config)))
        times["explain"].append(timed(lambda c=customer: explain_customer(store, c)))
        if phone and phone.startswith("+84"):
            times["find_phone"].append(
                timed(lambda p=phone: find_customers(store, national(p), config.find_limit))
            )
    with running_server(root, config) as url, requests.Session() as session:
        session.post(url + "/profile", data={"customer_id": customers[0][0]}, timeout=60)
        for customer, _ in customers:
            times["profile_page"].append(
                timed(
                    lambda c=customer: session.post(
                        url + "/profile", data={"customer_id": c}, timeout=60
                    ).raise_for_status()
                )
            )
    golden = store.lake.count(GOLD_GOLDEN_RECORDS)
    return {
        "customers": golden,
        "lakehouse": str(root),
        "sampled_customers": len(customers),
        # a missing table makes its part of a request trivially fast: say so
        "tables_missing": [t.qualified_name for t in VIEW_TABLES if not store.exists(t)],
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": __import__("os").cpu_count(), "python": platform.python_version()},
        "requests": {kind: summary(values) for kind, values in times.items() if values},
        "how": "each request timed alone, in process (show, find_phone, explain) and over HTTP "
        "(profile_page: POST /profile on the c360 serve server); half the sample are the "
        "customers with the most linked records; 2-core machine shared with other work",
    }


def save(entry: dict) -> None:
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    runs = results.setdefault("runs", {})
    runs[str(entry["customers"])] = entry
    results["updated"] = entry["date"]
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lakehouse", required=True, type=Path, help="a built lakehouse")
    parser.add_argument("--customers", type=int, default=200, help="customers sampled")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)
    entry = measure(args.lakehouse.absolute(), args.customers, args.seed)
    print(f"customer view over {entry['customers']:,} customers ({entry['lakehouse']}):")
    if entry["tables_missing"]:
        print(f"  tables missing (not timed): {', '.join(entry['tables_missing'])}")
    for kind, figures in entry["requests"].items():
        print(
            f"  {kind:<13} n={figures['requests']:<4} median {figures['median_s']:.3f} s  "
            f"p95 {figures['p95_s']:.3f} s  max {figures['max_s']:.3f} s"
        )
    if not args.no_save:
        save(entry)
        print(f"saved in {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
