"""Spark column helpers of the silver builds (built-in Spark functions only, but consent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType

from c360 import standardise
from c360.contract import LOCAL_TIMEZONE
from c360.quarantine import rejects_frame
from c360.tables import INGEST_DATE, Table
from c360.values import CurrencyRule, ValueRules

LINEAGE_COLUMNS = (INGEST_DATE, "_source_file", "_row_number")
_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"


def clean(column: str) -> Column:
    """Trimmed text; empty -> null."""
    trimmed = F.trim(F.col(column))
    return F.when(trimmed == "", None).otherwise(trimmed)


def lower_clean(column: str) -> Column:
    return F.lower(clean(column))


def parse_timestamp(column: str) -> Column:
    """ISO 8601 (an offset is honoured; none means Vietnam local time) or a contract date.

    Returns a UTC timestamp, null when the text is not one.
    """
    text = clean(column)
    with_offset = F.try_to_timestamp(text)
    local = F.coalesce(
        F.try_to_timestamp(text, F.lit("yyyy-MM-dd'T'HH:mm:ss[.SSSSSS]")),
        F.try_to_timestamp(text, F.lit("yyyy-MM-dd HH:mm:ss[.SSSSSS]")),
        F.try_to_timestamp(text, F.lit("yyyy-MM-dd")),
        F.try_to_timestamp(text, F.lit("dd/MM/yyyy")),
        F.try_to_timestamp(text, F.lit("yyyyMMdd")),
    )
    return F.when(text.rlike(_OFFSET), with_offset).otherwise(
        F.to_utc_timestamp(local, LOCAL_TIMEZONE)
    )


def in_the_future(timestamp: Column, rules: ValueRules) -> Column:
    """True when ``timestamp`` is more than the configured skew after the landing day's end.

    An extract of day D holds nothing later than the end of D (local time); the landing day
    (``_ingest_date``), not the clock, is the reference, so re-runs give the same answer.
    """
    day_end = F.to_utc_timestamp(
        F.date_add(F.col(INGEST_DATE), 1).cast("timestamp"), LOCAL_TIMEZONE
    )
    skew_seconds = int(rules.future_skew_hours * 3600)
    limit = F.timestamp_seconds(F.unix_timestamp(day_end) + F.lit(skew_seconds))
    return F.coalesce(timestamp > limit, F.lit(False))


def future_reason(column: str, rules: ValueRules) -> str:
    return (
        f"{column}: in the future (more than {rules.future_skew_hours:g} h after the landing day)"
    )


def parse_money(column: str, currency: Column, rules: ValueRules) -> Column:
    """An amount in ``currency`` read by that currency's rule (conf/values.yaml).

    Null when empty, when the currency has no rule, or when the text does not follow the rule
    ("1,5" is no VND amount: its thousands separator must be followed by three digits).
    """
    text = clean(column)

    def read(rule: CurrencyRule) -> Column:
        # the decimal separator becomes ".", thousands separators are deleted
        digits = F.translate(text, rule.decimal + "".join(rule.thousands), ".")
        return F.when(text.rlike(rule.pattern()), digits.try_cast("decimal(18,2)"))

    return _per_currency(currency, rules, read)


def to_vnd(amount: Column, currency: Column, rules: ValueRules) -> Column:
    """``amount`` in VND at the currency's ``rate_to_vnd``; null when too large for the column."""
    return _per_currency(
        currency,
        rules,
        lambda rule: F.round(amount * F.lit(rule.rate_to_vnd), 2).try_cast("decimal(18,2)"),
    )


def _per_currency(
    currency: Column, rules: ValueRules, value_of: Callable[[CurrencyRule], Column]
) -> Column:
    """``value_of(rule)`` for the row's currency (``CASE currency WHEN ...``); null otherwise."""
    chosen: Column | None = None
    for code, rule in rules.currencies.items():
        value = value_of(rule)
        chosen = (
            F.when(currency == code, value)
            if chosen is None
            else chosen.when(currency == code, value)
        )
    return chosen


def parse_long(column: str) -> Column:
    """An integer ("12" or "12.0"); null when not one."""
    return F.regexp_replace(clean(column), r"\.0+$", "").try_cast("bigint")


@F.pandas_udf(BooleanType())
def _consent_udf(values: pd.Series) -> pd.Series:
    # few distinct spellings: parse each once (rules from conf/standardise.yaml)
    parsed = {v: standardise.parse_consent(v) for v in values.dropna().unique()}
    return values.map(parsed).astype("boolean")


def parse_consent(column: str | None) -> Column:
    """yes / no in the spellings of ``conf/standardise.yaml``; null when absent or unknown."""
    if column is None:
        return F.lit(None).cast("boolean")
    return _consent_udf(clean(column))


def column_or_null(frame: DataFrame, column: str) -> str | None:
    """The column's name when the frame has it (optional extra columns), else None."""
    return column if column in frame.columns else None


def _why(reason: Column | str) -> Column:
    return F.lit(reason) if isinstance(reason, str) else reason


def split_unusable(
    frame: DataFrame,
    table: Table,
    landed: Sequence[str],
    problems: Sequence[tuple[Column, Column | str]],
) -> tuple[DataFrame, DataFrame]:
    """(usable rows, rejects) where a reject has at least one of ``problems``."""
    reasons = F.array_compact(F.array(*[F.when(bad, _why(why)) for bad, why in problems]))
    flagged = frame.withColumn("_reasons", reasons)
    usable = flagged.where(F.size("_reasons") == 0).drop("_reasons")
    rejects = rejects_frame(flagged.where(F.size("_reasons") > 0), table, landed, F.col("_reasons"))
    return usable, rejects


def field_issues(checks: Sequence[tuple[Column, str]]) -> Column:
    return F.array_compact(F.array(*[F.when(bad, F.lit(issue)) for bad, issue in checks]))


def latest_and_superseded(
    frame: DataFrame, key: str, newest_first: Sequence[Column]
) -> tuple[DataFrame, DataFrame]:
    """One row per ``key`` (the newest by ``newest_first``, then the latest landing) and the
    older versions it drops (lineage columns only)."""
    order = [
        *newest_first,
        F.col(INGEST_DATE).desc(),
        F.col("_source_file").desc(),
        F.col("_row_number").desc(),
    ]
    window = Window.partitionBy(key).orderBy(*order)
    ranked = frame.withColumn("_version_rank", F.row_number().over(window))
    superseded = ranked.where("_version_rank > 1").select(*LINEAGE_COLUMNS)
    return ranked.where("_version_rank = 1"), superseded
