"""The landing-zone sensor, the nightly schedule and the stage chain, through Dagster's
testing APIs."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.partitions import LANDING_DAYS
from assets.resources import LandingZoneResource
from c360.config import ScheduleSettings
from pipelines.automation import build_daily_schedule, landing_zone_sensor
from pipelines.definitions import build_definitions

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@pytest.fixture
def landing_zone(land):
    land("crm", "2026-11-01", {"contacts.csv": ""})
    land("erp", "2026-11-02", {"customers.jsonl": ""})
    raw = land("crm", "2026-11-03", {"contacts.csv": ""}, complete=False)  # still landing
    return LandingZoneResource(root=str(raw))


def test_sensor_registers_new_complete_days_and_starts_one_bronze_run(landing_zone):
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, resources={"landing_zone": landing_zone})
    result = landing_zone_sensor(context)
    [request] = result.run_requests
    assert request.job_name == "bronze_job"
    # one run over both new days; the incomplete 2026-11-03 is not touched
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-11-01", "2026-11-02")
    assert request.tags["c360/stage"] == "bronze"
    assert request.tags["c360/launched_by"] == "landing_zone_sensor"
    assert request.tags["c360/landing_days"] == "2026-11-01..2026-11-02"
    [added] = result.dynamic_partitions_requests
    assert list(added.partition_keys) == ["2026-11-01", "2026-11-02"]

    instance.add_dynamic_partitions(LANDING_DAYS.name, list(added.partition_keys))
    again = landing_zone_sensor(
        dg.build_sensor_context(instance=instance, resources={"landing_zone": landing_zone})
    )
    assert isinstance(again, dg.SkipReason)


def _schedule_at(local_time: str, landing_zone, instance):
    schedule = build_daily_schedule(ScheduleSettings())
    when = datetime.fromisoformat(local_time).replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"landing_zone": landing_zone}
    )
    return schedule, schedule(context)


def _instance(tmp_path) -> dg.DagsterInstance:
    # A persistent instance (schedule contexts need an instance reference). Not entered as a
    # context manager: Dagster's `instance_for_test` leaves a process-wide defs-state storage
    # pointing at the closed instance, which breaks every later Definitions load.
    home = tmp_path / "dagster_home"
    home.mkdir()
    return dg.DagsterInstance.local_temp(tempdir=str(home))


def test_schedule_runs_yesterdays_day_at_two_in_the_morning_vietnam_time(landing_zone, tmp_path):
    instance = _instance(tmp_path)
    schedule, request = _schedule_at("2026-11-03T02:00:00", landing_zone, instance)
    assert "2026-11-02" in instance.get_dynamic_partitions(LANDING_DAYS.name)
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "0 2 * * *",
        "Asia/Ho_Chi_Minh",
    )
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-11-02", "2026-11-02")


def test_schedule_skips_a_day_that_is_not_complete(landing_zone, tmp_path):
    _, result = _schedule_at("2026-11-04T02:00:00", landing_zone, _instance(tmp_path))
    assert isinstance(result, dg.SkipReason)
    assert "2026-11-03 is not complete" in result.skip_message


@pytest.mark.spark
def test_a_successful_bronze_run_starts_the_privacy_job_then_silver(land, tmp_path, spark):
    # issue 17: the privacy stage (erasures) runs between bronze and silver
    raw = land("crm", "2026-11-01", {"contacts.csv": ""})
    defs = build_definitions({"raw_root": str(raw), "lakehouse_root": str(tmp_path / "lake")})
    instance = _instance(tmp_path)
    instance.add_dynamic_partitions(LANDING_DAYS.name, ["2026-11-01"])
    result = defs.resolve_job_def("bronze_job").execute_in_process(
        instance=instance, partition_key="2026-11-01"
    )
    assert result.success
    sensor = next(s for s in defs.sensors if s.name == "after_bronze_run_privacy")
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=result.get_run_success_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )
    request = sensor(context)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"after:{result.run_id}"
    assert request.tags["c360/stage"] == "privacy"
    assert request.tags["c360/launched_by"] == f"after run {result.run_id}"
    assert [target.job_name for target in sensor.targets] == ["privacy_job"]
    after_privacy = next(s for s in defs.sensors if s.name == "after_privacy_run_silver")
    assert [target.job_name for target in after_privacy.targets] == ["silver_job"]


@pytest.mark.spark
def test_a_successful_identity_run_starts_the_features_snapshot_after_the_last_day(
    land, tmp_path, spark
):
    raw = land("crm", "2026-11-01", {"contacts.csv": ""})
    defs = build_definitions({"raw_root": str(raw), "lakehouse_root": str(tmp_path / "lake")})
    instance = _instance(tmp_path)
    instance.add_dynamic_partitions(LANDING_DAYS.name, ["2026-11-01", "2026-11-02"])
    # A successful identity run, recorded as such (running the stage itself is the e2e test's job).
    run = instance.create_run_for_job(defs.resolve_job_def("identity_job"))
    success = dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name="identity_job"
    )
    instance.report_dagster_event(success, run.run_id)
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.SUCCESS
    sensor = next(s for s in defs.sensors if s.name == "after_identity_run_features")
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=success,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(run.run_id),
    )
    request = sensor(context)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-11-03"  # the day after the last landing day
    assert "2026-11-03" in instance.get_dynamic_partitions("as_of_date")
    assert [target.job_name for target in sensor.targets] == ["features_job"]
