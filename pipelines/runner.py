"""Run every stage in-process through Dagster, for ``c360 run`` and the tests.

Each stage is one Dagster run of a layer's job. Partitioned stages cover all requested
landing days in a single run (single-run backfill policy), so a backfill is one Spark job.
"""

import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from assets.features import FEATURES_JOB
from assets.partitions import AS_OF_DATES, LANDING_DAYS, partition_range_tags
from c360.config import Settings, load_settings
from c360.contract import LandingZoneError, UnknownFilesPolicy, landed_days, scan_landing_zone
from c360.lakehouse import Lakehouse
from c360.local_time import as_of_partition_key, default_as_of_date
from c360.lock import LakehouseLockedError, hold_lakehouse
from c360.memory import release_unused_memory
from c360.tables import FEATURE_INPUT_TABLES, OPTIONAL_FEATURE_INPUTS, Table
from pipelines.definitions import build_definitions
from pipelines.stages import STAGES, Stage, run_tags
from quality.expectations import validate_quality_config
from resolution.evaluation import TRUTH_FILE

log = logging.getLogger(__name__)


# Dagster's console logger at WARNING: the runner prints one progress line per stage instead.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class RunFailure(RuntimeError):
    """A stage failed; the message is the one-line reason shown to the user."""


def _hold(settings: Settings, owner: str):
    """The lakehouse lock for one ``c360`` command (see :mod:`c360.lock` and conf ``lock:``)."""
    return hold_lakehouse(
        settings.lakehouse_root,
        run_id=uuid.uuid4().hex,
        owner=owner,
        lease_seconds=settings.lock.lease_seconds,
        timeout_seconds=settings.lock.timeout_seconds,
        poll_seconds=settings.lock.poll_seconds,
    )


def _require_truth(settings: Settings) -> None:
    """A configured truth folder must hold the truth table: fail before any stage runs."""
    if settings.truth_root is not None and not (settings.truth_root / TRUTH_FILE).is_file():
        raise RunFailure(
            f"no truth table {settings.truth_root / TRUTH_FILE} (expected columns "
            "source_system, source_record_id, person_id): pass the folder `c360 generate` "
            "wrote the truth to (--truth), or leave --truth / C360_TRUTH unset"
        )


@dataclass
class AssetOutcome:
    asset: str
    metadata: dict[str, Any]


@dataclass
class StageOutcome:
    stage: str
    seconds: float
    assets: list[AssetOutcome] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: int = 0


@dataclass
class RunSummary:
    days: list[date]
    stages: list[StageOutcome]
    # landing-zone warnings (unknown files under landing.unknown_files: warn, incomplete days
    # left out, days removed after ingestion) and those the assets report in their metadata
    warnings: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages)


def _metadata_value(value: Any) -> Any:
    return getattr(value, "value", value)


