"""The stages of a daily run, in order: one Dagster job each.

`c360 run` executes them one after the other in-process; in a deployment the landing-zone
sensor or the daily schedule starts the first and a run-status sensor starts each next one.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """One step of the daily run: a layer's job, partitioned by landing day or not."""

    name: str
    job_name: str
    partitioned: bool


STAGES: tuple[Stage, ...] = (
    Stage("bronze", "bronze_job", partitioned=True),
    Stage("silver", "silver_job", partitioned=False),
    Stage("identity", "identity_job", partitioned=False),
)
