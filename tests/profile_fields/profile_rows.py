"""Hand-made bronze rows of the profile-field tests (CRM contacts and ERP customers)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from c360.bronze import bronze_schema
from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, SourceEntity

CONTACT = {
    "contact_id": "C1", "full_name": "Nguyễn Văn An", "gender": "Nam",
    "date_of_birth": "15/03/1990", "phone": "0912 345 678", "email": "An.Nguyen@Gmail.com",
    "national_id": "001090000001", "address": "12 Lê Lợi, Q1", "province": "Bình Dương",
    "created_at": "2025-01-01T09:00:00+07:00", "updated_at": "2025-01-01T09:00:00+07:00",
}  # fmt: skip
CUSTOMER = {
    "customer_code": "K1", "name": "NGUYEN VAN AN", "national_id": "001090000001",
    "tax_code": "", "phone": "0912345678", "email": "an.nguyen@gmail.com",
    "billing_address": "12 Le Loi, Q1, Binh Duong", "province": "Bình Dương",
    "customer_type": "individual", "created_date": "20240101",
    "modified_date": "2025-06-01T10:00:00",
}  # fmt: skip


def bronze(spark, entity: SourceEntity, rows: list[dict]):
    """Bronze rows as landed (strings, lineage added); the extra columns are the union of the
    rows' keys beyond the contract, missing ones empty."""
    extra = sorted({k for r in rows for k in r} - set(entity.required_columns))
    schema = bronze_schema(entity, extra)
    filled = []
    for number, row in enumerate(rows, start=2):
        record = dict.fromkeys(schema.names[: len(schema) - 5], "")
        record |= {"_ingest_date": date(2026, 11, 1), "_source_file": f"{entity.name}.csv",
                   "_row_number": number, "_ingested_at": datetime(2026, 11, 1, tzinfo=UTC),
                   "_record_hash": "h"}  # fmt: skip
        filled.append(record | row)
    return spark.createDataFrame(pa.Table.from_pylist(filled, schema=schema))


__all__ = ["CONTACT", "CRM_CONTACTS", "CUSTOMER", "ERP_CUSTOMERS", "bronze"]
