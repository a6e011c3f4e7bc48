"""Silver person tables with the optional profile columns and custom fields (real Spark)."""

from __future__ import annotations

from datetime import date

import pytest
from profile_rows import CONTACT, CRM_CONTACTS, CUSTOMER, ERP_CUSTOMERS, bronze

from c360.profile_fields import person_records_schema
from c360.silver import build_person_records, build_person_table, person_sources

pytestmark = pytest.mark.spark

PROFILE = {
    "lead_source": "Landing Page", "occupation": "Giáo viên", "industry": "GIAO DUC",
    "education": "Thạc sĩ", "marital_status": "đã kết hôn", "device_id": "  dev-ABC-1  ",
    "social_ids": "zalo:0912345678; Facebook = an.nguyen", "profile_owner": " Trần  Bình ",
    "preferred_store": " Store 12 ", "children_count": "2",
}  # fmt: skip


def test_an_extract_without_the_optional_columns_still_builds(spark):
    build = build_person_table(bronze(spark, CRM_CONTACTS, [CONTACT]), person_sources()["crm"])
    [row] = build.rows.collect()
    assert row.contact_id == "C1"
    assert (row.lead_source, row.occupation, row.social_ids, row.device_id) == (None,) * 4
    assert (row.preferred_store, row.children_count) == (None, None)
    assert row.field_issues == []


def test_profile_columns_are_mapped_to_their_codes(spark):
    rows = [CONTACT | PROFILE]
    [row] = build_person_table(
        bronze(spark, CRM_CONTACTS, rows), person_sources()["crm"]
    ).rows.collect()
    assert (row.lead_source, row.occupation, row.industry) == (
        "landing_page", "teacher", "education",
    )  # fmt: skip
    assert (row.education, row.marital_status) == ("master", "married")
    assert row.device_id == "dev-ABC-1"
    assert list(row.social_ids) == ["facebook:an.nguyen", "zalo:0912345678"]
    assert row.profile_owner == "Trần Bình"
    assert (row.preferred_store, row.children_count) == ("Store 12", 2)
    assert row.field_issues == []


def test_unknown_values_are_flagged_with_the_raw_value_kept(spark):
    bad = PROFILE | {
        "occupation": "astronaut", "lead_source": "N/A", "social_ids": "just text",
        "children_count": "two",
    }  # fmt: skip
    build = build_person_table(
        bronze(spark, CRM_CONTACTS, [CONTACT | bad]), person_sources()["crm"]
    )
    [row] = build.rows.collect()
    assert row.occupation is None and row.raw_values["occupation"] == "astronaut"
    assert "occupation: not in the vocabulary (raw kept)" in row.field_issues
    assert row.lead_source is None and "lead_source" not in row.raw_values  # a placeholder
    assert row.social_ids is None and row.raw_values["social_ids"] == "just text"
    assert "social_ids: not network:id pairs (raw kept)" in row.field_issues
    # a bad custom value is nulled and flagged; the record is kept, nothing quarantined
    assert row.children_count is None and row.raw_values["children_count"] == "two"
    assert "children_count: not an integer (raw kept)" in row.field_issues
    assert row.industry == "education"  # the other fields are unaffected
    assert build.rejects.count() == 0


def test_custom_fields_are_typed_per_source(spark):
    erp = CUSTOMER | {"vip_since": "01/02/2024", "occupation": "ky su"}
    bad = CUSTOMER | {"customer_code": "K2", "vip_since": "last year"}
    build = build_person_table(bronze(spark, ERP_CUSTOMERS, [erp, bad]), person_sources()["erp"])
    rows = {r.customer_code: r for r in build.rows.collect()}
    assert rows["K1"].vip_since == date(2024, 2, 1)
    assert rows["K1"].occupation == "engineer"
    assert "preferred_store" not in build.rows.columns  # declared for crm and loyalty only
    assert rows["K2"].vip_since is None
    assert rows["K2"].raw_values["vip_since"] == "last year"
    assert "vip_since: not a date (raw kept)" in rows["K2"].field_issues


def test_person_records_carry_profile_and_custom_fields(spark):
    crm = build_person_table(
        bronze(spark, CRM_CONTACTS, [CONTACT | PROFILE]), person_sources()["crm"]
    ).rows
    erp = build_person_table(
        bronze(spark, ERP_CUSTOMERS, [CUSTOMER | {"vip_since": "2024-02-01"}]),
        person_sources()["erp"],
    ).rows
    records = build_person_records({"crm": crm, "erp": erp})
    assert records.columns == person_records_schema().names
    rows = {r.record_key: r for r in records.collect()}
    assert rows["crm:C1"].lead_source == "landing_page"
    assert rows["crm:C1"].vip_since is None  # the CRM does not land it
    assert rows["erp:K1"].vip_since == date(2024, 2, 1)
    assert rows["erp:K1"].children_count is None


def test_flagged_fields_are_counted_for_the_run_metadata(spark):
    from c360.silver.publish import profile_flag_counts

    bad = CONTACT | {"contact_id": "C2", "occupation": "astronaut", "children_count": "two"}
    rows = [CONTACT | PROFILE, bad]
    build = build_person_table(bronze(spark, CRM_CONTACTS, rows), person_sources()["crm"])
    counts = profile_flag_counts(build.rows)
    assert counts["flagged_occupation"] == 1
    assert counts["flagged_children_count"] == 1
    assert counts["flagged_industry"] == 0 and counts["flagged_social_ids"] == 0
    assert "flagged_vip_since" not in counts  # not an ERP table
