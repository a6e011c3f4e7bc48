"""Survivorship of the profile and custom fields, against hand-computed expectations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from c360.profile_fields import golden_schema, load_profile_fields, person_records_schema
from resolution.golden import (
    SURVIVORSHIP_CONFIG_FILE,
    SurvivorshipConfigError,
    build_golden_records,
    load_survivorship_config,
    with_custom_fields,
)
from resolution.linker import DuckDBBackend

T1, T2, T3 = (datetime(2025, m, 1, tzinfo=UTC) for m in (1, 2, 3))


def record(key: str, **fields) -> dict:
    source, record_id = key.split(":")
    return {"record_key": key, "source_system": source, "source_record_id": record_id} | fields


RECORDS = [
    # C1: three records (crm updated T1, erp T3, loyalty T2)
    record("crm:1", lead_source="landing_page", occupation="teacher", industry="education",
           education="master", marital_status="single", profile_owner="Team A",
           device_id="dev-1", social_ids=["zalo:1"], preferred_store="Store 1",
           children_count=1, updated_at=T1, created_at=T1),
    record("erp:1", lead_source="store", occupation="manager", industry="retail",
           education="bachelor", marital_status="married", profile_owner="ERP Owner",
           device_id="dev-2", social_ids=["facebook:a", "zalo:1"], vip_since=date(2024, 2, 1),
           updated_at=T3, created_at=T1),
    record("loyalty:1", lead_source=None, occupation=None, industry="retail",
           education="master", marital_status=None, device_id="dev-1", social_ids=None,
           preferred_store="Store 9", updated_at=T2, created_at=T2),
    # C2: one record without any profile field
    record("loyalty:2", updated_at=T1, created_at=T1),
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
    records = pa.Table.from_pylist(RECORDS, schema=person_records_schema())
    table = build_golden_records(records, IDENTITY_MAP, DuckDBBackend())
    assert table.schema == golden_schema()
    return {row["customer_id"]: row for row in table.to_pylist()}


def pair(row: dict, field: str) -> tuple:
    return row[field], row[f"{field}_source"]


def test_source_priority_lead_source_and_owner(golden):
    # lead_source: crm > loyalty > erp; profile_owner: crm > erp > loyalty
    assert pair(golden["C1"], "lead_source") == ("landing_page", "crm:1")
    assert pair(golden["C1"], "profile_owner") == ("Team A", "crm:1")


def test_most_recent_occupation_and_marital_status(golden):
    # erp:1 is the latest update (T3) and has both
    assert pair(golden["C1"], "occupation") == ("manager", "erp:1")
    assert pair(golden["C1"], "marital_status") == ("married", "erp:1")


def test_most_frequent_industry_and_education(golden):
    # industry: retail twice (erp, loyalty), education twice (crm, loyalty): then crm > erp
    assert pair(golden["C1"], "industry") == ("retail", "erp:1")
    assert pair(golden["C1"], "education") == ("master", "crm:1")


def test_device_and_social_ids_are_the_union_of_every_record(golden):
    assert pair(golden["C1"], "device_ids") == (["dev-1", "dev-2"], ["crm:1", "erp:1", "loyalty:1"])
    assert pair(golden["C1"], "social_ids") == (["facebook:a", "zalo:1"], ["crm:1", "erp:1"])
    assert pair(golden["C2"], "device_ids") == (None, None)
    assert pair(golden["C2"], "lead_source") == (None, None)


def test_custom_fields_survive_by_their_declared_rule(golden):
    # preferred_store, children_count: most recent (loyalty:1 at T2 beats crm:1 at T1)
    assert pair(golden["C1"], "preferred_store") == ("Store 9", "loyalty:1")
    assert pair(golden["C1"], "children_count") == (1, "crm:1")
    assert pair(golden["C1"], "vip_since") == (date(2024, 2, 1), "erp:1")
    assert pair(golden["C2"], "vip_since") == (None, None)


def test_a_custom_field_with_a_rule_in_survivorship_yaml_is_refused():
    config = load_survivorship_config()
    twice = config.model_copy(
        update={"fields": {**config.fields, "children_count": config.fields["occupation"]}}
    )
    with pytest.raises(SurvivorshipConfigError, match="children_count"):
        with_custom_fields(twice, load_profile_fields())


def test_union_is_only_for_list_fields(tmp_path):
    text = tmp_path / "s.yaml"
    source = SURVIVORSHIP_CONFIG_FILE.read_text("utf-8")
    text.write_text(source.replace("occupation: {rule: most_recent}", "occupation: {rule: union}"))
    with pytest.raises(SurvivorshipConfigError, match=r"fields\.occupation: rule union"):
        load_survivorship_config(text)
