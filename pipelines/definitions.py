"""The c360 code location: merges each layer's definitions with the profile's resources."""

from __future__ import annotations

import dagster as dg

from assets.bronze import bronze_definitions
from assets.features import features_definitions
from assets.identity import identity_definitions
from assets.privacy import privacy_definitions
from assets.resources import build_resources
from assets.segments import segments_definitions
from assets.silver import silver_definitions
from c360.config import Settings, load_settings
from pipelines.automation import build_daily_schedule, landing_zone_sensor, stage_chain_sensors


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded by ``workspace.yaml`` (and by ``c360 run`` in-process)."""
    return build_definitions()


def build_definitions(
    overrides: dict | None = None, settings: Settings | None = None
) -> dg.Definitions:
    """Definitions for ``settings`` (default: the active profile with ``overrides``, e.g. CLI
    flags, applied)."""
    settings = settings or load_settings(overrides=overrides)
    layers = dg.Definitions.merge(
        bronze_definitions(),
        privacy_definitions(),
        silver_definitions(),
        identity_definitions(),
        features_definitions(),
        segments_definitions(),
    )
    jobs = {job.name: job for job in layers.jobs or []}
    automation = dg.Definitions(
        schedules=[build_daily_schedule(settings.schedule)],
        sensors=[landing_zone_sensor, *stage_chain_sensors(jobs)],
        resources=build_resources(settings),
        # One process per run: a multiprocess executor would start a SparkSession per step.
        executor=dg.in_process_executor,
    )
    return dg.Definitions.merge(layers, automation)
