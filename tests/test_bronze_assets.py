"""Bronze assets through Dagster: partitioned materialisation, and `c360 run` end to end."""

from datetime import date

import dagster as dg
import pytest

from assets.bronze import BRONZE_ASSETS
from assets.partitions import LANDING_DAYS
from assets.resources import build_resources
from c360.config import load_settings
from c360.contract import CRM_CONTACTS, LOYALTY_MEMBERS, LOYALTY_POINTS
from c360.lakehouse import Lakehouse
from c360.tables import BRONZE_TABLES, QUARANTINE_REJECTS
from pipelines.cli import main
from pipelines.stages import STAGES

pytestmark = pytest.mark.spark

CRM_HEADER = ",".join(CRM_CONTACTS.required_columns)
POINTS_HEADER = ",".join(LOYALTY_POINTS.required_columns)


def crm_day(*ids: str, broken: int = 0) -> str:
    rows = [
        f"{i},Lê Thị Hồng,Nữ,1990-05-06,0901234567,,,,Đà Nẵng,2026-01-01,2026-01-01" for i in ids
    ]
    rows += ["truncated,row"] * broken
    return "\n".join([CRM_HEADER, *rows]) + "\n"


@pytest.fixture
def two_days(land):
    land("crm", "2026-11-01", {"contacts.csv": crm_day("C1", "C2", broken=1)})
    land("crm", "2026-11-02", {"contacts.csv": crm_day("C3")})
    member = "M1,CARD1,Lê Thị Hồng,0901234567,,1990-05-06,Nữ,gold,active,2026-01-01,2026-01-01"
    files = {
        "points.csv": POINTS_HEADER + "\nE1,M1,2026-11-02,earn,5,\n",
        "members.csv": ",".join(LOYALTY_MEMBERS.required_columns) + "\n" + member + "\n",
    }
    return land("loyalty", "2026-11-02", files)


def test_materialising_a_partition_range_in_one_run(two_days, tmp_path, spark):
    settings = load_settings(
        environ={}, overrides={"raw_root": str(two_days), "lakehouse_root": str(tmp_path / "lake")}
    )
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(LANDING_DAYS.name, ["2026-11-01", "2026-11-02"])
    result = dg.materialize(
        BRONZE_ASSETS,
        instance=instance,
        resources=build_resources(settings),
        tags={
            "dagster/asset_partition_range_start": "2026-11-01",
            "dagster/asset_partition_range_end": "2026-11-02",
        },
    )
    assert result.success
    # One run covered both days (single-run backfill policy).
    assert len(instance.get_runs()) == 1
    # One materialisation per partition; the metadata covers the whole run (both days).
    materializations = result.asset_materializations_for_node("bronze__crm_contacts")
    assert sorted(m.partition for m in materializations) == ["2026-11-01", "2026-11-02"]
    crm = materializations[0].metadata
    assert crm["days"].value == "2026-11-01, 2026-11-02"
    assert crm["rows_read"].value == 4
    assert crm["rows"].value == 3
    assert crm["rows_quarantined"].value == 1
    assert crm["rows_accounted"].value is True
    assert crm["lines_read"].value == 6  # header + 3 lines, header + 1 line: counted in the bytes
    assert crm["warnings"].value == []
    assert "| crm/2026-11-01/contacts.csv | 4 | 2 | 1 |" in crm["files_accounting"].value

    lake = Lakehouse(settings.lakehouse_root, spark)
    days = sorted(r._ingest_date for r in lake.read(BRONZE_TABLES["crm_contacts"]).collect())
    assert days == [date(2026, 11, 1)] * 2 + [date(2026, 11, 2)]
    # erp landed nothing: an empty table, not a crash
    assert lake.count(BRONZE_TABLES["erp_customers"]) == 0
    assert lake.count(BRONZE_TABLES["loyalty_members"]) == 1


def test_c360_run_materialises_every_complete_day_and_summarises(two_days, tmp_path, capsys):
    lake_root = tmp_path / "lake"
    argv = ["run", "--raw", str(two_days), "--lakehouse", str(lake_root)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    stages = len(STAGES)
    assert f"[1/{stages}] bronze: running (2 days)" in out
    assert f"[2/{stages}] privacy: done" in out  # issue 17: erasures between bronze and silver
    assert f"[3/{stages}] silver: running" in out
    # the identity stage runs on tiny extracts too (EM sessions without pairs are skipped)
    assert f"[4/{stages}] identity: done" in out
    assert "c360 run: 2 days (2026-11-01 .. 2026-11-02)" in out
    crm_line = next(line for line in out.splitlines() if line.startswith("bronze/crm_contacts"))
    assert crm_line.split()[1:] == ["3", "1"]  # rows in the table, rows quarantined

    # Re-running the same days leaves the landed tables' row counts unchanged (every table's:
    # tests/test_pipeline_e2e.py).
    assert main([*argv, "--stages", "bronze"]) == 0
    capsys.readouterr()
    from deltalake import DeltaTable

    assert len(DeltaTable(str(lake_root / "bronze" / "crm_contacts")).to_pyarrow_table()) == 3
    assert len(DeltaTable(str(lake_root / "quarantine" / "rejects")).to_pyarrow_table()) == 1
    assert QUARANTINE_REJECTS.qualified_name == "quarantine.rejects"


def test_c360_run_fails_with_a_one_line_reason(land, tmp_path, capsys):
    raw = land("crm", "2026-11-01", {"contacts.csv": "contact_id,full_name\nC1,X\n"})
    assert main(["run", "--raw", str(raw), "--lakehouse", str(tmp_path / "lake")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("c360 run failed: stage bronze failed: bronze__crm_contacts:")
    assert "missing required columns" in err[-1]


def test_c360_run_on_an_empty_landing_zone_says_what_is_expected(tmp_path, capsys):
    assert main(["run", "--raw", str(tmp_path / "none"), "--lakehouse", str(tmp_path / "l")]) == 1
    assert "no complete day in the landing zone" in capsys.readouterr().err
