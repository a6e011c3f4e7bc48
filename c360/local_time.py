"""The market's local time and the as-of calendar, defined once.

Extract timestamps without an offset are local time of the source systems; calendar days
(transaction dates, feature windows, the nightly schedule) are local days. A run's feature
snapshot is as of the day after its last landing day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from pyspark.sql import Column
from pyspark.sql import functions as F

from c360.contract import LOCAL_TIMEZONE

__all__ = ["LOCAL_TIMEZONE", "as_of_partition_key", "default_as_of_date", "local_date"]


def local_date(timestamp: Column, timezone: str = LOCAL_TIMEZONE) -> Column:
    """The calendar day of a UTC timestamp in ``timezone`` (default the local time zone)."""
    return F.to_date(F.from_utc_timestamp(timestamp, timezone))


def default_as_of_date(landed_days: Iterable[date]) -> date:
    """The as-of date of a run: the day after the last landed day (so every landed event counts).

    Raises:
        ValueError: no landed day.
    """
    days = list(landed_days)
    if not days:
        raise ValueError("no landed day: cannot choose an as-of date for the features")
    return max(days) + timedelta(days=1)


def as_of_partition_key(as_of: date) -> str:
    """The ``as_of_date`` partition key of a snapshot day (``YYYY-MM-DD``)."""
    return as_of.isoformat()