def _failure_reason(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and error.cls_name in {
                "DagsterExecutionStepExecutionError",
                "DagsterUserCodeExecutionError",
            }:
                error = error.cause
            message = " ".join(error.message.split()) if error.message else error.cls_name
            failed_checks = [
                f"{e.asset_check_key.name}: {e.description}"
                for e in result.get_asset_check_evaluations()
                if not e.passed and e.description
            ]
            return f"{event.step_key}: {message[:400]}" + "".join(
                f" ({check[:300]})" for check in failed_checks
            )
    return "the run failed (see the Dagster event log)"


def _stage_outcome(name: str, seconds: float, result: dg.ExecuteInProcessResult) -> StageOutcome:
    """What one job run materialised (metadata per asset) and how its checks went."""
    outcome = StageOutcome(name, seconds)
    by_asset: dict[str, AssetOutcome] = {}
    for event in result.get_asset_materialization_events():
        # a range run records one materialisation per partition, all with run-level metadata
        materialization = event.event_specific_data.materialization
        asset = materialization.asset_key.to_user_string()
        metadata = {k: _metadata_value(v) for k, v in materialization.metadata.items()}
        by_asset[asset] = AssetOutcome(asset, metadata)
    outcome.assets = list(by_asset.values())
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            outcome.checks_passed += 1
        else:
            outcome.checks_failed += 1
    return outcome


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs show in `dagster dev`)."""
    return (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )


def run_pipeline(
    overrides: dict | None = None,
    days: Sequence[date] | None = None,
    progress: Callable[[str], None] = lambda line: None,
    stages: Sequence[str] | None = None,
) -> RunSummary:
    """Materialise every stage for ``days`` (default: every complete landing-zone day).

    Bronze ingests ``days`` in one range run; silver and identity rebuild from all of bronze;
    features build the snapshot as of the day after the last of ``days``.

    The run holds the lakehouse lock (:mod:`c360.lock`) from the first stage to the last.

    Raises:
        RunFailure: no complete day to run, an unknown stage, a configured truth folder without
            its truth table, the lakehouse locked by another run, or a stage failed (with the
            step's reason).

    ``stages`` limits the run to those stage names (in run order), e.g. ``["bronze", "silver"]``.
    """
    known_stages = [s.name for s in STAGES]
    if unknown := sorted(set(stages or []) - set(known_stages)):
        raise RunFailure(f"unknown stages {unknown}; the stages are {known_stages}")
    selected = [s for s in STAGES if stages is None or s.name in stages]
    settings = load_settings(overrides=overrides)
    validate_quality_config()  # conf/expectations.yaml, conf/values.yaml: before any write
    days, warnings = _landing_days(settings.raw_root, days, settings.landing.unknown_files)
    _require_truth(settings)
    try:
        with _hold(settings, "c360 run"):
            return _run_stages(settings, days, selected, progress, warnings)
    except LakehouseLockedError as exc:
        raise RunFailure(str(exc)) from exc


@dataclass(frozen=True)
class _JobRun:
    """One in-process run of a job: what it is called in progress lines and errors."""

    stage: str  # shown in progress lines: "[1/4] bronze: running"
    label: str  # the outcome's name: the stage, or "as of <date>" for a snapshot
    job_name: str
    scope: str  # shown after "running", e.g. " (2 days)"
    tags: dict[str, str]
    partition_key: str | None = None
    failure: str = ""  # the start of the failure message, e.g. "stage silver"


def _execute(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    runs: list[_JobRun],
    progress: Callable[[str], None],
) -> list[StageOutcome]:
    """Execute ``runs`` one after the other; stop at the first failure.

    Raises:
        RunFailure: a run failed (``<failure> failed: <the step's reason>``).
    """
    outcomes = []
    for number, run in enumerate(runs, start=1):
        prefix = f"[{number}/{len(runs)}] {run.stage}"
        progress(f"{prefix}: running{run.scope}")
        started = time.perf_counter()
        result = defs.resolve_job_def(run.job_name).execute_in_process(
            instance=instance,
            run_config=QUIET_RUN_CONFIG,
            tags=run.tags,
            partition_key=run.partition_key,
            raise_on_error=False,
        )
        outcome = _stage_outcome(run.label, time.perf_counter() - started, result)
        outcomes.append(outcome)
        if not result.success:
            raise RunFailure(f"{run.failure} failed: {_failure_reason(result)}")
        del result
        release_unused_memory()  # a stage's freed memory, before the next stage starts
        progress(f"{prefix}: done in {outcome.seconds:.1f} s, {len(outcome.assets)} assets")
    return outcomes


def _add_partitions(instance: dg.DagsterInstance, name: str, keys: list[str]) -> None:
    """Register the dynamic partitions ``keys`` of ``name`` not registered yet."""
    known = set(instance.get_dynamic_partitions(name))
    instance.add_dynamic_partitions(name, [k for k in dict.fromkeys(keys) if k not in known])


def _run_stages(
    settings: Settings,
    days: list[date],
    selected: list[Stage],
    progress: Callable[[str], None],
    warnings: list[str],
) -> RunSummary:
    """Run ``selected`` stages over ``days`` (the caller holds the lakehouse lock).

    ``warnings`` are the landing zone's; the assets' own are added to them.
    """
    instance = _instance()
    keys = [d.isoformat() for d in days]
    _add_partitions(instance, LANDING_DAYS.name, keys)
    ordered = [k for k in instance.get_dynamic_partitions(LANDING_DAYS.name) if k in set(keys)]
    as_of_key = as_of_partition_key(default_as_of_date(days))
    if any(s.partitioning == "as_of_date" for s in selected):
        _add_partitions(instance, AS_OF_DATES.name, [as_of_key])
    runs = [
        _JobRun(
            stage=stage.name,
            label=stage.name,
            job_name=stage.job_name,
            scope={
                "landing_day": f" ({len(days)} days)",
                "as_of_date": f" (as of {as_of_key})",
            }.get(stage.partitioning or "", ""),
            tags=run_tags(stage.name, "c360 run", keys)
            | (partition_range_tags(ordered) if stage.partitioning == "landing_day" else {}),
            partition_key=as_of_key if stage.partitioning == "as_of_date" else None,
            failure=f"stage {stage.name}",
        )
        for stage in selected
    ]
    outcomes = _execute(build_definitions(settings=settings), instance, runs, progress)
    for asset in (a for stage_outcome in outcomes for a in stage_outcome.assets):
        listed = asset.metadata.get("warnings")  # a list of lines (bronze), when reported
        warnings += [str(w) for w in listed] if isinstance(listed, list) else []
    return RunSummary(days=list(days), stages=outcomes, warnings=list(dict.fromkeys(warnings)))


def _landing_days(
    raw_root: Path, days: Sequence[date] | None, unknown_files: UnknownFilesPolicy
) -> tuple[list[date], list[str]]:
    """The days to run (default: every complete day) and the landing zone's warnings.

    Raises:
        RunFailure: the landing zone breaks the contract (badly named day folder, unknown file
            under ``error``), a requested day is not complete, or no day is.
    """
    zone = scan_landing_zone(raw_root)
    try:
        zone.check_layout()  # first: a misnamed folder may be the missing day
        complete = zone.complete_days()
        if not complete and not days:
            raise RunFailure(
                f"no complete day in the landing zone {raw_root}: expected folders "
                "<source>/<YYYY-MM-DD>/ holding a _SUCCESS marker (try `c360 generate`)"
                + "".join(f"; {zone.why_not_complete(d)}" for d in zone.incomplete_days())
            )
        chosen = sorted(days) if days else complete
        warnings = zone.check(chosen, unknown_files)
    except LandingZoneError as exc:
        raise RunFailure(str(exc)) from exc
    skipped = [zone.why_not_complete(d) for d in zone.incomplete_days() if d not in chosen]
    return chosen, [*warnings, *skipped]


# The stage that writes a feature input, by its layer (the gold inputs are identity's tables).
FEATURE_INPUT_STAGE_BY_LAYER = {"silver": "silver", "gold": "identity"}


def _writer_stage(table: Table) -> str:
    return FEATURE_INPUT_STAGE_BY_LAYER[table.layer]


def _require_feature_inputs(lakehouse_root: Path) -> None:
    """Fail naming the missing input tables and the stages to run first."""
    # reads the Delta logs only: no Spark session needed to tell whether the tables exist
    lake = Lakehouse(lakehouse_root, spark=None, writer="delta-rs")
    missing = [
        table
        for table in FEATURE_INPUT_TABLES
        if table not in OPTIONAL_FEATURE_INPUTS and not lake.exists(table)
    ]
    if missing:
        stages = sorted({_writer_stage(t) for t in missing}, key=[s.name for s in STAGES].index)
        raise RunFailure(
            f"features need {', '.join(t.qualified_name for t in missing)} (written by the "
            f"{' and '.join(stages)} stages), missing under {lakehouse_root}: run "
            "`c360 run --stages bronze,silver,identity` (or `c360 run`) on this lakehouse first"
        )


def build_feature_snapshots(
    overrides: dict | None = None,
    as_of_dates: Sequence[date] = (),
    progress: Callable[[str], None] = lambda line: None,
) -> RunSummary:
    """Build (or rebuild) the ``gold/customer_features`` snapshot of each date in ``as_of_dates``.

    For training sets on past dates: the snapshot for D reads only events dated before D. Each
    date is registered as an ``as_of_date`` partition and built by one ``features_job`` run;
    an existing snapshot for that date is replaced, the others are kept. The silver and
    identity tables must already be in the lakehouse (``c360 run``).

    Example:
        >>> build_feature_snapshots({"lakehouse_root": "/data/lake"}, [date(2026, 10, 1)])

    Holds the lakehouse lock (:mod:`c360.lock`) while it builds.

    Raises:
        RunFailure: no date, a date after the day following the last complete landing day,
            missing input tables, the lakehouse locked by another run, or a failed run (with
            the step's reason).
    """
    if not as_of_dates:
        raise RunFailure("no as-of date given: pass one or more YYYY-MM-DD dates")
    settings = load_settings(overrides=overrides)
    dates = sorted(set(as_of_dates))
    complete = landed_days(settings.raw_root)
    if not complete:
        raise RunFailure(
            f"no complete day in the landing zone {settings.raw_root}: it tells which days the "
            "lakehouse holds (pass --raw or set C360_RAW to the landing zone of the lakehouse)"
        )
    latest = default_as_of_date(complete)
    if too_late := [d for d in dates if d > latest]:
        raise RunFailure(
            f"as-of dates {[d.isoformat() for d in too_late]} are after {latest}, the day after "
            "the last complete landing day: their windows would count days not landed yet"
        )
    _require_feature_inputs(settings.lakehouse_root)
    try:
        with _hold(settings, "c360 features"):
            return _build_snapshots(settings, dates, progress)
    except LakehouseLockedError as exc:
        raise RunFailure(str(exc)) from exc


def _build_snapshots(
    settings: Settings, dates: list[date], progress: Callable[[str], None]
) -> RunSummary:
    """One ``features_job`` run per date (the caller holds the lakehouse lock)."""
    instance = _instance()
    keys = [as_of_partition_key(d) for d in dates]
    _add_partitions(instance, AS_OF_DATES.name, keys)
    runs = [
        _JobRun(
            stage="features",
            label=f"as of {key}",
            job_name=FEATURES_JOB.name,
            scope=f" (as of {key})",
            tags=run_tags("features", "c360 features"),
            partition_key=key,
            failure=f"snapshot as of {key}",
        )
        for key in keys
    ]
    outcomes = _execute(build_definitions(settings=settings), instance, runs, progress)
    return RunSummary(days=dates, stages=outcomes)
