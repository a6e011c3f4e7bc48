"""Bronze accepts extracts with or without the optional and custom columns and keeps an
undeclared column as landed; silver ignores the undeclared one."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from profile_rows import CONTACT

from c360.bronze.ingest import read_day
from c360.contract import CRM_CONTACTS, PROFILE_COLUMNS, SUCCESS_MARKER, day_folder
from c360.silver import build_person_table, person_sources

DAY = date(2026, 11, 1)


def _land(raw, rows: list[dict], name: str) -> None:
    folder = day_folder(raw, "crm", DAY)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (folder / SUCCESS_MARKER).touch()


def test_extracts_with_and_without_the_optional_columns_are_both_read(tmp_path):
    raw = tmp_path / "raw"
    wide = CONTACT | dict.fromkeys(PROFILE_COLUMNS, "") | {
        "contact_id": "C2", "occupation": "Kỹ sư", "children_count": "1", "loyalty_color": "blue",
    }  # fmt: skip
    _land(raw, [CONTACT], "contacts_a.csv")
    _land(raw, [wide], "contacts_b.csv")
    extract = read_day(raw, CRM_CONTACTS, DAY)
    assert extract.rejects.num_rows == 0 and extract.rows.num_rows == 2
    names = extract.rows.schema.names
    assert {*PROFILE_COLUMNS, "children_count", "loyalty_color"} <= set(names)
    rows = {r["contact_id"]: r for r in extract.rows.to_pylist()}
    assert rows["C2"]["loyalty_color"] == "blue"  # undeclared: kept as landed
    assert rows["C1"]["occupation"] is None  # the narrow file simply lacks it


@pytest.mark.spark
def test_silver_ignores_an_undeclared_column(spark, tmp_path):
    raw = tmp_path / "raw"
    _land(raw, [CONTACT | {"occupation": "Kỹ sư", "loyalty_color": "blue"}], "contacts_a.csv")
    bronze = spark.createDataFrame(read_day(raw, CRM_CONTACTS, DAY).rows)
    build = build_person_table(bronze, person_sources()["crm"])
    assert "loyalty_color" not in build.rows.columns
    [row] = build.rows.collect()
    assert row.occupation == "engineer" and row.field_issues == []
