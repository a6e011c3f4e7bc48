"""Bronze -> silver on real Spark: typing, latest versions, rejects, row accounting, GX suites."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from c360.contract import LOYALTY_POINTS, TRANSACTIONS
from c360.ingest import bronze_schema
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
        "person_records",
    }  # fmt: skip
    # the shared identity fragment is spliced into each person table's suite
    assert any(s.kwargs.get("column") == "phone_e164" for s in suites["crm_contacts"])


def test_great_expectations_report_blocks_on_errors_only(spark, tmp_path):
    build = build_transactions(
        bronze_frame(spark, TRANSACTIONS, [TXN, TXN | {"transaction_id": "T2", "channel": "fax"}])
    )
    specs = [
        ExpectationSpec(
            "column_values_to_be_in_set", {"column": "channel", "value_set": ["store"]}, "error"
        ),
        ExpectationSpec(
            "column_values_to_be_in_set", {"column": "currency", "value_set": ["USD"]}, "warning"
        ),
        ExpectationSpec("column_values_to_be_unique", {"column": "transaction_id"}, "error"),
    ]
    report = validate(build.rows, "transactions", specs, tmp_path / "docs")
    outcomes = {(o.expectation, o.severity): o for o in report.outcomes}
    channel = outcomes[("expect_column_values_to_be_in_set", "error")]
    assert (channel.success, channel.unexpected_count) == (False, 1)  # "fax"
    assert outcomes[("expect_column_values_to_be_in_set", "warning")].unexpected_count == 2
    assert outcomes[("expect_column_values_to_be_unique", "error")].success
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
