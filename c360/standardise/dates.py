"""Dates and timestamps as extracts write them (contract: EXTRACT_DATE_FORMATS, ISO 8601)."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from c360.contract import LOCAL_TIMEZONE
from c360.standardise.rules import StandardiseRules, default_rules
from c360.standardise.text import clean_text, normalise_text

_CACHE_SIZE = 1 << 16
SOURCE_TZ = ZoneInfo(LOCAL_TIMEZONE)

# The contract's three spellings (c360.contract.EXTRACT_DATE_FORMATS), as (year, month, day)
# group orders. An ISO date may carry a time part (database exports: "1990-03-05 00:00:00").
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], tuple[int, int, int]], ...] = (
    (
        re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$"),
        (1, 2, 3),
    ),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), (3, 2, 1)),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), (1, 2, 3)),
)
NOT_A_DATE = "not a date in a contract format (YYYY-MM-DD, DD/MM/YYYY, YYYYMMDD)"
IMPOSSIBLE_DATE = "impossible date"
DAY_MONTH_SWAPPED = "day and month swapped"
IN_THE_FUTURE = "in the future"


@functools.lru_cache(maxsize=_CACHE_SIZE)
def parse_date_text(text: str) -> tuple[date | None, str | None]:
    """A contract-format date, without range checks: ``(date, problem)``.

    A month above 12 whose swapped reading is a real date (a DD/MM date landed as MM/DD) gives
    that date and the problem ``"day and month swapped"``.
    """
    for pattern, (y, m, d) in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = int(match.group(y)), int(match.group(m)), int(match.group(d))
            break
    else:
        return None, NOT_A_DATE
    try:
        return date(year, month, day), None
    except ValueError:
        pass
    if month > 12 and 1 <= day <= 12:
        try:
            return date(year, day, month), DAY_MONTH_SWAPPED
        except ValueError:
            pass
    return None, IMPOSSIBLE_DATE


def today_local() -> date:
    """Today's date in the source systems' time zone (Asia/Ho_Chi_Minh)."""
    return datetime.now(SOURCE_TZ).date()


def parse_extract_date(
    raw: object,
    *,
    field: str = "date_of_birth",
    earliest: date | None = None,
    latest: date | None = None,
    rules: StandardiseRules | None = None,
) -> tuple[date | None, str | None]:
    """A date in one of the contract's formats, range-checked as a birth date by default.

    Args:
        raw: the landed text (``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``YYYYMMDD``).
        field: field name used in issue strings.
        earliest: earliest acceptable date; ``date_of_birth.earliest`` of the rules (1900-01-01).
        latest: latest acceptable date; today in Asia/Ho_Chi_Minh.
        rules: standardisation rules; ``conf/standardise.yaml`` when omitted.

    Returns:
        ``(date, None)``; ``(None, None)`` when empty or a placeholder ("N/A"); ``(None, issue)``
        when not a usable date;
        ``(date, "<field>: day and month swapped")`` when only the swapped reading is a date.

    Example:
        >>> parse_extract_date("25/03/1990")
        (datetime.date(1990, 3, 25), None)
        >>> parse_extract_date("03/25/1990")
        (datetime.date(1990, 3, 25), 'date_of_birth: day and month swapped')
        >>> parse_extract_date("2026-02-30")
        (None, 'date_of_birth: impossible date')
    """
    rules = rules or default_rules()
    text = clean_text(raw, rules)
    if text is None:
        return None, None
    value, problem = parse_date_text(text)
    if value is None:
        return None, f"{field}: {problem}"
    earliest = earliest or rules.earliest_birth_date
    latest = latest or today_local()
    if value < earliest:
        return None, f"{field}: before {earliest.isoformat()}"
    if value > latest:
        return None, f"{field}: {IN_THE_FUTURE}"
    return value, f"{field}: {problem}" if problem else None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_local_timestamp(text: str) -> datetime | None:
    for pattern, _ in _DATE_PATTERNS[1:]:
        if pattern.match(text):
            day, problem = parse_date_text(text)
            if day is None or problem:
                return None
            return datetime(day.year, day.month, day.day, tzinfo=SOURCE_TZ).astimezone(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SOURCE_TZ)
    return value.astimezone(UTC)


def parse_local_timestamp(raw: object) -> datetime | None:
    """An extract timestamp as an aware UTC datetime.

    ISO 8601 with an offset is converted to UTC; without one it is local time of the source
    systems (Asia/Ho_Chi_Minh, UTC+7); a bare date in a contract format is local midnight.

    Example:
        >>> parse_local_timestamp("2026-11-01T08:00:00")
        datetime.datetime(2026, 11, 1, 1, 0, tzinfo=datetime.timezone.utc)
        >>> parse_local_timestamp("01/11/2026")
        datetime.datetime(2026, 10, 31, 17, 0, tzinfo=datetime.timezone.utc)
    """
    text = normalise_text(raw)
    return None if text is None else _parse_local_timestamp(text)


def parse_local_timestamps(values: pd.Series) -> pd.Series:
    """:func:`parse_local_timestamp` over a Series (once per distinct value).

    Returns:
        A ``datetime64[us, UTC]`` Series on the same index; NaT where not a timestamp.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = [parse_local_timestamp(u) for u in uniques] + [None]
    taken = [parsed[c] for c in codes]  # code -1 picks the trailing None
    return pd.Series(pd.to_datetime(taken, utc=True), index=values.index).astype(
        "datetime64[us, UTC]"
    )
