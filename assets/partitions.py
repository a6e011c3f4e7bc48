"""Partitions shared by the assets, defined once."""

from __future__ import annotations

import dagster as dg

# One partition per landing-zone day (YYYY-MM-DD). Days are added as they complete (by the
# sensor, the schedule or `c360 run`), so the partitions start at the earliest landed day.
LANDING_DAYS = dg.DynamicPartitionsDefinition(name="landing_day")

# One partition per feature snapshot day (c360.local_time.as_of_partition_key), added when a run
# asks for it. Dynamic rather than daily: the first day depends on the data, not the code.
AS_OF_DATES = dg.DynamicPartitionsDefinition(name="as_of_date")

# The run tags that make one run cover a range of partitions (a single-run backfill). Dagster
# 1.13 has no public name for them (only dagster._core.storage.tags), so their values are
# spelled here, once; tests/test_definitions.py checks them against Dagster's own.
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def partition_range_tags(keys: list[str]) -> dict[str, str]:
    """Tags of one run over the partitions ``keys[0] .. keys[-1]`` (in partition order)."""
    return {PARTITION_RANGE_START_TAG: keys[0], PARTITION_RANGE_END_TAG: keys[-1]}
