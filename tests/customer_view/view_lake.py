"""A hand-made lakehouse for the customer-view tests (delta-rs only, no Spark).

Customer C0000000001 (Nguyễn Văn An) has two records: crm:K1 (phone landed ``0912 345 678``) and
loyalty:M1 (phone ``090 111 1222``, which lost survivorship to crm's). C0000000003 was merged
into C0000000001. C0000000002 (Trần Thị Bình) has one ERP record. The golden record already has
the per-purpose consent shape for email (``consent_email_source`` / ``_at``) but not for sms.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from c360.lakehouse import Lakehouse
from c360.tables import (
    BRONZE_TABLES,
    GOLD_CONSENT_HISTORY,
    GOLD_CUSTOMER_FEATURES,
    GOLD_GOLDEN_RECORDS,
    GOLD_GOLDEN_RECORDS_SCHEMA,
    GOLD_IDENTITY_HISTORY,
    GOLD_IDENTITY_HISTORY_SCHEMA,
    GOLD_IDENTITY_LINKS,
    GOLD_IDENTITY_LINKS_SCHEMA,
    GOLD_IDENTITY_MAP,
    GOLD_IDENTITY_MAP_SCHEMA,
    GOLD_SEGMENT_MEMBERS,
    GOLD_SEGMENT_MEMBERS_SCHEMA,
    SILVER_CRM_CONTACTS,
    SILVER_CRM_CONTACTS_SCHEMA,
    SILVER_ERP_CUSTOMERS,
    SILVER_ERP_CUSTOMERS_SCHEMA,
    SILVER_LOYALTY_MEMBERS,
    SILVER_LOYALTY_MEMBERS_SCHEMA,
    SILVER_LOYALTY_POINTS,
    SILVER_LOYALTY_POINTS_SCHEMA,
    SILVER_PERSON_RECORDS,
    SILVER_PERSON_RECORDS_SCHEMA,
    SILVER_TRANSACTIONS,
    SILVER_TRANSACTIONS_SCHEMA,
    identity_link_bucket,
)

C1, C2, C3 = "C0000000001", "C0000000002", "C0000000003"
AS_OF, OLD_AS_OF = date(2026, 11, 1), date(2026, 10, 1)
DAY = date(2026, 11, 1)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.table(
        {f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema}, schema=schema
    )


AN = {
    "full_name": "Nguyễn Văn An", "full_name_folded": "nguyen van an", "family_name": "nguyen",
    "middle_name": "van", "given_name": "an", "gender": "male", "date_of_birth": date(1990, 5, 1),
    "email": "an.nguyen@example.vn", "national_id": "079090012345", "national_id_type": "cccd",
    "address": "12 Lê Lợi, Quận 1", "province": "Hồ Chí Minh", "region": "south",
}  # fmt: skip
BINH = {
    "full_name": "Trần Thị Bình", "full_name_folded": "tran thi binh", "family_name": "tran",
    "middle_name": "thi", "given_name": "binh", "gender": "female",
    "email": "binh.tran@example.com", "national_id": "123456789", "national_id_type": "cmnd",
    "province": "Hà Nội", "region": "north",
}  # fmt: skip
K1 = {**AN, "contact_id": "K1", "phone_e164": "+84912345678", "consent_email": True,
      "consent_sms": False, "field_issues": [], "raw_values": [],
      "created_at": ts("2025-01-10T08:00:00"), "updated_at": ts("2026-10-30T08:00:00"),
      "_ingest_date": DAY, "_source_file": "crm/2026-11-01/contacts.csv",
      "_row_number": 2}  # fmt: skip
M1 = {**{k: AN[k] for k in ("full_name", "full_name_folded", "family_name", "middle_name",
                             "given_name", "gender", "date_of_birth", "email")},
      "member_id": "M1", "phone_e164": "+84901111222", "tier": "gold", "status": "active",
      "card_number": "9000001", "enrolled_at": ts("2025-03-01T00:00:00"),
      "updated_at": ts("2026-10-01T00:00:00"), "field_issues": [], "raw_values": [],
      "_ingest_date": DAY, "_source_file": "loyalty/2026-11-01/members.csv",
      "_row_number": 5}  # fmt: skip
E7 = {**BINH, "customer_code": "E7", "phone_e164": "+84987654321", "field_issues": [],
      "raw_values": [], "created_at": ts("2024-05-05T00:00:00"),
      "updated_at": ts("2026-09-09T00:00:00"), "_ingest_date": DAY,
      "_source_file": "erp/2026-11-01/customers.csv", "_row_number": 3}  # fmt: skip
LANDED = {
    "crm_contacts": {"contact_id": "K1", "full_name": "Nguyễn Văn An", "phone": "0912 345 678",
                     "email": "An.Nguyen@Example.vn", "national_id": "079 090 012 345",
                     "date_of_birth": "01/05/1990", "gender": "Nam", "address": "12 Lê Lợi, Quận 1",
                     "province": "TP HCM", "_source_file": K1["_source_file"], "_row_number": 2},
    "loyalty_members": {"member_id": "M1", "full_name": "Nguyễn Văn An", "phone": "090 111 1222",
                        "email": "an.nguyen@example.vn", "_source_file": M1["_source_file"],
                        "_row_number": 5},
    "erp_customers": {"customer_code": "E7", "name": "Trần Thị Bình", "phone": "0987654321",
                      "_source_file": E7["_source_file"], "_row_number": 3},
}  # fmt: skip


def _golden() -> pa.Table:
    c1 = {"customer_id": C1, **AN, "phone_e164": "+84912345678", "consent_email": True,
          "consent_sms": False, "consent_data_use": None, "linked_records_crm": 1,
          "linked_records_loyalty": 1, "linked_records_erp": 0,
          "first_seen": ts("2025-01-10T08:00:00"),
          "last_seen": ts("2026-10-30T08:00:00")}  # fmt: skip
    for name in ("full_name", "gender", "date_of_birth", "phone_e164", "email", "national_id",
                 "national_id_type", "address", "province", "region"):  # fmt: skip
        c1[f"{name}_source"] = "crm:K1"
    c1["email_source"] = "loyalty:M1"
    c2 = {"customer_id": C2, **BINH, "phone_e164": "+84987654321", "linked_records_erp": 1,
          "full_name_source": "erp:E7", "phone_e164_source": "erp:E7",
          "first_seen": ts("2024-05-05T00:00:00"),
          "last_seen": ts("2026-09-09T00:00:00")}  # fmt: skip
    c1["consent_email_source"] = "crm:K1"
    c1["consent_email_at"] = ts("2026-09-01T09:00:00")
    c1["consent_sms_source"] = "crm:K1"
    c1["consent_sms_at"] = ts("2026-10-30T08:00:00")
    return _table([c1, c2], GOLD_GOLDEN_RECORDS_SCHEMA)


def _links() -> pa.Table:
    def comparisons(levels):
        return [{"name": n, "level": lv, "gamma": g, "log2_bayes_factor": w}
                for n, lv, g, w in levels]  # fmt: skip

    rows = [
        {"customer_id": C1, "link": "accepted", "reason": None, "record_key_l": "crm:K1",
         "record_key_r": "loyalty:M1", "customer_id_l": C1, "customer_id_r": C1,
         "match_weight": 12.5, "match_probability": 0.9998,
         "comparisons": comparisons([("given_name", "exact", 4, 6.0), ("email", "exact", 2, 9.0),
                                     ("phone", "else", 0, -2.0)]), "run_id": "r1"},
        {"customer_id": C1, "link": "refused", "reason": "guard.personal_evidence",
         "record_key_l": "erp:E7", "record_key_r": "loyalty:M1", "customer_id_l": C2,
         "customer_id_r": C1, "match_weight": 3.0, "match_probability": 0.89,
         "comparisons": comparisons([("given_name", "else", 0, -5.0),
                                     ("address", "exact", 2, 10.0)]), "run_id": "r1"},
    ]  # fmt: skip
    for row in rows:
        row["customer_bucket"] = identity_link_bucket(row["customer_id"])
    return _table(rows, GOLD_IDENTITY_LINKS_SCHEMA)


def _features(as_of: date, segment: str, clv: float) -> pa.Table:
    return pa.table(
        {
            "customer_id": [C1, C2],
            "as_of_date": pa.array([as_of, as_of], pa.date32()),
            "rfm_segment": [segment, "lost"],
            "clv_estimate_1y": [clv, 0.0],
            "loy_tier": ["gold", None],
            "loy_points_balance": pa.array([5, 0], pa.int64()),
            "rec_days_since_last": pa.array([27, 400], pa.int64()),
            "rec_top_channel": ["store", "web"],
            "rec_top_category": ["grocery", "beverages"],
            "tx_count_d90": pa.array([2, 0], pa.int64()),
        }
    )


def _events(lake: Lakehouse) -> None:
    tx = [
        {"transaction_id": "T1", "record_key": "crm:K1", "customer_ref_type": "crm",
         "customer_ref": "K1", "channel": "store", "product_category": "grocery", "quantity": 2,
         "amount": Decimal("150000.00"), "currency": "VND", "status": "completed",
         "transaction_ts": ts("2026-10-01T12:00:00"), "transaction_date": date(2026, 10, 1)},
        {"transaction_id": "T2", "record_key": "crm:K1", "customer_ref_type": "crm",
         "customer_ref": "K1", "channel": "web", "product_category": "snacks", "quantity": 1,
         "amount": Decimal("50000.00"), "currency": "VND", "status": "refunded",
         "transaction_ts": ts("2026-10-05T09:30:00"), "transaction_date": date(2026, 10, 5)},
        {"transaction_id": "T9", "record_key": "erp:E7", "customer_ref_type": "erp",
         "customer_ref": "E7", "channel": "store", "quantity": 1, "amount": Decimal("99.00"),
         "currency": "VND", "status": "completed", "transaction_ts": ts("2026-10-31T10:00:00")},
    ]  # fmt: skip
    points = [
        {"entry_id": "P1", "member_id": "M1", "record_key": "loyalty:M1", "event_type": "earn",
         "points": 15, "reference": "T1", "event_ts": ts("2026-10-01T12:00:00")},
        {"entry_id": "P2", "member_id": "M1", "record_key": "loyalty:M1", "event_type": "redeem",
         "points": -10, "reference": "V-1", "event_ts": ts("2026-10-20T18:00:00")},
    ]  # fmt: skip
    consent = pa.table(
        {
            "customer_id": [C1, C1, C2],
            "purpose": ["email", "sms", "email"],
            "decision": ["granted", "withdrawn", "granted"],
            "decided_at": pa.array(
                [ts("2026-09-01T09:00:00"), ts("2026-10-25T07:00:00"), ts("2026-01-01T00:00:00")],
                pa.timestamp("us", "UTC"),
            ),
            "source_system": ["crm", "crm", "erp"],
            "source_record_id": ["K1", "K1", "E7"],
            "event_id": ["crm:K1:consent_email", "crm:K1:consent_sms", "erp:E7:consent_email"],
        }
    )
    lake.overwrite(_table(tx, SILVER_TRANSACTIONS_SCHEMA), SILVER_TRANSACTIONS)
    lake.overwrite(_table(points, SILVER_LOYALTY_POINTS_SCHEMA), SILVER_LOYALTY_POINTS)
    lake.overwrite(consent, GOLD_CONSENT_HISTORY)


def _person_records() -> pa.Table:
    rows = []
    for system, key, row in (("crm", "K1", K1), ("loyalty", "M1", M1), ("erp", "E7", E7)):
        rows.append({**row, "record_key": f"{system}:{key}", "source_system": system,
                     "source_record_id": key})  # fmt: skip
    return _table(rows, SILVER_PERSON_RECORDS_SCHEMA)


def build_view_lake(root: Path, consent_history: bool = True) -> Path:
    """Write the small lakehouse under ``root`` and return it."""
    lake = Lakehouse(root, spark=None, writer="delta-rs")
    lake.overwrite(_golden(), GOLD_GOLDEN_RECORDS)
    id_map = [
        {"source_system": "crm", "source_record_id": "K1", "customer_id": C1,
         "match_probability": 0.9998},
        {"source_system": "loyalty", "source_record_id": "M1", "customer_id": C1,
         "match_probability": 0.9998},
        {"source_system": "erp", "source_record_id": "E7", "customer_id": C2},
    ]  # fmt: skip
    for row in id_map:
        row["first_seen"], row["last_seen"] = ts("2026-10-01T00:00:00"), ts("2026-11-01T00:00:00")
    lake.overwrite(_table(id_map, GOLD_IDENTITY_MAP_SCHEMA), GOLD_IDENTITY_MAP)
    history = [
        {"run_id": "r0", "event": "new", "customer_id": C1, "records_moved": 1,
         "customer_records": 1, "at": ts("2026-10-01T00:00:00")},
        {"run_id": "r0", "event": "new", "customer_id": C3, "records_moved": 1,
         "customer_records": 1, "at": ts("2026-10-01T00:00:00")},
        {"run_id": "r1", "event": "merge", "customer_id": C3, "related_customer_id": C1,
         "records_moved": 1, "customer_records": 2, "at": ts("2026-11-01T00:00:00")},
        {"run_id": "r9", "event": "merge", "customer_id": "C0000000004",  # C4 -> C3 -> C1
         "related_customer_id": C3, "records_moved": 1, "customer_records": 2,
         "at": ts("2026-10-15T00:00:00")},
        {"run_id": "r0", "event": "new", "customer_id": C2, "records_moved": 1,
         "customer_records": 1, "at": ts("2026-10-01T00:00:00")},
    ]  # fmt: skip
    lake.overwrite(_table(history, GOLD_IDENTITY_HISTORY_SCHEMA), GOLD_IDENTITY_HISTORY)
    lake.overwrite(_table([K1], SILVER_CRM_CONTACTS_SCHEMA), SILVER_CRM_CONTACTS)
    lake.overwrite(_table([M1], SILVER_LOYALTY_MEMBERS_SCHEMA), SILVER_LOYALTY_MEMBERS)
    lake.overwrite(_table([E7], SILVER_ERP_CUSTOMERS_SCHEMA), SILVER_ERP_CUSTOMERS)
    lake.overwrite(_person_records(), SILVER_PERSON_RECORDS)
    for name, row in LANDED.items():
        landed = {k: pa.array([v]) for k, v in row.items()}
        landed["_ingest_date"] = pa.array([DAY], pa.date32())
        landed["_row_number"] = pa.array([row["_row_number"]], pa.int64())
        lake.overwrite(pa.table(landed), BRONZE_TABLES[name])
    for as_of, segment, clv in ((OLD_AS_OF, "new_customer", 10.0), (AS_OF, "loyal", 1234.5)):
        lake.append(_features(as_of, segment, clv), GOLD_CUSTOMER_FEATURES)
    members = [
        {"segment": "old_seg", "customer_id": C1, "as_of_date": OLD_AS_OF, "entered": True},
        {"segment": "vip_south", "customer_id": C1, "as_of_date": AS_OF, "entered": True},
        {"segment": "winback", "customer_id": C2, "as_of_date": AS_OF, "entered": False},
    ]
    lake.append(_table(members, GOLD_SEGMENT_MEMBERS_SCHEMA), GOLD_SEGMENT_MEMBERS)
    lake.overwrite(_links(), GOLD_IDENTITY_LINKS)
    _events(lake)
    if not consent_history:  # the lakehouse before issue 17
        lake.drop(GOLD_CONSENT_HISTORY)
    return root
