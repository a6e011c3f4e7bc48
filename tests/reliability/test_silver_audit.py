"""Write, audit, publish for silver: a failed blocking check publishes nothing, row-level problems
quarantine or flag instead of halting, a bad suite stops the run before any write, and the row
accounting is a check that can fail."""

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from assets.resources import build_resources
from assets.silver import silver_loyalty_points, silver_transactions
from c360.bronze import bronze_schema
from c360.config import ConfigError, load_settings
from c360.contract import CRM_CONTACTS, LOYALTY_POINTS, TRANSACTIONS
from c360.lakehouse import Lakehouse
from c360.silver import RowAccountingError, build_person_table, build_transactions, person_sources
from c360.tables import (
    BRONZE_TABLES,
    QUARANTINE_REJECTS,
    SILVER_LOYALTY_MEMBERS,
    SILVER_LOYALTY_MEMBERS_SCHEMA,
    SILVER_PERSON_RECORDS,
    SILVER_PERSON_RECORDS_SCHEMA,
    SILVER_TRANSACTIONS,
)
from quality import expectations
from quality.audit import SilverAuditError, audit
from quality.expectations import ExpectationSpec, load_suites

pytestmark = pytest.mark.spark

DAY = date(2026, 11, 1)
TXN = {
    "transaction_id": "T1", "customer_ref_type": "crm", "customer_ref": "C1", "channel": "store",
    "store_id": "S1", "product_sku": "SKU1", "product_category": "grocery", "quantity": "2",
    "unit_price": "50000", "discount": "", "amount": "100000", "currency": "VND",
    "payment_method": "cash", "transaction_ts": "2026-11-01T10:00:00", "status": "completed",
}  # fmt: skip
POINT = {"entry_id": "E1", "member_id": "M1", "event_ts": "2026-11-01T08:00:00",
         "event_type": "earn", "points": "10", "reference": ""}  # fmt: skip


def bronze_rows(entity, rows: list[dict], source_file: str = "x.csv") -> pa.Table:
    """Bronze rows as landed (strings) with lineage; line numbers from 2 (after the header)."""
    filled = []
    for number, row in enumerate(rows, start=2):
        record = dict.fromkeys(entity.required_columns, "") | {
            "_ingest_date": DAY, "_source_file": source_file, "_row_number": number,
            "_ingested_at": datetime(2026, 11, 1, tzinfo=UTC), "_record_hash": "h",
        }  # fmt: skip
        filled.append(record | row)
    return pa.Table.from_pylist(filled, schema=bronze_schema(entity, []))


def transactions(count: int, **changes: str) -> list[dict]:
    return [TXN | {"transaction_id": f"T{i:03d}"} | changes for i in range(count)]


@pytest.fixture
def lake_with_references(spark, tmp_path) -> Lakehouse:
    """A lakehouse holding the silver tables the transaction / points audits read."""
    lake = Lakehouse(tmp_path / "lake", spark)
    person = {"record_key": "crm:C1", "source_system": "crm", "source_record_id": "C1"}
    lake.overwrite(
        pa.Table.from_pylist([person], schema=SILVER_PERSON_RECORDS_SCHEMA), SILVER_PERSON_RECORDS
    )
    member = {"member_id": "M1", "field_issues": [], "raw_values": []}
    lake.overwrite(
        pa.Table.from_pylist([member], schema=SILVER_LOYALTY_MEMBERS_SCHEMA),
        SILVER_LOYALTY_MEMBERS,
    )
    return lake


def materialise(lake: Lakehouse, assets: list, tmp_path: Path) -> dg.ExecuteInProcessResult:
    settings = load_settings(
        environ={},
        overrides={"lakehouse_root": str(lake.root), "raw_root": str(tmp_path / "raw")},
    )
    return dg.materialize(assets, resources=build_resources(settings), raise_on_error=False)


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    [failure] = result.get_step_failure_events()
    return failure.step_failure_data.error.message


def land_transactions(lake: Lakehouse, rows: list[dict]) -> None:
    lake.replace_where(
        bronze_rows(TRANSACTIONS, rows), BRONZE_TABLES["transactions"], {"_ingest_date": [DAY]}
    )


