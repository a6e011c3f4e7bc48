"""The stages of a daily run, in order: one Dagster job each.

`c360 run` executes them one after the other in-process; in a deployment the landing-zone
sensor or the daily schedule starts the first and a run-status sensor starts each next one.
"""

from dataclasses import dataclass
from typing import Literal

# How a stage's job is partitioned: by landing day (a range run over the run's days), by
# as-of date (the snapshot of the day after the run's last day), or not at all.
Partitioning = Literal["landing_day", "as_of_date"] | None


@dataclass(frozen=True)
class Stage:
    """One step of the daily run: a layer's job and how it is partitioned."""

    name: str
    job_name: str
    partitioning: Partitioning = None


STAGES: tuple[Stage, ...] = (
    Stage("bronze", "bronze_job", partitioning="landing_day"),
    # erasures before silver: no rebuilt table brings an erased person back (c360.privacy)
    Stage("privacy", "privacy_job"),
    Stage("silver", "silver_job"),
    Stage("identity", "identity_job"),
    Stage("features", "features_job", partitioning="as_of_date"),
    Stage("segments", "segments_job", partitioning="as_of_date"),
)


def run_tags(stage: str, launched_by: str, landing_days: list[str] | None = None) -> dict[str, str]:
    """Tags every c360 run carries (shown and filterable in the Dagster UI's run list)."""
    tags = {"c360/stage": stage, "c360/launched_by": launched_by}
    if landing_days:
        tags["c360/landing_days"] = f"{min(landing_days)}..{max(landing_days)}"
    return tags
