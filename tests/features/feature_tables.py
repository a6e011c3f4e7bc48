"""Builders of hand-made feature inputs, in exactly the silver / gold schemas (tests only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from c360.tables import (
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

AS_OF = date(2026, 3, 1)  # D: features use events dated 2026-02-28 and earlier
LOCAL_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh


def days_before(n: int, hour: int = 10) -> tuple[date, datetime]:
    """The local date ``n`` days before AS_OF and a UTC timestamp at ``hour`` local time on it."""
    day = AS_OF - timedelta(days=n)
    local = datetime(day.year, day.month, day.day, hour)
    return day, (local - LOCAL_OFFSET).replace(tzinfo=UTC)


def _lineage(i: int) -> dict[str, Any]:
    return {"_ingest_date": AS_OF, "_source_file": "test.csv", "_row_number": i}


def _table(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.Table:
    columns = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.table(columns, schema=schema)


def tx(
    record_key: str | None,
    days_ago: int,
    amount: int,
    *,
    channel: str = "store",
    category: str = "grocery",
    payment: str = "cash",
    status: str = "completed",
    quantity: int = 1,
    discount: int = 0,
    voucher: str | None = None,
    store: str = "ST00101",
    sku: str = "GRO-0001",
    hour: int = 10,
) -> dict[str, Any]:
    """One silver transaction row; ``days_ago`` 1 is the day before AS_OF."""
    day, ts = days_before(days_ago, hour)
    ref_type, _, ref = (record_key or "").partition(":")
    return {
        "customer_ref_type": ref_type or None,
        "customer_ref": ref or None,
        "record_key": record_key,
        "channel": channel,
        "store_id": store,
        "product_sku": sku,
        "product_category": category,
        "quantity": quantity,
        "unit_price": (Decimal(amount + discount) / quantity).quantize(Decimal("0.01")),
        "discount": Decimal(discount),
        "amount": Decimal(amount),
        "currency": "VND",
        "payment_method": payment,
        "voucher_code": voucher,
        "transaction_ts": ts,
        "transaction_date": day,
        "status": status,
    }


def points(member_id: str, days_ago: int, event_type: str, value: int) -> dict[str, Any]:
    """One silver loyalty points event of member ``member_id``."""
    day, ts = days_before(days_ago)
    return {
        "member_id": member_id,
        "record_key": f"loyalty:{member_id}",
        "event_ts": ts,
        "event_date": day,
        "event_type": event_type,
        "points": value,
        "reference": "test",
    }


def member(
    member_id: str, tier: str, status: str, enrolled_days_ago: int, updated_days_ago: int
) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "card_number": f"8868{member_id}",
        "tier": tier,
        "status": status,
        "enrolled_at": days_before(enrolled_days_ago)[1],
        "updated_at": days_before(updated_days_ago)[1],
    }


def golden(customer_id: str, first_seen_days_ago: int = 400, **fields: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "first_seen": days_before(first_seen_days_ago)[1],
        "last_seen": days_before(2)[1],
        **fields,
    }


def identity(record_key: str, customer_id: str) -> dict[str, Any]:
    source, _, record_id = record_key.partition(":")
    return {"source_system": source, "source_record_id": record_id, "customer_id": customer_id}


def write_tables(
    lake,
    transactions: list[dict[str, Any]],
    identity_rows: list[dict[str, Any]],
    golden_rows: list[dict[str, Any]],
    points_rows: list[dict[str, Any]] | None = None,
    member_rows: list[dict[str, Any]] | None = None,
):
    """Write the five feature inputs into ``lake`` (replacing them); returns the lakehouse."""
    tx_rows = [
        {"transaction_id": f"TX{i:06d}", **row, **_lineage(i)} for i, row in enumerate(transactions)
    ]
    pt_rows = [
        {"entry_id": f"PE{i:06d}", **row, **_lineage(i)} for i, row in enumerate(points_rows or [])
    ]
    mb_rows = [{**row, **_lineage(i)} for i, row in enumerate(member_rows or [])]
    lake.overwrite(_table(SILVER_TRANSACTIONS_SCHEMA, tx_rows), SILVER_TRANSACTIONS)
    lake.overwrite(_table(SILVER_LOYALTY_POINTS_SCHEMA, pt_rows), SILVER_LOYALTY_POINTS)
    lake.overwrite(_table(SILVER_LOYALTY_MEMBERS_SCHEMA, mb_rows), SILVER_LOYALTY_MEMBERS)
    lake.overwrite(_table(GOLD_IDENTITY_MAP_SCHEMA, identity_rows), GOLD_IDENTITY_MAP)
    lake.overwrite(_table(GOLD_GOLDEN_RECORDS_SCHEMA, golden_rows), GOLD_GOLDEN_RECORDS)
    return lake
