"""Schedule and sensors: start a run when a landing day completes, nightly at 02:00 in Vietnam,
and chain the stages (each stage's success starts the next stage's job)."""

from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import dagster as dg

from assets.partitions import AS_OF_DATES, LANDING_DAYS, partition_range_tags
from assets.resources import LandingZoneResource
from c360.config import ScheduleSettings
from c360.local_time import as_of_partition_key, default_as_of_date
from pipelines.stages import STAGES, Stage, run_tags

FIRST_STAGE = STAGES[0]


def _range_request(keys: list[str], run_key: str | None, launched_by: str) -> dg.RunRequest:
    """One run over consecutive landing days (single-run backfill), not one run per day."""
    return dg.RunRequest(
        run_key=run_key,
        job_name=FIRST_STAGE.job_name,
        tags=partition_range_tags(keys) | run_tags(FIRST_STAGE.name, launched_by, keys),
    )


@dg.sensor(
    name="landing_zone_sensor",
    job_name=FIRST_STAGE.job_name,
    minimum_interval_seconds=60,
    description="Registers each landing-zone day as soon as it is complete (every source with "
    "files that day has its _SUCCESS marker) and starts one bronze run over all newly completed "
    "days. A day folder not named YYYY-MM-DD fails the tick, naming it.",
)
def landing_zone_sensor(
    context: dg.SensorEvaluationContext, landing_zone: LandingZoneResource
) -> dg.SensorResult | dg.SkipReason:
    zone = landing_zone.scan()
    zone.check_layout()  # the day a misnamed folder stands for cannot be told: fail the tick
    complete = [day.isoformat() for day in zone.complete_days()]
    known = set(context.instance.get_dynamic_partitions(LANDING_DAYS.name))
    new_days = [day for day in complete if day not in known]
    if not new_days:
        waiting = [zone.why_not_complete(day) for day in zone.incomplete_days()]
        return dg.SkipReason(
            f"no new complete day in {landing_zone.root}" + "".join(f"; {w}" for w in waiting)
        )
    return dg.SensorResult(
        run_requests=[
            _range_request(new_days, f"landing:{new_days[0]}:{new_days[-1]}", "landing_zone_sensor")
        ],
        dynamic_partitions_requests=[LANDING_DAYS.build_add_request(new_days)],
    )


def build_daily_schedule(settings: ScheduleSettings) -> dg.ScheduleDefinition:
    """Nightly run of yesterday's landing day (local time), re-running every stage after it."""

    @dg.schedule(
        name="daily_schedule",
        cron_schedule=settings.cron,
        execution_timezone=settings.timezone,
        job_name=FIRST_STAGE.job_name,
        description="Every night: ingest yesterday's landing day (idempotent if the sensor "
        "already did) and rebuild every later stage.",
    )
    def daily_schedule(
        context: dg.ScheduleEvaluationContext, landing_zone: LandingZoneResource
    ) -> dg.RunRequest | dg.SkipReason:
        scheduled = context.scheduled_execution_time or datetime.now(ZoneInfo(settings.timezone))
        local_day = scheduled.astimezone(ZoneInfo(settings.timezone)).date()
        day = (local_day - timedelta(days=1)).isoformat()
        zone = landing_zone.scan()
        if not zone.is_complete(date.fromisoformat(day)):
            reason = zone.why_not_complete(date.fromisoformat(day))
            return dg.SkipReason(f"landing day {day} is not complete yet: {reason}")
        if day not in context.instance.get_dynamic_partitions(LANDING_DAYS.name):
            context.instance.add_dynamic_partitions(LANDING_DAYS.name, [day])
        return _range_request([day], None, "daily_schedule")

    return daily_schedule


def _next_stage_request(
    stage: Stage, context: dg.RunStatusSensorContext
) -> dg.RunRequest | dg.SkipReason:
    """The run request for ``stage`` after a successful run of the previous stage.

    The features stage builds the snapshot as of the day after the latest landing day (its
    ``as_of_date`` partition is registered here).
    """
    run_key = f"after:{context.dagster_run.run_id}"
    upstream_tags = context.dagster_run.tags
    tags = run_tags(stage.name, f"after run {context.dagster_run.run_id}") | {
        k: v for k, v in upstream_tags.items() if k == "c360/landing_days"
    }
    if stage.partitioning != "as_of_date":
        return dg.RunRequest(run_key=run_key, tags=tags)
    instance = context.instance
    landed = [date.fromisoformat(k) for k in instance.get_dynamic_partitions(LANDING_DAYS.name)]
    if not landed:
        return dg.SkipReason("no landing day registered: no as-of date for the features")
    key = as_of_partition_key(default_as_of_date(landed))
    if key not in instance.get_dynamic_partitions(AS_OF_DATES.name):
        instance.add_dynamic_partitions(AS_OF_DATES.name, [key])
    return dg.RunRequest(run_key=run_key, partition_key=key, tags=tags)


def stage_chain_sensors(jobs: dict[str, object]) -> list[dg.RunStatusSensorDefinition]:
    """A sensor per stage boundary: when stage N's job succeeds, run stage N+1's job.

    Args:
        jobs: the stage jobs by name (as defined by the asset modules).
    """
    return [_chain_sensor(up, down, jobs) for up, down in pairwise(STAGES)]


def _chain_sensor(
    upstream: Stage, downstream: Stage, jobs: dict[str, object]
) -> dg.RunStatusSensorDefinition:
    @dg.run_status_sensor(
        name=f"after_{upstream.name}_run_{downstream.name}",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[jobs[upstream.job_name]],
        request_job=jobs[downstream.job_name],
        description=f"Starts {downstream.job_name} when {upstream.job_name} succeeds.",
    )
    def _next_stage(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
        return _next_stage_request(downstream, context)

    return _next_stage
