"""Bronze -> silver on real Spark: typing, latest versions, rejects, row accounting, GX suites."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from c360.bronze import bronze_schema
from c360.contract import LOYALTY_POINTS, TRANSACTIONS
from c360.silver import build_loyalty_points, build_transactions
from quality.expectations import ExpectationSpec, load_suites, validate, with_reference_flags

pytestmark = pytest.mark.spark


def bronze_frame(spark, entity, rows: list[dict]):
    """Bronze rows as landed (strings) with lineage; missing landed columns are empty."""
    schema = bronze_schema(entity, [])
    filled = []
    for number, row in enumerate(rows, start=2):
        record = dict.fromkeys(entity.required_columns, "")
        record |= {
            "_ingest_date": date(2026, 11, 1),
            "_source_file": "x.csv",
            "_row_number": number,
            "_ingested_at": datetime(2026, 11, 1, tzinfo=UTC),
            "_record_hash": "h",
        }
        filled.append(record | row)
    return spark.createDataFrame(pa.Table.from_pylist(filled, schema=schema))


TXN = {
    "transaction_id": "T1", "customer_ref_type": "CRM", "customer_ref": "C1", "channel": "Store",
    "store_id": "S1", "product_sku": "SKU1", "product_category": "Grocery", "quantity": "2",
    "unit_price": "50000", "discount": "", "amount": "100000", "currency": "vnd",
    "payment_method": "MoMo", "transaction_ts": "2026-10-31T23:30:00", "status": "Completed",
}  # fmt: skip


def test_transactions_are_typed_and_localised(spark):
    guest = TXN | {"transaction_id": "T2", "customer_ref_type": "", "customer_ref": ""}
    build = build_transactions(bronze_frame(spark, TRANSACTIONS, [TXN, guest]))
    rows = {r.transaction_id: r for r in build.rows.collect()}
    t1 = rows["T1"]
    assert (t1.customer_ref_type, t1.record_key, t1.channel) == ("crm", "crm:C1", "store")
    assert (t1.amount, t1.discount, t1.quantity) == (Decimal("100000.00"), Decimal("0.00"), 2)
    assert (t1.currency, t1.payment_method, t1.status) == ("VND", "momo", "completed")
    # 23:30 in Ho Chi Minh City (UTC+7) is 16:30 UTC; the local day stays 31 October
    assert t1.transaction_ts.astimezone(UTC) == datetime(2026, 10, 31, 16, 30, tzinfo=UTC)
    assert t1.transaction_date == date(2026, 10, 31)
    assert rows["T2"].record_key is None  # a guest sale
    assert build.rejects.count() == 0


def test_unusable_transactions_are_rejected_with_every_reason(spark):
    bad = [
        TXN | {"transaction_id": " "},
        TXN | {"transaction_id": "T3", "amount": "một trăm", "transaction_ts": "yesterday"},
    ]
    build = build_transactions(bronze_frame(spark, TRANSACTIONS, [TXN, *bad]))
    reasons = sorted(tuple(r.reasons) for r in build.rejects.collect())
    assert reasons == [
        ("expect_column_values_to_not_be_null: transaction_id",),
        ("transaction_ts: not an ISO 8601 timestamp", "amount: not a number"),
    ]
    [raw] = [r.raw for r in build.rejects.collect() if "T3" in r.raw]
    assert '"amount":"một trăm"' in raw  # the landed row, as JSON
    assert build.account(bronze_rows=3) == {
        "rows_bronze": 3, "rows_silver": 1, "rows_quarantined": 2, "rows_superseded": 0,
    }  # fmt: skip


def test_the_latest_landing_of_a_transaction_wins(spark):
    refunded = TXN | {"status": "refunded", "_ingest_date": date(2026, 11, 2)}
    build = build_transactions(bronze_frame(spark, TRANSACTIONS, [refunded, TXN]))
    assert [r.status for r in build.rows.collect()] == ["refunded"]
    assert build.account(bronze_rows=2)["rows_superseded"] == 1


POINT = {"entry_id": "E1", "member_id": "M1", "event_ts": "2026-11-01T08:00:00+07:00",
         "event_type": "EARN", "points": "120", "reference": "T1"}  # fmt: skip


def test_loyalty_points_typed_with_record_key(spark):
    build = build_loyalty_points(bronze_frame(spark, LOYALTY_POINTS, [POINT]))
    [row] = build.rows.collect()
    assert (row.record_key, row.event_type, row.points) == ("loyalty:M1", "earn", 120)
    assert row.event_ts.astimezone(UTC) == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def test_suites_load_for_every_silver_table():
    suites = load_suites()
    assert set(suites) == {
        "crm_contacts", "erp_customers", "loyalty_members", "transactions", "loyalty_points",
        "person_records", "consent_events", "engagement_messages", "service_contacts",
    }  # fmt: skip
    # the shared identity fragment is spliced into each person table's suite
    assert any(s.kwargs.get("column") == "phone_e164" for s in suites["crm_contacts"])


def test_great_expectations_report_blocks_on_errors_only(spark, tmp_path):
    build = build_transactions(
        bronze_frame(spark, TRANSACTIONS, [TXN, TXN | {"transaction_id": "T2", "channel": "fax"}])
    )
    specs = [
        ExpectationSpec(
            "column_values_to_be_in_set", {"column": "channel", "value_set": ["store"]}, "block"
        ),
        ExpectationSpec(
            "column_values_to_be_in_set", {"column": "currency", "value_set": ["USD"]}, "warn"
        ),
        ExpectationSpec("column_values_to_be_unique", {"column": "transaction_id"}, "block"),
    ]
    report = validate(build.rows, "transactions", specs, tmp_path / "docs")
    outcomes = {(o.expectation, o.on_fail): o for o in report.outcomes}
    channel = outcomes[("expect_column_values_to_be_in_set", "block")]
    assert (channel.success, channel.unexpected_count) == (False, 1)  # "fax"
    assert outcomes[("expect_column_values_to_be_in_set", "warn")].unexpected_count == 2
    assert outcomes[("expect_column_values_to_be_unique", "block")].success
    assert not report.passed
    assert [o.column for o in report.failed_errors] == ["channel"]
    assert (tmp_path / "docs" / "index.html").is_file()


def test_reference_flags_mark_unknown_members(spark):
    points = build_loyalty_points(
        bronze_frame(spark, LOYALTY_POINTS, [POINT, POINT | {"entry_id": "E2", "member_id": "M9"}])
    ).rows
    members = spark.createDataFrame([("M1",)], "member_id string")
    flagged = with_reference_flags("loyalty_points", points, {"loyalty_members": members})
    assert sorted((r.entry_id, r.member_known) for r in flagged.collect()) == [
        ("E1", True),
        ("E2", False),
    ]


CONTACT = {
    "contact_id": "C1", "full_name": "Nguyễn Văn An", "gender": "Nam",
    "date_of_birth": "15/03/1990", "phone": "0912 345 678", "email": "An.Nguyen@Gmail.com",
    "national_id": "001090000001", "address": "12 Lê Lợi, Q1", "province": "Bình Dương",
    "created_at": "2025-01-01T09:00:00+07:00", "updated_at": "2025-01-01T09:00:00+07:00",
}  # fmt: skip


def crm_bronze(spark, rows: list[dict], extra: tuple[str, ...] = ()):
    from c360.contract import CRM_CONTACTS

    schema = bronze_schema(CRM_CONTACTS, list(extra))
    filled = []
    for number, row in enumerate(rows, start=2):
        record = dict.fromkeys(schema.names[: len(schema) - 5], "")
        record |= {"_ingest_date": date(2026, 11, 1), "_source_file": "crm.csv",
                   "_row_number": number, "_ingested_at": datetime(2026, 11, 1, tzinfo=UTC),
                   "_record_hash": "h"}  # fmt: skip
        filled.append(record | row)
    return spark.createDataFrame(pa.Table.from_pylist(filled, schema=schema))


def test_person_table_keeps_the_latest_version_and_flags_bad_fields(spark):
    from c360.silver import build_person_table, person_sources

    older = CONTACT | {"phone": "0900000000", "updated_at": "2024-06-01T00:00:00+07:00"}
    newer = CONTACT | {"phone": "not a phone", "consent_sms": "maybe", "consent_email": "yes"}
    no_key = CONTACT | {"contact_id": ""}
    bronze = crm_bronze(spark, [newer, older, no_key], extra=("consent_email", "consent_sms"))
    build = build_person_table(bronze, person_sources()["crm"])

    [row] = build.rows.collect()
    # the version updated on 2025-01-01 beats the one of 2024-06-01, whatever the file order
    assert row.contact_id == "C1"
    assert row.phone_e164 is None  # a bad field is nulled ...
    assert row.raw_values["phone"] == "not a phone"  # ... its landed value kept ...
    assert any(issue.startswith("phone:") for issue in row.field_issues)  # ... and flagged
    assert "consent_sms: not yes/no" in row.field_issues
    assert (row.consent_email, row.consent_sms, row.consent_data_use) == (True, None, None)
    assert (row.email, row.gender, row.date_of_birth) == (
        "an.nguyen@gmail.com",
        "male",
        date(1990, 3, 15),
    )
    assert (row.province, row.region) == ("Hồ Chí Minh", "south")  # merged in 2025
    assert (row.family_name, row.middle_name, row.given_name) == ("nguyen", "van", "an")
    assert row.updated_at.astimezone(UTC) == datetime(2025, 1, 1, 2, 0, tzinfo=UTC)

    [reject] = build.rejects.collect()
    assert list(reject.reasons) == ["expect_column_values_to_not_be_null: contact_id"]
    assert build.account(bronze_rows=3) == {
        "rows_bronze": 3, "rows_silver": 1, "rows_quarantined": 1, "rows_superseded": 1,
    }  # fmt: skip


def test_person_records_unions_the_sources_under_record_keys(spark):
    from c360.profile_fields import person_records_schema
    from c360.silver import build_person_records, build_person_table, person_sources
    from c360.tables import SILVER_PERSON_RECORDS_SCHEMA

    crm = build_person_table(crm_bronze(spark, [CONTACT]), person_sources()["crm"]).rows
    records = build_person_records({"crm": crm})
    # the fixed columns, then the custom fields of conf/profile_fields.yaml (issue 20)
    assert records.columns == person_records_schema().names
    assert (
        records.columns[: len(SILVER_PERSON_RECORDS_SCHEMA)] == SILVER_PERSON_RECORDS_SCHEMA.names
    )
    [row] = records.collect()
    assert (row.record_key, row.source_system, row.source_record_id) == ("crm:C1", "crm", "C1")
    assert row.phone_e164 == "+84912345678"
