"""Survivorship on a few records: each field picks what conf/survivorship.yaml says."""

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from c360.profile_fields import golden_schema
from c360.tables import GOLD_GOLDEN_RECORDS_SCHEMA, SILVER_PERSON_RECORDS_SCHEMA
from resolution.golden import build_golden_records, load_survivorship_config
from resolution.linker import DuckDBBackend

T1, T2, T3 = (datetime(2025, m, 1, tzinfo=UTC) for m in (1, 2, 3))


def record(key: str, **fields) -> dict:
    source, record_id = key.split(":")
    return {"record_key": key, "source_system": source, "source_record_id": record_id} | fields


RECORDS = [
    # Customer C1: three records.
    record("crm:1", full_name="Nguyễn Văn An", phone_e164="+84901111111", national_id="123456789",
           national_id_type="cmnd", email="", date_of_birth=date(1990, 1, 2), province="Huế",
           region="centre", consent_email=True, consent_sms=None, created_at=T2, updated_at=T1),
    record("erp:1", full_name="Nguyen Van An", phone_e164="+84902222222",
           national_id="001090123456", national_id_type="cccd", email="an@x.vn",
           province=None, consent_email=False, created_at=T1, updated_at=T3),
    record("loyalty:1", full_name="Nguyễn Văn An", phone_e164=None, email="  ",
           date_of_birth=date(1990, 2, 1), gender="male", consent_email=True, consent_sms=True,
           created_at=T3, updated_at=T2),
    # Customer C2: one record with nothing but a name.
    record("loyalty:2", full_name="Trần Thị Bình", created_at=T1, updated_at=T1),
]  # fmt: skip
IDENTITY_MAP = pa.table(
    {
        "source_system": ["crm", "erp", "loyalty", "loyalty"],
        "source_record_id": ["1", "1", "1", "2"],
        "customer_id": ["C1", "C1", "C1", "C2"],
    }
)


@pytest.fixture(scope="module")
def golden() -> dict[str, dict]:
    records = pa.Table.from_pylist(RECORDS, schema=SILVER_PERSON_RECORDS_SCHEMA)
    table = build_golden_records(records, IDENTITY_MAP, DuckDBBackend())
    # the fixed columns, then the custom fields of conf/profile_fields.yaml with their sources
    assert table.schema == golden_schema()
    assert table.schema.names[: len(GOLD_GOLDEN_RECORDS_SCHEMA)] == GOLD_GOLDEN_RECORDS_SCHEMA.names
    return {row["customer_id"]: row for row in table.to_pylist()}


def test_one_row_per_customer(golden):
    assert sorted(golden) == ["C1", "C2"]


def test_most_frequent_name_with_provenance(golden):
    # Two records say "Nguyễn Văn An", one "Nguyen Van An"; of the two, crm wins on priority.
    assert golden["C1"]["full_name"] == "Nguyễn Văn An"
    assert golden["C1"]["full_name_source"] == "crm:1"


def test_most_recent_phone_and_empty_values_never_survive(golden):
    # erp:1 is the latest update (T3) with a phone; loyalty's null phone cannot win.
    assert (golden["C1"]["phone_e164"], golden["C1"]["phone_e164_source"]) == (
        "+84902222222", "erp:1",
    )  # fmt: skip
    # email: crm "" and loyalty "  " are empty; erp's value survives although not most recent.
    assert (golden["C1"]["email"], golden["C1"]["email_source"]) == ("an@x.vn", "erp:1")


def test_source_priority_national_id_and_its_type_follow(golden):
    # national_id uses source priority erp > crm; its type comes from the same record.
    assert (golden["C1"]["national_id"], golden["C1"]["national_id_source"]) == (
        "001090123456", "erp:1",
    )  # fmt: skip
    assert (golden["C1"]["national_id_type"], golden["C1"]["national_id_type_source"]) == (
        "cccd", "erp:1",
    )  # fmt: skip


def test_most_frequent_tie_broken_by_source_priority(golden):
    # Two birth dates, one record each: crm beats loyalty.
    assert golden["C1"]["date_of_birth"] == date(1990, 1, 2)
    assert golden["C1"]["date_of_birth_source"] == "crm:1"


def test_follow_field_with_leader_region(golden):
    assert (golden["C1"]["province"], golden["C1"]["region"]) == ("Huế", "centre")
    assert golden["C1"]["region_source"] == "crm:1"


def test_consent_false_wins_over_true_over_null(golden):
    assert golden["C1"]["consent_email"] is False  # True, False, True -> False
    assert golden["C1"]["consent_sms"] is True  # None, None, True -> True
    assert golden["C1"]["consent_data_use"] is None  # all null


def test_counts_and_first_last_seen(golden):
    c1 = golden["C1"]
    assert (c1["linked_records_crm"], c1["linked_records_erp"], c1["linked_records_loyalty"]) == (
        1, 1, 1,
    )  # fmt: skip
    assert c1["first_seen"] == T1  # earliest created_at (erp:1)
    assert c1["last_seen"] == T3  # latest updated_at (erp:1)


def test_customer_with_only_a_name(golden):
    c2 = golden["C2"]
    assert c2["full_name"] == "Trần Thị Bình" and c2["phone_e164"] is None
    assert c2["phone_e164_source"] is None and c2["national_id_type_source"] is None


def test_config_requires_every_golden_field(tmp_path):
    from resolution.golden import SurvivorshipConfigError

    bad = tmp_path / "s.yaml"
    bad.write_text("source_priority: [crm]\nfields:\n  full_name: {rule: most_recent}\n")
    with pytest.raises(SurvivorshipConfigError, match="no rule for"):
        load_survivorship_config(bad)
