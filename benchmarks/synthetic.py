"""Synthesised lakehouses for the benchmarks that need a million customers (numpy, seeded).

Building 1M people through the pipeline (generator, bronze, silver, identity) takes longer
than the benchmarks of the later stages can wait, so these write the tables those stages read
directly, in their exact schemas (``c360.tables``):

- :func:`golden_records`: ``gold/golden_records`` (regions, provinces, birth dates, emails,
  phones, consent with nulls): the segments benchmark;
- :func:`write_feature_inputs`: the five feature inputs (silver transactions, loyalty points
  and members, the identity map, golden records): the features benchmark.

Also :func:`save_per_size` (results keep one entry per size) and :class:`PeakMemory` (peak
resident memory of this process and its children, e.g. Spark's JVM).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc

from c360.lakehouse import Lakehouse
from c360.tables import (
    GOLD_GOLDEN_RECORDS,
    GOLD_GOLDEN_RECORDS_SCHEMA,
    GOLD_IDENTITY_MAP,
    GOLD_IDENTITY_MAP_SCHEMA,
    MONEY,
    SILVER_LOYALTY_MEMBERS,
    SILVER_LOYALTY_MEMBERS_SCHEMA,
    SILVER_LOYALTY_POINTS,
    SILVER_LOYALTY_POINTS_SCHEMA,
    SILVER_TRANSACTIONS,
    SILVER_TRANSACTIONS_SCHEMA,
    UTC_TIMESTAMP,
)

PROVINCES = {"north": ["Hà Nội", "Hải Phòng"], "centre": ["Đà Nẵng", "Huế"],
             "south": ["Hồ Chí Minh", "Cần Thơ"]}  # fmt: skip
CHANNELS = (["store", "web", "app", "call_centre", "marketplace"], [0.55, 0.2, 0.15, 0.03, 0.07])
CATEGORIES = ["grocery", "fresh_food", "beverages", "snacks", "personal_care", "household",
              "beauty", "fashion", "baby_care", "health", "books_stationery", "footwear",
              "electronics", "home_appliances", "toys", "mobile_phones"]  # fmt: skip
PAYMENTS = (["cash", "card", "momo", "zalopay", "vnpay", "bank_transfer"],
            [0.4, 0.2, 0.15, 0.1, 0.1, 0.05])  # fmt: skip
VOUCHERS = ["WELCOME50K", "FREESHIP", "SALE10", "PAYDAY", "MEMBER15", "FLASH20", "BDAY100K"]
LOCAL_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh
HISTORY_DAYS = 730
CHUNK_CUSTOMERS = 200_000  # customers synthesised and written at a time (bounds memory)


def customer_ids(first: int, stop: int) -> np.ndarray:
    return np.char.add("C", np.char.zfill(np.arange(first, stop).astype(str), 10))


def _consent(rng: np.random.Generator, n: int) -> pa.Array:
    draw = rng.random(n)
    return pa.array(np.where(draw < 0.55, True, False), mask=draw > 0.85)


def _numbered(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width))


def golden_records(ids: np.ndarray, rng: np.random.Generator, as_of: date) -> pa.Table:
    """``gold/golden_records`` rows for ``ids``: every column of the schema, realistic enough
    for segments and the profile features."""
    n = len(ids)
    regions = rng.choice(list(PROVINCES), n)
    pick = rng.integers(0, 2, n)
    provinces = [PROVINCES[r][k] for r, k in zip(regions, pick, strict=True)]
    born = np.datetime64("1950-01-01") + rng.integers(0, 60 * 365, n).astype("timedelta64[D]")
    first_seen = np.datetime64(as_of) - rng.integers(30, 1500, n).astype("timedelta64[D]")
    numbers = np.arange(n)
    data = {f.name: pa.nulls(n, f.type) for f in GOLD_GOLDEN_RECORDS_SCHEMA}
    data |= {
        "customer_id": pa.array(ids),
        "full_name": pa.array(np.char.add("Nguyễn Văn ", numbers.astype(str))),
        "gender": pa.array(rng.choice(["female", "male"], n), mask=rng.random(n) < 0.1),
        "region": pa.array(regions),
        "province": pa.array(provinces),
        "date_of_birth": pa.array(born.astype("datetime64[D]"), pa.date32()),
        "email": pa.array(np.char.add(np.char.add("user", numbers.astype(str)), "@example.vn")),
        "phone_e164": pa.array(np.char.add("+849", np.char.zfill(numbers.astype(str), 8))),
        "consent_email": _consent(rng, n),
        "consent_sms": _consent(rng, n),
        "linked_records_crm": pa.array(np.ones(n, dtype=np.int32)),
        "linked_records_erp": pa.array(np.zeros(n, dtype=np.int32)),
        "linked_records_loyalty": pa.array((numbers % 3 == 0).astype(np.int32)),
        "first_seen": pa.array(first_seen.astype("datetime64[us]"), UTC_TIMESTAMP),
        "last_seen": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * n, UTC_TIMESTAMP),
    }
    return pa.table(data, schema=GOLD_GOLDEN_RECORDS_SCHEMA)


def _local_day_and_ts(rng: np.random.Generator, as_of: date, n: int) -> tuple[pa.Array, ...]:
    """A local day in the history before ``as_of`` and a UTC timestamp on it."""
    day = np.datetime64(as_of) - rng.integers(1, HISTORY_DAYS + 1, n).astype("timedelta64[D]")
    local = day.astype("datetime64[s]") + rng.integers(0, 24 * 3600, n).astype("timedelta64[s]")
    utc = local - np.timedelta64(int(LOCAL_OFFSET.total_seconds()), "s")
    return pa.array(day, pa.date32()), pa.array(utc.astype("datetime64[us]"), UTC_TIMESTAMP)


def _with_nulls(schema: pa.Schema, n: int, columns: dict[str, Any]) -> pa.Table:
    data = {f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in schema}
    return pa.table(data, schema=schema)


def _transactions(rng, numbers: np.ndarray, orders: float, first_id: int, as_of: date) -> pa.Table:
    counts = rng.poisson(orders, len(numbers))
    owner = np.repeat(numbers, counts)
    n = len(owner)
    member = owner % 3 == 0
    via_loyalty = member & (rng.random(n) < 0.5)
    keys = np.where(via_loyalty, _numbered("loyalty:LM", owner, 10), _numbered("crm:CT", owner, 10))
    guest = rng.random(n) < 0.03
    day, ts = _local_day_and_ts(rng, as_of, n)
    amount = np.round(rng.lognormal(12.3, 0.9, n), -3)
    has_voucher = rng.random(n) < 0.15
    discount = np.where(has_voucher, rng.choice([10_000, 20_000, 50_000], n), 0)
    quantity = rng.integers(1, 6, n)
    status = rng.choice(["completed", "refunded", "cancelled"], n, p=[0.92, 0.05, 0.03])
    return _with_nulls(SILVER_TRANSACTIONS_SCHEMA, n, {
        "transaction_id": pa.array(_numbered("TX", np.arange(first_id, first_id + n), 10)),
        "customer_ref_type": pa.array(np.where(via_loyalty, "loyalty", "crm"), mask=guest),
        "record_key": pa.array(keys, mask=guest),
        "channel": pa.array(rng.choice(CHANNELS[0], n, p=CHANNELS[1])),
        "store_id": pa.array(_numbered("ST", rng.integers(0, 300, n), 5)),
        "product_sku": pa.array(_numbered("SKU", rng.integers(0, 5000, n), 5)),
        "product_category": pa.array(rng.choice(CATEGORIES, n)),
        "quantity": pa.array(quantity, pa.int64()),
        "unit_price": pc.cast(pa.array(np.round((amount + discount) / quantity)), MONEY),
        "discount": pc.cast(pa.array(discount.astype(np.float64)), MONEY),
        "amount": pc.cast(pa.array(amount), MONEY),
        "currency": pa.array(np.full(n, "VND")),
        "payment_method": pa.array(rng.choice(PAYMENTS[0], n, p=PAYMENTS[1])),
        "voucher_code": pa.array(rng.choice(VOUCHERS, n), mask=~has_voucher),
        "transaction_ts": ts,
        "transaction_date": day,
        "status": pa.array(status),
    })  # fmt: skip


def _members(rng, numbers: np.ndarray, as_of: date) -> tuple[pa.Table, pa.Table]:
    """Loyalty cards of every third customer, and their points events."""
    owners = numbers[numbers % 3 == 0]
    n = len(owners)
    member_ids = _numbered("LM", owners, 10)
    _, enrolled = _local_day_and_ts(rng, as_of, n)
    members = _with_nulls(SILVER_LOYALTY_MEMBERS_SCHEMA, n, {
        "member_id": pa.array(member_ids),
        "card_number": pa.array(np.char.add("8868", member_ids)),
        "tier": pa.array(rng.choice(["member", "silver", "gold", "platinum"], n,
                                    p=[0.5, 0.3, 0.15, 0.05])),
        "status": pa.array(rng.choice(["active", "inactive", "locked"], n, p=[0.85, 0.1, 0.05])),
        "enrolled_at": enrolled,
        "updated_at": enrolled,
    })  # fmt: skip
    counts = rng.poisson(4, n)
    owner = np.repeat(member_ids, counts)
    m = len(owner)
    day, ts = _local_day_and_ts(rng, as_of, m)
    kind = rng.choice(["earn", "redeem", "expire", "adjust"], m, p=[0.7, 0.2, 0.05, 0.05])
    value = rng.integers(10, 2_000, m) * np.where(kind == "earn", 1, -1)
    first = int(numbers[0])
    events = _with_nulls(SILVER_LOYALTY_POINTS_SCHEMA, m, {
        "entry_id": pa.array(_numbered(f"PE{first:010d}-", np.arange(m), 8)),
        "member_id": pa.array(owner),
        "record_key": pa.array(np.char.add("loyalty:", owner)),
        "event_ts": ts,
        "event_date": day,
        "event_type": pa.array(kind),
        "points": pa.array(value, pa.int64()),
        "reference": pa.array(np.full(m, "bench")),
    })  # fmt: skip
    return members, events


def _identity(numbers: np.ndarray, ids: np.ndarray) -> pa.Table:
    member = numbers % 3 == 0
    systems = np.concatenate([np.full(len(numbers), "crm"), np.full(int(member.sum()), "loyalty")])
    records = np.concatenate([_numbered("CT", numbers, 10), _numbered("LM", numbers[member], 10)])
    owners = np.concatenate([ids, ids[member]])
    n = len(owners)
    seen = pa.array([datetime(2025, 1, 1, tzinfo=UTC)] * n, UTC_TIMESTAMP)
    return _with_nulls(GOLD_IDENTITY_MAP_SCHEMA, n, {
        "source_system": pa.array(systems), "source_record_id": pa.array(records),
        "customer_id": pa.array(owners), "match_probability": pa.array(np.ones(n)),
        "first_seen": seen, "last_seen": seen,
    })  # fmt: skip


def write_feature_inputs(
    lake: Lakehouse, customers: int, orders_per_customer: float, as_of: date, seed: int = 7
) -> int:
    """Write the five feature inputs of ``customers`` people (transactions over the 730 days
    before ``as_of``, Poisson(``orders_per_customer``) each; every third a loyalty member with
    points events) into ``lake``, ``CHUNK_CUSTOMERS`` at a time; returns the transactions."""
    rng = np.random.default_rng(seed)
    written = 0
    for first in range(0, customers, CHUNK_CUSTOMERS):
        numbers = np.arange(first, min(customers, first + CHUNK_CUSTOMERS))
        ids = customer_ids(int(numbers[0]), int(numbers[-1]) + 1)
        write = lake.overwrite if first == 0 else lake.append
        transactions = _transactions(rng, numbers, orders_per_customer, written, as_of)
        written += transactions.num_rows
        members, events = _members(rng, numbers, as_of)
        write(transactions, SILVER_TRANSACTIONS)
        write(members, SILVER_LOYALTY_MEMBERS)
        write(events, SILVER_LOYALTY_POINTS)
        write(_identity(numbers, ids), GOLD_IDENTITY_MAP)
        write(golden_records(ids, rng, as_of), GOLD_GOLDEN_RECORDS)
    return written


def save_per_size(path: Path, group: str, size: str, figures: dict[str, Any]) -> None:
    """Keep one entry per size in a results file: ``{group: {size: figures}}``."""
    saved = json.loads(path.read_text()) if path.exists() else {}
    entries = saved.get(group, {}) if isinstance(saved, dict) else {}
    entries[size] = figures
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**saved, group: entries}, indent=2, ensure_ascii=False) + "\n")


SAMPLE_INTERVAL_SECONDS = 0.2
MB = 2**20


class PeakMemory:
    """Peak resident memory of this process and all its descendants, sampled in a thread.

    The figures are sums of RSS over processes, so pages shared between them count twice;
    for the JVM and Python this overstates by little.
    """

    def __init__(self, interval_seconds: float = SAMPLE_INTERVAL_SECONDS) -> None:
        self._process = psutil.Process()
        self._interval = interval_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_forever, daemon=True)
        self._peaks = {"python": 0, "children": 0, "tree": 0}

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample_forever(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def sample(self) -> None:
        """Take one sample now and raise the peaks it exceeds."""
        python_bytes = self._process.memory_info().rss
        children_bytes = 0
        for child in self._process.children(recursive=True):
            try:
                children_bytes += child.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue  # a Python worker that just exited
        with self._lock:
            self._peaks["python"] = max(self._peaks["python"], python_bytes)
            self._peaks["children"] = max(self._peaks["children"], children_bytes)
            self._peaks["tree"] = max(self._peaks["tree"], python_bytes + children_bytes)

    def reset(self) -> None:
        """Start a new measurement window (one per stage)."""
        with self._lock:
            self._peaks = dict.fromkeys(self._peaks, 0)
        self.sample()

    def peaks_mb(self) -> dict[str, int]:
        """Peaks since the last reset: whole tree, this Python process, its children (JVM...)."""
        self.sample()
        with self._lock:
            return {
                "peak_rss_mb": round(self._peaks["tree"] / MB),
                "peak_rss_python_mb": round(self._peaks["python"] / MB),
                "peak_rss_children_mb": round(self._peaks["children"] / MB),
            }

    @property
    def peak_gib(self) -> float:
        """Peak of the whole process tree since the last reset, in GiB."""
        self.sample()
        with self._lock:
            return round(self._peaks["tree"] / 2**30, 2)
