"""The landing zone read strictly and loudly (issue 14): day folder names, file names,
complete days, days removed after ingestion. Each case on a small crafted landing zone."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.bronze import BRONZE_ASSETS
from assets.partitions import LANDING_DAYS
from assets.resources import LandingZoneResource, build_resources
from c360.bronze import IngestError, read_day
from c360.config import ConfigError, ScheduleSettings, load_settings
from c360.contract import (
    CRM_CONTACTS,
    ERP_CUSTOMERS,
    LOYALTY_MEMBERS,
    LandingZoneError,
    landed_days,
    parse_day_folder,
    scan_landing_zone,
)
from c360.lakehouse import Lakehouse
from c360.tables import BRONZE_TABLES
from pipelines.automation import build_daily_schedule, landing_zone_sensor
from pipelines.cli import main
from pipelines.runner import RunFailure, run_pipeline

DAY, NEXT_DAY = "2026-11-01", "2026-11-02"
CRM_HEADER = ",".join(CRM_CONTACTS.required_columns)
MEMBERS_HEADER = ",".join(LOYALTY_MEMBERS.required_columns)


def contacts(*ids: str) -> str:
    rows = [
        f"{i},Lê Thị Hồng,Nữ,1990-05-06,0901234567,,,,Đà Nẵng,2026-01-01,2026-01-01" for i in ids
    ]
    return "\n".join([CRM_HEADER, *rows]) + "\n"


def members(*ids: str) -> str:
    rows = [
        f"{i},CARD{i},Lê Hồng,0901234567,,1990-05-06,Nữ,gold,active,2026-01-01,2026-01-01"
        for i in ids
    ]
    return "\n".join([MEMBERS_HEADER, *rows]) + "\n"


def overrides(raw: Path, tmp_path: Path, **extra: object) -> dict:
    return {"raw_root": str(raw), "lakehouse_root": str(tmp_path / "lake")} | extra


# ---- day folders: exactly YYYY-MM-DD ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("2025-10-3", "is not named YYYY-MM-DD"),  # was read as 2025-10-03, then 0 rows
        ("2025-1-03", "is not named YYYY-MM-DD"),
        ("20251003", "is not named YYYY-MM-DD"),
        ("2025-10-03 ", "is not named YYYY-MM-DD"),
        ("latest", "is not named YYYY-MM-DD"),
        ("2025-13-01", "is not a calendar date"),
        ("2025-02-30", "is not a calendar date"),
    ],
)
def test_a_day_folder_must_be_exactly_yyyy_mm_dd(name, problem):
    with pytest.raises(LandingZoneError, match=problem):
        parse_day_folder(name)


def test_a_well_named_day_folder_is_its_day():
    assert parse_day_folder("2025-10-03") == date(2025, 10, 3)


def test_a_badly_named_day_folder_stops_the_run_naming_the_folder(land, tmp_path, capsys):
    raw = land("crm", "2025-10-3", {"contacts.csv": contacts("C1")})
    zone = scan_landing_zone(raw)
    assert zone.layout_errors == [
        "crm/2025-10-3/: day folder '2025-10-3' is not named YYYY-MM-DD (e.g. 2025-10-03); "
        "rename it (its files are not read until then)"
    ]
    assert landed_days(raw) == []  # not a day: never read as 2025-10-03
    # before: "c360 run" reported day 2025-10-03, ingested 0 rows and exited 0
    code = main(["run", "--raw", str(raw), "--lakehouse", str(tmp_path / "lake")])
    err = capsys.readouterr().err
    assert code == 1
    assert "crm/2025-10-3/: day folder '2025-10-3' is not named YYYY-MM-DD" in err
    assert not (tmp_path / "lake").exists()  # nothing started, nothing written


def test_a_badly_named_folder_fails_the_run_of_any_day_and_the_sensor(land, tmp_path):
    land("crm", DAY, {"contacts.csv": contacts("C1")})
    raw = land("erp", "2025-13-01", {"customers.jsonl": ""})
    with pytest.raises(RunFailure, match=r"erp/2025-13-01/: day folder '2025-13-01' is not a"):
        run_pipeline(overrides(raw, tmp_path), days=[date(2026, 11, 1)])
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"landing_zone": LandingZoneResource(root=str(raw))},
    )
    with pytest.raises(LandingZoneError, match=r"erp/2025-13-01/"):
        landing_zone_sensor(context)


# ---- file names: a file no pattern matches is an error, or a listed warning -------------------


@pytest.mark.parametrize(
    "name",
    ["Contacts_1.csv", "contacts.CSV", "crm_contacts_1.csv", "members.csv", "contacts.csv.gz"],
)
def test_a_file_matching_no_pattern_of_its_source_is_an_error_naming_file_and_patterns(land, name):
    raw = land("crm", DAY, {"contacts.csv": contacts("C1"), name: contacts("C2")})
    expected = (
        f"crm/{DAY}/{name}: a file that matches no file pattern of source 'crm' (contacts*.csv; "
        "names are case-sensitive): rename or move it, or set landing.unknown_files: warn"
    )
    with pytest.raises(IngestError, match=re.escape(expected)):
        read_day(raw, CRM_CONTACTS, date(2026, 11, 1))
    with pytest.raises(LandingZoneError, match=f"crm/{DAY}/{name}: a file that matches no"):
        scan_landing_zone(raw).check([date(2026, 11, 1)])


def test_under_warn_an_unknown_file_is_listed_and_the_rest_is_read(land):
    raw = land("crm", DAY, {"contacts.csv": contacts("C1"), "Contacts_1.csv": contacts("C2")})
    extract = read_day(raw, CRM_CONTACTS, date(2026, 11, 1), unknown_files="warn")
    assert extract.rows.column("contact_id").to_pylist() == ["C1"]
    [warning] = extract.warnings
    assert warning.startswith(f"crm/{DAY}/Contacts_1.csv: a file that matches no file pattern")
    assert scan_landing_zone(raw).check([date(2026, 11, 1)], "warn") == [warning]


def test_a_folder_inside_a_day_folder_and_an_unknown_source_are_reported(land):
    raw = land("crm", DAY, {"contacts.csv": contacts("C1")})
    (raw / "crm" / DAY / "old").mkdir()
    land("CRM", DAY, {"contacts.csv": contacts("C2")})
    (raw / "notes.txt").write_text("hello")
    warnings = scan_landing_zone(raw).check([date(2026, 11, 1)], "warn")
    assert [w.split(":")[0] for w in warnings] == ["CRM", "notes.txt", f"crm/{DAY}/old"]
    assert (
        "a folder that is not a source folder (sources: crm, erp, transactions, loyalty, consent, "
        "engagement, service)" in (warnings[0])
    )
    with pytest.raises(LandingZoneError, match="3 problems in the landing zone"):
        scan_landing_zone(raw).check([date(2026, 11, 1)], "error")


def test_the_unknown_files_setting_is_validated_at_load():
    with pytest.raises(ConfigError, match=r"landing\.unknown_files: Input should be 'error' or"):
        load_settings(
            environ={}, overrides={"raw_root": "r", "lakehouse_root": "l",
                                   "landing": {"unknown_files": "ignore"}},
        )  # fmt: skip
    assert load_settings(environ={}).landing.unknown_files == "error"  # the default


# ---- a day is complete only when every source with files has its _SUCCESS -------------------


def test_a_day_with_one_source_still_landing_is_not_complete(land):
    land("crm", DAY, {"contacts.csv": contacts("C1")})
    land("erp", DAY, {}, complete=True)  # a marker and no file: complete, nothing to read
    raw = land("loyalty", DAY, {"members.csv": members("M1")}, complete=False)
    land("crm", NEXT_DAY, {"contacts.csv": contacts("C2")})
    zone = scan_landing_zone(raw)
    assert zone.complete_days() == [date(2026, 11, 2)]
    assert zone.incomplete_days() == [date(2026, 11, 1)]
    assert zone.waiting_sources(date(2026, 11, 1)) == ["loyalty"]
    # the complete source of that day is refused too: nothing of the day lands
    with pytest.raises(IngestError, match=f"{DAY}: day not complete, _SUCCESS missing in loyalty/"):
        read_day(raw, CRM_CONTACTS, date(2026, 11, 1))
    assert landed_days(raw, "crm") == [date(2026, 11, 2)]


def test_the_sensor_waits_for_every_source_of_a_day(land):
    land("crm", DAY, {"contacts.csv": contacts("C1")})
    raw = land("erp", DAY, {"customers.jsonl": ""}, complete=False)
    resource = LandingZoneResource(root=str(raw))
    instance = dg.DagsterInstance.ephemeral()
    result = landing_zone_sensor(
        dg.build_sensor_context(instance=instance, resources={"landing_zone": resource})
    )
    # before: the crm marker alone registered the day and started a bronze run
    assert isinstance(result, dg.SkipReason)
    assert f"{DAY}: day not complete, _SUCCESS missing in erp/{DAY}/" in result.skip_message
    (raw / "erp" / DAY / "_SUCCESS").touch()
    result = landing_zone_sensor(
        dg.build_sensor_context(instance=instance, resources={"landing_zone": resource})
    )
    [request] = result.run_requests
    assert request.tags["c360/landing_days"] == f"{DAY}..{DAY}"


def test_the_schedule_skips_a_day_one_source_has_not_finished(land, tmp_path):
    land("crm", DAY, {"contacts.csv": contacts("C1")})
    raw = land("loyalty", DAY, {"members.csv": members("M1")}, complete=False)
    home = tmp_path / "dagster_home"
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(tempdir=str(home))
    schedule = build_daily_schedule(ScheduleSettings())
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2026, 11, 2, 2, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
        resources={"landing_zone": LandingZoneResource(root=str(raw))},
    )
    result = schedule(context)
    assert isinstance(result, dg.SkipReason)
    assert f"_SUCCESS missing in loyalty/{DAY}/" in result.skip_message


@pytest.mark.spark
def test_an_incomplete_day_commits_nothing_to_bronze(land, tmp_path, spark):
    land("crm", DAY, {"contacts.csv": contacts("C1", "C2")})
    raw = land("loyalty", DAY, {"members.csv": members("M1")}, complete=False)
    with pytest.raises(RunFailure, match=f"_SUCCESS missing in loyalty/{DAY}/"):
        run_pipeline(overrides(raw, tmp_path), days=[date(2026, 11, 1)], stages=["bronze"])
    # the bronze asset itself (as the UI or the sensor would launch it) refuses the day too
    settings = load_settings(environ={}, overrides=overrides(raw, tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(LANDING_DAYS.name, [DAY])
    result = dg.materialize(
        BRONZE_ASSETS, instance=instance, resources=build_resources(settings), partition_key=DAY,
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    lake = Lakehouse(settings.lakehouse_root, spark)
    assert not any(lake.exists(table) for table in BRONZE_TABLES.values())  # not even crm


@pytest.mark.spark
def test_a_run_of_every_day_leaves_out_an_incomplete_one_and_says_so(land, tmp_path, spark):
    land("crm", DAY, {"contacts.csv": contacts("C1")})
    land("crm", NEXT_DAY, {"contacts.csv": contacts("C2")})
    raw = land("erp", NEXT_DAY, {"customers.jsonl": ""}, complete=False)
    summary = run_pipeline(overrides(raw, tmp_path), stages=["bronze"])
    assert summary.days == [date(2026, 11, 1)]
    assert summary.warnings == [
        f"{NEXT_DAY}: day not complete, _SUCCESS missing in erp/{NEXT_DAY}/ (the extract job "
        "writes it last: wait for it, or write it once the files are all there); nothing of "
        "this day is ingested until then"
    ]
    lake = Lakehouse(tmp_path / "lake", spark)
    days = {r._ingest_date for r in lake.read(BRONZE_TABLES["crm_contacts"]).collect()}
    assert days == {date(2026, 11, 1)}


@pytest.mark.spark
def test_under_warn_unknown_files_reach_the_run_summary_and_the_metadata(land, tmp_path, capsys):
    land("crm", DAY, {"contacts.csv": contacts("C1", "C2"), "contacts.CSV": contacts("C3")})
    raw = land("crm2", DAY, {"contacts.csv": contacts("C4")})
    settings = overrides(raw, tmp_path, landing={"unknown_files": "warn"})
    with pytest.raises(RunFailure, match=r"crm/2026-11-01/contacts\.CSV: a file that matches"):
        run_pipeline(overrides(raw, tmp_path), stages=["bronze"])  # the default: error
    summary = run_pipeline(settings, stages=["bronze"])
    assert [w.split(":")[0] for w in summary.warnings] == ["crm2", f"crm/{DAY}/contacts.CSV"]
    assets = {a.asset: a.metadata for a in summary.stages[0].assets}
    crm = assets["bronze/crm_contacts"]
    assert crm["warnings"] == summary.warnings  # the root's, and its own source's
    assert assets["bronze/erp_customers"]["warnings"] == summary.warnings[:1]
    assert (crm["rows"], crm["rows_quarantined"]) == (2, 0)
    from pipelines.cli import format_summary

    assert f"warning: crm/{DAY}/contacts.CSV: a file that matches" in format_summary(summary)


# ---- a day removed from the landing zone after ingestion is reported --------------------------


@pytest.mark.spark
def test_a_day_removed_after_ingestion_is_kept_in_bronze_and_reported(land, tmp_path, spark):
    land("crm", DAY, {"contacts.csv": contacts("C1", "C2")})
    land("erp", DAY, {"customers.jsonl": ""})
    raw = land("crm", NEXT_DAY, {"contacts.csv": contacts("C3")})
    run_pipeline(overrides(raw, tmp_path), stages=["bronze"])
    shutil.rmtree(raw / "crm" / DAY)  # crm's folder of the first day goes; erp's stays

    summary = run_pipeline(overrides(raw, tmp_path), stages=["bronze"])
    expected = (
        f"bronze.crm_contacts holds 2 rows of day {DAY}, but crm/{DAY}/ is no longer in the "
        "landing zone: kept as they are (restore the folder and re-run the day, or delete that "
        "partition deliberately)"
    )
    assert summary.warnings == [expected]
    crm = next(a for a in summary.stages[0].assets if a.asset == "bronze/crm_contacts")
    assert crm.metadata["warnings"] == [expected]
    assert crm.metadata["rows_kept"] == 2  # the day was run again: its rows were not emptied
    lake = Lakehouse(tmp_path / "lake", spark)
    assert lake.count(BRONZE_TABLES["crm_contacts"]) == 3
    assert lake.exists(BRONZE_TABLES[ERP_CUSTOMERS.name])

    shutil.rmtree(raw / "erp" / DAY)  # now the whole day is gone: asking for it is an error
    with pytest.raises(RunFailure, match=f"{DAY}: not in the landing zone"):
        run_pipeline(overrides(raw, tmp_path), days=[date(2026, 11, 1)], stages=["bronze"])
    summary = run_pipeline(overrides(raw, tmp_path), stages=["bronze"])
    assert summary.days == [date(2026, 11, 2)]
    assert summary.warnings == [expected]


@pytest.mark.spark
def test_a_file_removed_from_an_ingested_day_is_reported_when_the_day_is_replaced(land, rs_lake):
    from c360.bronze import ingest_day

    raw = land("crm", DAY, {"contacts.csv": contacts("C1"), "contacts_2.csv": contacts("C2", "C3")})
    first = ingest_day(rs_lake, raw, CRM_CONTACTS, date(2026, 11, 1))
    assert (first.rows_bronze, first.warnings) == (3, ())
    (raw / "crm" / DAY / "contacts_2.csv").unlink()
    again = ingest_day(rs_lake, raw, CRM_CONTACTS, date(2026, 11, 1))
    assert again.warnings == (
        f"bronze.crm_contacts: the 2 rows of crm/{DAY}/contacts_2.csv are replaced by this run: "
        f"the file is no longer in the landing zone (day {DAY})",
    )
    assert rs_lake.count(BRONZE_TABLES["crm_contacts"]) == 1
