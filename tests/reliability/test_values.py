"""Values checked, not assumed: amounts by their currency's rule and in VND, timestamps in the
future quarantined or nulled, and a future updated_at that never wins survivorship."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from c360.bronze import bronze_schema
from c360.config import ConfigError
from c360.contract import CRM_CONTACTS, LOYALTY_MEMBERS, LOYALTY_POINTS, TRANSACTIONS
from c360.profile_fields import person_records_schema
from c360.silver import (
    build_loyalty_points,
    build_person_records,
    build_person_table,
    build_transactions,
    person_sources,
)
from c360.values import load_value_rules
from resolution.golden import build_golden_records
from resolution.linker import DuckDBBackend

DAY = date(2026, 11, 1)
TXN = {
    "transaction_id": "T1", "customer_ref_type": "crm", "customer_ref": "C1", "channel": "store",
    "store_id": "S1", "product_sku": "SKU1", "product_category": "grocery", "quantity": "1",
    "unit_price": "", "discount": "", "amount": "100000", "currency": "VND",
    "payment_method": "cash", "transaction_ts": "2026-11-01T10:00:00", "status": "completed",
}  # fmt: skip


def bronze(spark, entity, rows: list[dict]):
    """Bronze rows as landed on DAY (strings) with lineage; line numbers from 2."""
    filled = []
    for number, row in enumerate(rows, start=2):
        record = dict.fromkeys(entity.required_columns, "") | {
            "_ingest_date": DAY, "_source_file": "x.csv", "_row_number": number,
            "_ingested_at": datetime(2026, 11, 1, tzinfo=UTC), "_record_hash": "h",
        }  # fmt: skip
        filled.append(record | row)
    return spark.createDataFrame(pa.Table.from_pylist(filled, schema=bronze_schema(entity, [])))


# (amount, currency) -> (silver amount in VND, amount_original) or the quarantine reason.
AMOUNTS = {
    ("1,250,000", "VND"): (Decimal("1250000.00"), Decimal("1250000.00")),
    ("1 250 000", "VND"): (Decimal("1250000.00"), Decimal("1250000.00")),
    ("100000.0", "vnd"): (Decimal("100000.00"), Decimal("100000.00")),  # a Parquet float
    ("-50000", "VND"): (Decimal("-50000.00"), Decimal("-50000.00")),  # a refund
    ("12.50", "USD"): (Decimal("317500.00"), Decimal("12.50")),  # 25,400 VND per USD
    ("1,5", "EUR"): (Decimal("40950.00"), Decimal("1.50")),  # EUR writes decimals with ","
    ("1.250,00", "EUR"): (Decimal("34125000.00"), Decimal("1250.00")),
    # "1,5" is not 15.00: in VND and USD a "," separates thousands, so three digits must follow
    ("1,5", "VND"): "amount: not written as a VND amount (conf/values.yaml)",
    ("1,5", "USD"): "amount: not written as a USD amount (conf/values.yaml)",
    # three decimals in VND (no minor unit) is a Vietnamese thousands dot, not 100.0: refused
    ("100.000", "VND"): "amount: not written as a VND amount (conf/values.yaml)",
    ("một trăm", "VND"): "amount: not a number",
    ("100", "JPY"): "currency: not one of VND, USD, EUR (conf/values.yaml)",
    ("100", ""): "currency: missing",
}


@pytest.mark.spark
def test_amounts_follow_their_currency_rule_and_are_kept_in_vnd(spark):
    rows = [
        TXN | {"transaction_id": f"T{i}", "amount": amount, "currency": currency}
        for i, (amount, currency) in enumerate(AMOUNTS)
    ]
    build = build_transactions(bronze(spark, TRANSACTIONS, rows))
    silver = {r.transaction_id: r for r in build.rows.collect()}
    rejects = {r._row_number - 2: list(r.reasons) for r in build.rejects.collect()}
    for i, (landed, expected) in enumerate(AMOUNTS.items()):
        if isinstance(expected, str):
            assert rejects.get(i) == [expected], landed
        else:
            row = silver[f"T{i}"]
            assert (row.amount, row.amount_original) == expected, landed
    assert silver["T4"].currency == "USD"  # the landed currency is kept beside the VND amount


@pytest.mark.spark
def test_unit_price_and_discount_are_converted_too(spark):
    sale = TXN | {"amount": "20.00", "unit_price": "25.00", "discount": "5.00", "currency": "USD"}
    [row] = build_transactions(bronze(spark, TRANSACTIONS, [sale])).rows.collect()
    assert (row.amount, row.unit_price, row.discount) == (
        Decimal("508000.00"),
        Decimal("635000.00"),
        Decimal("127000.00"),
    )


@pytest.mark.spark
def test_an_amount_too_large_once_converted_is_quarantined(spark):
    huge = TXN | {"amount": "9999999999999999", "currency": "USD"}
    [reject] = build_transactions(bronze(spark, TRANSACTIONS, [huge])).rejects.collect()
    assert list(reject.reasons) == ["amount: too large for decimal(18,2) once converted to VND"]


@pytest.mark.spark
def test_event_times_in_the_future_are_quarantined(spark):
    # landed on 2026-11-01: anything after 2026-11-02 00:00 local + 24 h is in the future
    rows = [
        TXN | {"transaction_id": "T2099", "transaction_ts": "2099-01-01T00:00:00"},
        TXN | {"transaction_id": "late", "transaction_ts": "2026-11-02T23:59:00+07:00"},
        TXN | {"transaction_id": "over", "transaction_ts": "2026-11-03T00:00:01+07:00"},
    ]
    build = build_transactions(bronze(spark, TRANSACTIONS, rows))
    assert [r.transaction_id for r in build.rows.collect()] == ["late"]  # within the skew
    reason = "transaction_ts: in the future (more than 24 h after the landing day)"
    assert [list(r.reasons) for r in build.rejects.collect()] == [[reason], [reason]]

    point = {"entry_id": "E1", "member_id": "M1", "event_ts": "2099-12-31", "event_type": "earn",
             "points": "5", "reference": ""}  # fmt: skip
    [reject] = build_loyalty_points(bronze(spark, LOYALTY_POINTS, [point])).rejects.collect()
    assert list(reject.reasons) == [
        "event_ts: in the future (more than 24 h after the landing day)"
    ]


CONTACT = {
    "contact_id": "C1", "full_name": "Nguyễn Văn An", "gender": "Nam",
    "date_of_birth": "15/03/1990", "phone": "0912345678", "email": "an@gmail.com",
    "national_id": "", "address": "", "province": "Huế",
    "created_at": "2025-01-01T09:00:00+07:00", "updated_at": "2025-01-01T09:00:00+07:00",
}  # fmt: skip
MEMBER = {
    "member_id": "M1", "card_number": "CARD1", "full_name": "Nguyễn Văn An",
    "phone": "0987654321", "email": "an@yahoo.com", "date_of_birth": "1990-03-15",
    "gender": "Nam", "tier": "gold", "status": "active",
    "enrolled_at": "2025-02-01T09:00:00+07:00", "updated_at": "2025-06-01T09:00:00+07:00",
}  # fmt: skip


@pytest.mark.spark
def test_a_future_updated_at_is_nulled_flagged_and_never_the_latest_version(spark):
    future = CONTACT | {"phone": "0911111111", "updated_at": "2099-01-01T00:00:00+07:00"}
    build = build_person_table(bronze(spark, CRM_CONTACTS, [future, CONTACT]),
                               person_sources()["crm"])  # fmt: skip
    [row] = build.rows.collect()
    # without the check the 2099 version would be the latest (updated_at descending)
    assert row.phone_e164 == "+84912345678" and row._row_number == 3
    assert [r._row_number for r in build.superseded.collect()] == [2]

    [flagged] = build_person_table(bronze(spark, CRM_CONTACTS, [future]),
                                   person_sources()["crm"]).rows.collect()  # fmt: skip
    assert flagged.updated_at is None
    assert "updated_at: in the future (more than 24 h after the landing day)" in (
        flagged.field_issues
    )
    assert flagged.raw_values["updated_at"] == "2099-01-01T00:00:00+07:00"


@pytest.mark.spark
def test_a_future_updated_at_never_wins_survivorship(spark):
    # The same customer in CRM (updated "2099") and loyalty (updated 2025-06-01): phone and
    # email are most_recent fields (conf/survivorship.yaml), so loyalty's must survive.
    crm = CONTACT | {"updated_at": "2099-01-01T00:00:00+07:00"}
    tables = {
        "crm": build_person_table(bronze(spark, CRM_CONTACTS, [crm]), person_sources()["crm"]),
        "loyalty": build_person_table(
            bronze(spark, LOYALTY_MEMBERS, [MEMBER]), person_sources()["loyalty"]
        ),
    }
    records = build_person_records({s: b.rows for s, b in tables.items()}).toArrow()
    records = records.cast(person_records_schema())  # with the custom fields (issue 20)
    identity_map = pa.table(
        {
            "source_system": ["crm", "loyalty"],
            "source_record_id": ["C1", "M1"],
            "customer_id": ["K1", "K1"],
        }
    )
    [golden] = build_golden_records(records, identity_map, DuckDBBackend()).to_pylist()
    assert (golden["phone_e164"], golden["phone_e164_source"]) == ("+84987654321", "loyalty:M1")
    assert golden["email"] == "an@yahoo.com"
    assert golden["last_seen"] == datetime(2025, 6, 1, 2, 0, tzinfo=UTC)  # not 2099


def test_value_rules_are_validated_naming_the_key(tmp_path):
    rules = load_value_rules()
    assert rules.currencies["VND"].rate_to_vnd == 1 and rules.future_skew_hours == 24
    bad = tmp_path / "values.yaml"
    bad.write_text(
        "rates_as_of: 2026-11-01\nfuture_skew_hours: 24\ncurrencies:\n"
        "  VND: {thousands: [','], decimal: '.', max_decimals: 2, rate_to_vnd: 1}\n"
        "  USD: {thousands: [','], decimal: ',', max_decimals: 2, rate_to_vnd: 25400}\n"
    )
    with pytest.raises(ConfigError, match=r"currencies\.USD: .*must be a non-digit and not also"):
        load_value_rules(bad)
    bad.write_text(bad.read_text().replace("rate_to_vnd: 25400", "rate: 25400"))
    with pytest.raises(ConfigError, match=r"currencies\.USD\.rate"):
        load_value_rules(bad)