def test_a_failed_blocking_check_leaves_the_previous_version_current(
    lake_with_references, tmp_path
):
    lake = lake_with_references
    land_transactions(lake, transactions(20))
    assert materialise(lake, [silver_transactions], tmp_path).success
    path = str(lake.root / "silver" / "transactions")
    version, before = DeltaTable(path).version(), lake.read_arrow(SILVER_TRANSACTIONS)
    rejects_before = lake.read_arrow(QUARANTINE_REJECTS).num_rows

    # 5 of 20 rows with an unknown status: 25% is above the suite's max_share of 5%
    bad = transactions(20)
    for row in bad[:5]:
        row["status"] = "lost in transit"
    land_transactions(lake, bad)
    result = materialise(lake, [silver_transactions], tmp_path)

    assert not result.success
    assert DeltaTable(path).version() == version  # nothing committed ...
    assert lake.read_arrow(SILVER_TRANSACTIONS).equals(before)  # ... the old rows still current
    assert lake.read_arrow(QUARANTINE_REJECTS).num_rows == rejects_before
    message = failure_message(result)
    assert "silver.transactions not published (its previous version stays current)" in message
    assert "expect_column_values_to_be_in_set on column status: 5 of 20 rows (25.0%)" in message
    assert "e.g. rows x.csv:2, x.csv:3, x.csv:4, x.csv:5, x.csv:6" in message
    assert "above max_share 0.05 (quarantine)" in message
    assert "lost in transit" not in message  # identifiers, never values


def test_row_level_problems_are_quarantined_and_the_run_goes_on(lake_with_references, tmp_path):
    lake = lake_with_references
    rows = transactions(40)
    rows[7]["status"] = "unheard of"  # line 9: an unknown status
    rows[9]["amount"] = "20000000000"  # line 11: above 1e10 VND
    land_transactions(lake, rows)
    result = materialise(lake, [silver_transactions], tmp_path)

    assert result.success  # 1 of 40 rows per rule (2.5%) is below max_share 0.05
    silver = lake.read_arrow(SILVER_TRANSACTIONS).to_pydict()
    assert len(silver["transaction_id"]) == 38
    assert {"T007", "T009"}.isdisjoint(silver["transaction_id"])
    rejects = sorted(
        (r["table"], r["_row_number"], tuple(r["reasons"]))
        for r in lake.read_arrow(QUARANTINE_REJECTS).to_pylist()
    )
    assert rejects == [
        ("transactions", 9, ("expect_column_values_to_be_in_set: status",)),
        ("transactions", 11, ("expect_column_values_to_be_between: amount",)),
    ]
    [materialization] = result.asset_materializations_for_node("silver__transactions")
    metadata = materialization.metadata
    assert (metadata["rows_quarantined"].value, metadata["rows_silver"].value) == (2, 38)
    assert metadata["rows_accounted"].value is True
    [check] = result.get_asset_check_evaluations()
    assert check.passed and check.check_name == "great_expectations"


def test_each_table_keeps_its_own_data_docs(lake_with_references, tmp_path):
    lake = lake_with_references
    land_transactions(lake, transactions(3))
    lake.replace_where(
        bronze_rows(LOYALTY_POINTS, [POINT]),
        BRONZE_TABLES["loyalty_points"],
        {"_ingest_date": [DAY]},
    )
    result = materialise(lake, [silver_transactions, silver_loyalty_points], tmp_path)
    assert result.success
    docs = lake.reports_dir(result.run_id) / "data_docs"
    assert (docs / "transactions" / "index.html").is_file()
    assert (docs / "loyalty_points" / "index.html").is_file()
    assert "silver_transactions" in (docs / "transactions" / "index.html").read_text()


CONTACT = {
    "contact_id": "C1", "full_name": "Nguyễn Văn An", "gender": "Nam",
    "date_of_birth": "15/03/1990", "phone": "0912 345 678", "email": "an@gmail.com",
    "national_id": "001090000001", "address": "12 Lê Lợi", "province": "Huế",
    "created_at": "2025-01-01T09:00:00+07:00", "updated_at": "2025-01-01T09:00:00+07:00",
}  # fmt: skip


def test_a_flag_rule_nulls_the_field_keeps_its_landed_value_and_the_row(spark):
    contacts = [CONTACT, CONTACT | {"contact_id": "C2", "email": "binh@corp.example"}]
    bronze = spark.createDataFrame(bronze_rows(CRM_CONTACTS, contacts, "crm.csv"))
    build = build_person_table(bronze, person_sources()["crm"])
    only_corp = ExpectationSpec(
        "column_values_to_match_regex",
        {"column": "email", "regex": r"@corp\.example$"},
        on_fail="flag",
        max_share=0.5,
    )
    result = audit(build, [only_corp])
    assert result.passed, result.problems
    rows = {r.contact_id: r for r in result.build.rows.collect()}
    assert rows["C2"].email == "binh@corp.example" and rows["C2"].field_issues == []
    flagged = rows["C1"]
    assert flagged.email is None
    assert flagged.raw_values["email"] == "an@gmail.com"  # the landed text
    assert "email: expect_column_values_to_match_regex: email (raw kept)" in flagged.field_issues
    assert result.build.rows.columns == list(person_sources()["crm"].schema.names)
    assert result.violations == {"expect_column_values_to_match_regex: email": 1}
    result.release()


