"""A hand-made lakehouse for segment tests: six golden records, two feature snapshots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from c360.lakehouse import Lakehouse
from c360.tables import (
    GOLD_CUSTOMER_FEATURES,
    GOLD_FEATURE_CATALOG,
    GOLD_FEATURE_CATALOG_SCHEMA,
    GOLD_GOLDEN_RECORDS,
    GOLD_GOLDEN_RECORDS_SCHEMA,
)

AS_OF = date(2026, 11, 10)
OLD_AS_OF = date(2026, 11, 1)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# customer_id, region, province, gender, date_of_birth, email, phone, consent_email, consent_sms,
# last_seen
GOLDEN = [
    ("C1", "south", "Hồ Chí Minh", "female", date(1990, 5, 1), "an.nguyen@x.vn", "+84901000001",
     True, True, _ts("2026-11-08T10:00:00")),
    ("C2", "north", "Hà Nội", "male", date(1985, 1, 15), None, "+84902000002",
     False, True, _ts("2026-10-01T08:00:00")),
    ("C3", "south", "Cần Thơ", "female", None, "binh.tran@y.com", None,
     None, False, _ts("2026-06-01T00:00:00")),
    ("C4", "centre", "Đà Nẵng", None, date(2000, 12, 31), "chi.le@x.vn", "+84904000004",
     True, None, _ts("2026-11-09T23:00:00")),
    ("C5", "north", "Hải Phòng", "male", date(1970, 7, 7), "dung.pham@z.org", "+84905000005",
     True, True, _ts("2025-01-01T00:00:00")),
    ("C6", "south", "Hồ Chí Minh", "male", date(1995, 3, 3), "em.vo@x.vn", "+84906000006",
     True, False, _ts("2026-11-01T12:00:00")),
]  # fmt: skip
# customer_id -> (tx_count_d90, clv_estimate_1y, loy_tier); C5 is not in the snapshot
FEATURES = {
    "C1": (5, 1200.5, "gold"),
    "C2": (0, 0.0, "silver"),
    "C3": (12, 5000.0, None),
    "C4": (1, 99.9, "member"),
    "C6": (3, 300.0, "gold"),
}
CATALOG = [
    ("tx_count_d90", "bigint", "Purchases in 90 days", "Số giao dịch trong 90 ngày"),
    ("clv_estimate_1y", "double", "Lifetime value over 1 year", "Giá trị vòng đời 1 năm"),
    ("loy_tier", "string", "Loyalty tier", "Hạng hội viên"),
]


def golden_table(rows=GOLDEN) -> pa.Table:
    names = ["customer_id", "region", "province", "gender", "date_of_birth", "email",
             "phone_e164", "consent_email", "consent_sms", "last_seen"]  # fmt: skip
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    columns["full_name"] = [f"Nguyễn Văn {row[0]}" for row in rows]
    columns["national_id"] = [f"07909000000{row[0][-1]}" for row in rows]
    data = {
        field.name: pa.array(columns.get(field.name, [None] * len(rows)), field.type)
        for field in GOLD_GOLDEN_RECORDS_SCHEMA
    }
    return pa.table(data, schema=GOLD_GOLDEN_RECORDS_SCHEMA)


def features_table(as_of: date, values: dict) -> pa.Table:
    ids = sorted(values)
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "as_of_date": pa.array([as_of] * len(ids), pa.date32()),
            "tx_count_d90": pa.array([values[i][0] for i in ids], pa.int64()),
            "clv_estimate_1y": pa.array([values[i][1] for i in ids], pa.float64()),
            "loy_tier": pa.array([values[i][2] for i in ids], pa.string()),
        }
    )


def build_small_lake(root: Path) -> Lakehouse:
    lake = Lakehouse(root, spark=None, writer="delta-rs")
    lake.overwrite(golden_table(), GOLD_GOLDEN_RECORDS)
    old = {cid: (100, 1.0, "platinum") for cid in ("C1", "C2", "C3", "C4", "C5", "C6")}
    lake.replace_where(features_table(OLD_AS_OF, old), GOLD_CUSTOMER_FEATURES,
                       {"as_of_date": [OLD_AS_OF]})  # fmt: skip
    lake.replace_where(features_table(AS_OF, FEATURES), GOLD_CUSTOMER_FEATURES,
                       {"as_of_date": [AS_OF]})  # fmt: skip
    catalog = pa.table(
        {
            "name": [c[0] for c in CATALOG],
            "family": ["test"] * len(CATALOG),
            "window_days": pa.array([None] * len(CATALOG), pa.int32()),
            "slice": pa.array([None] * len(CATALOG), pa.string()),
            "measure": ["m"] * len(CATALOG),
            "dtype": [c[1] for c in CATALOG],
            "description_en": [c[2] for c in CATALOG],
            "description_vi": [c[3] for c in CATALOG],
            "version": ["1"] * len(CATALOG),
        },
        schema=GOLD_FEATURE_CATALOG_SCHEMA,
    )
    lake.overwrite(catalog, GOLD_FEATURE_CATALOG)
    return lake
