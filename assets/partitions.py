"""Partitions shared by the assets, defined once."""

from __future__ import annotations

import dagster as dg

# One partition per landing-zone day (YYYY-MM-DD). Days are added as they complete (by the
# sensor, the schedule or `c360 run`), so the partitions start at the earliest landed day.
LANDING_DAYS = dg.DynamicPartitionsDefinition(name="landing_day")