def test_a_flag_rule_above_its_share_blocks(spark):
    bronze = spark.createDataFrame(bronze_rows(CRM_CONTACTS, [CONTACT], "crm.csv"))
    build = build_person_table(bronze, person_sources()["crm"])
    spec = ExpectationSpec(
        "column_values_to_be_in_set", {"column": "gender", "value_set": ["female"]}, "flag", 0.5
    )
    result = audit(build, [spec])
    assert result.problems == [
        "silver.crm_contacts: expect_column_values_to_be_in_set on column gender: 1 of 1 rows "
        "(100.0%); e.g. rows crm.csv:2, above max_share 0.5 (flag)"
    ]
    result.release()


def test_row_accounting_fails_when_a_row_is_lost(spark):
    refunded = TXN | {"status": "refunded", "_ingest_date": date(2026, 11, 2)}
    bronze = spark.createDataFrame(bronze_rows(TRANSACTIONS, [TXN, refunded, TXN | {"amount": ""}]))
    build = build_transactions(bronze)
    assert build.check_accounting(3) == {
        "rows_bronze": 3, "rows_silver": 1, "rows_quarantined": 1, "rows_superseded": 1,
    }  # fmt: skip
    build.rows = build.rows.limit(0)  # a bug that drops the surviving row
    with pytest.raises(RowAccountingError, match=r"3 bronze rows but 2 accounted for"):
        build.check_accounting(3)


BAD_SUITES = {
    "on_fial": ("{expectation: column_values_to_be_unique, column: entry_id, on_fial: block}",
                "loyalty_points[1] column_values_to_be_unique: unknown key 'on_fial'; "
                "column_values_to_be_unique takes column, condition_parser, mostly, row_condition "
                "(and on_fail, max_share)"),
    "column": ("{expectation: column_values_to_not_be_null, column: entry_idd, on_fail: block}",
               "loyalty_points has no column 'entry_idd'"),
    "unique": ("{expectation: column_values_to_be_unique, column: entry_id, on_fail: quarantine, "
               "max_share: 0.1}", "on_fail quarantine needs a row-level expectation"),
    "share": ("{expectation: column_values_to_be_in_set, column: event_type, value_set: [earn], "
              "on_fail: quarantine}", "on_fail quarantine needs max_share"),
    "flag": ("{expectation: column_values_to_be_in_set, column: event_type, value_set: [earn], "
             "on_fail: flag, max_share: 0.1}", "on_fail flag needs field_issues"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_SUITES))
def test_a_bad_suite_is_refused_naming_the_entry(case, tmp_path):
    entry, expected = BAD_SUITES[case]
    text = expectations.SUITES_FILE.read_text(encoding="utf-8")
    head, _, _ = text.partition("loyalty_points:\n")
    tail = text.split("person_records:\n", 1)[1]
    bad = tmp_path / "expectations.yaml"
    bad.write_text(f"{head}loyalty_points:\n  - {entry}\n\nperson_records:\n{tail}")
    with pytest.raises(ConfigError, match=r"expectations\.yaml") as error:
        load_suites(bad)
    assert expected in str(error.value)


def test_a_typo_in_the_suites_stops_the_run_before_anything_is_written(land, tmp_path, monkeypatch):
    from pipelines.runner import run_pipeline

    bad = tmp_path / "expectations.yaml"
    text = expectations.SUITES_FILE.read_text(encoding="utf-8")
    bad.write_text(
        text.replace("marketplace], on_fail: quarantine", "marketplace], on_fail: quarantain")
    )
    monkeypatch.setattr(expectations, "SUITES_FILE", bad)
    raw = land("crm", "2026-11-01", {"contacts.csv": ",".join(CRM_CONTACTS.required_columns)})
    lake_root = tmp_path / "lake"
    with pytest.raises(ConfigError, match=r"transactions\[4\] on_fail: Input should be"):
        run_pipeline({"raw_root": str(raw), "lakehouse_root": str(lake_root)})
    assert not lake_root.exists()


def test_person_records_with_a_duplicate_key_are_not_published(spark):
    from c360.silver import person_records_build

    records = spark.createDataFrame(
        pa.Table.from_pylist(
            [
                {"record_key": key, "source_system": key.split(":")[0], "source_record_id": "C1"}
                for key in ("crm:C1", "crm:C1", "erp:C1")
            ],
            schema=SILVER_PERSON_RECORDS_SCHEMA,
        )
    )
    result = audit(person_records_build(records), load_suites()["person_records"])
    assert result.problems == [
        "silver.person_records: expect_column_values_to_be_unique on column record_key: 2 of 3 "
        "rows (66.7%); e.g. rows crm:C1, crm:C1"
    ]
    with pytest.raises(SilverAuditError, match=r"^silver\.person_records not published"):
        result.raise_if_blocked()
    result.release()
