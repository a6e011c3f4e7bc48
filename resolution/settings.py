"""Compiler from the identity configuration (:mod:`resolution.config`) to Splink settings.

:func:`build_settings` turns ``conf/identity.yaml`` into a Splink :class:`SettingsCreator` using
only Splink's dialect-neutral creators, portable SQL or the levels of
:mod:`resolution.levels`, so the same settings run on DuckDB and on Spark. Comparisons and
blocking rules whose columns are empty in the whole input are left out
(:func:`populated_columns`), so an extract without birth dates still trains.

Example:
    >>> config = load_identity_config()                       # doctest: +SKIP
    >>> creator = build_settings(config, populated_columns(records, config))
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa
from splink import SettingsCreator, block_on
from splink import comparison_level_library as cll
from splink.blocking_rule_library import CustomRule
from splink.comparison_library import CustomComparison
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.column_expression import ColumnExpression
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from resolution.config import (
    ELSE_LEVEL,
    ComparisonSpec,
    IdentityConfig,
    IdentityConfigError,
    LevelSpec,
    SqlRule,
)
from resolution.levels import ReversedJaroWinklerLevel, TokensCoverLevel

log = logging.getLogger(__name__)

UNIQUE_ID_COLUMN = "record_key"
# Columns every record keeps through Splink (for charts, cluster studio and the guard).
RETAINED_COLUMNS = ("source_system", "source_record_id")
NEUTRAL_LEVEL = {
    "m_probability": 0.5,
    "u_probability": 0.5,
    "fix_m_probability": True,
    "fix_u_probability": True,
}


# ---- which columns are usable ---------------------------------------------------------------
def populated_columns(records: pa.Table, min_share: float) -> set[str]:
    """Columns of ``records`` populated on at least ``min_share`` of rows (and on one row)."""
    rows = max(records.num_rows, 1)
    usable = set()
    for name in records.column_names:
        filled = records.num_rows - records.column(name).null_count
        if filled > 0 and filled / rows >= min_share:
            usable.add(name)
    return usable


def usable_comparisons(config: IdentityConfig, available: set[str]) -> list[ComparisonSpec]:
    """Comparisons whose main column has data; levels reading an empty column are dropped."""
    kept = []
    for spec in config.comparisons:
        if spec.column not in available:
            log.warning("comparison %s left out: column %s is empty", spec.name, spec.column)
            continue
        levels = tuple(
            lv for lv in spec.levels if {c for c in (lv.column, lv.other) if c} <= available
        )
        kept.append(spec.model_copy(update={"levels": levels}))
    return kept


def _rule_columns(rule: tuple[str, ...] | SqlRule) -> set[str]:
    return set(rule.columns) if isinstance(rule, SqlRule) else set(rule)


def _blocking_rule(rule: tuple[str, ...] | SqlRule) -> BlockingRuleCreator:
    if isinstance(rule, SqlRule):
        return CustomRule(rule.sql)
    return block_on(*rule)


def usable_rules(
    rules: tuple[tuple[str, ...] | SqlRule, ...], available: set[str]
) -> list[BlockingRuleCreator]:
    """Blocking rules whose columns all have data, as Splink creators."""
    kept = []
    for rule in rules:
        if _rule_columns(rule) <= available:
            kept.append(_blocking_rule(rule))
        else:
            log.warning("blocking rule %s left out: a column is empty", rule)
    return kept


def prediction_rule_dicts(
    rules: tuple[tuple[str, ...] | SqlRule, ...], available: set[str], dialect: str
) -> list[dict[str, Any]]:
    """Splink's ``blocking_rules_to_generate_predictions`` for ``rules`` on this data.

    Raises:
        IdentityConfigError: no rule is usable on this data.
    """
    creators = usable_rules(rules, available)
    if not creators:
        raise IdentityConfigError(
            f"no usable blocking rule; populated columns: {sorted(available)}"
        )
    return [creator.create_blocking_rule_dict(dialect) for creator in creators]


def usable_rule_specs(
    rules: tuple[tuple[str, ...] | SqlRule, ...], available: set[str]
) -> list[tuple[str, ...] | SqlRule]:
    """The configured rules (as declared) whose columns all have data."""
    return [rule for rule in rules if _rule_columns(rule) <= available]


# ---- comparisons ----------------------------------------------------------------------------
def _level(spec: LevelSpec, default_column: str) -> ComparisonLevelCreator:
    column = spec.column or default_column
    level: ComparisonLevelCreator
    if spec.kind == "exact":
        level = cll.ExactMatchLevel(column, term_frequency_adjustments=spec.tf)
    elif spec.kind == "reversed":
        level = cll.ColumnsReversedLevel(column, spec.other, symmetrical=True)
    elif spec.kind == "reversed_fuzzy":
        level = ReversedJaroWinklerLevel(column, spec.other, spec.threshold)
    elif spec.kind == "jaro_winkler":
        level = cll.JaroWinklerLevel(column, spec.threshold)
    elif spec.kind == "damerau_levenshtein":
        level = cll.DamerauLevenshteinLevel(column, spec.distance)
    elif spec.kind == "day_month_swapped":
        level = cll.CustomLevel(
            f"EXTRACT(MONTH FROM {column}_l) = EXTRACT(DAY FROM {column}_r)"
            f" AND EXTRACT(DAY FROM {column}_l) = EXTRACT(MONTH FROM {column}_r)"
            f" AND EXTRACT(YEAR FROM {column}_l) = EXTRACT(YEAR FROM {column}_r)"
        )
    elif spec.kind == "same_year":
        level = cll.CustomLevel(f"EXTRACT(YEAR FROM {column}_l) = EXTRACT(YEAR FROM {column}_r)")
    elif spec.kind == "date_within_days":
        level = cll.AbsoluteDateDifferenceLevel(
            column, input_is_string=False, threshold=spec.days, metric="day"
        )
    elif spec.kind == "date_one_edit":
        # A typed date with one digit wrong or two swapped ("1956-04-09" / "1965-04-09").
        # One edit leaves two of year, month and day equal: that cheap test runs first.
        parts = " + ".join(
            f"CASE WHEN EXTRACT({part} FROM {column}_l) = EXTRACT({part} FROM {column}_r)"
            " THEN 1 ELSE 0 END"
            for part in ("YEAR", "MONTH", "DAY")
        )
        edit = cll.DamerauLevenshteinLevel(ColumnExpression(column).cast_to_string(), 1)
        level = cll.And(cll.CustomLevel(f"({parts}) >= 2"), edit)
    elif spec.kind == "tokens_cover":
        level = TokensCoverLevel(column, spec.other)
    elif spec.kind == "local_part_exact":
        level = cll.ExactMatchLevel(ColumnExpression(column).regex_extract("^[^@]+"))
    else:  # sql
        level = cll.CustomLevel(spec.sql)
    if spec.neutral:
        level = level.configure(**NEUTRAL_LEVEL)
    return level.configure(label_for_charts=spec.name)


def _null_level(spec: ComparisonSpec) -> ComparisonLevelCreator:
    column = spec.column
    if spec.null_when == "different_length":
        return cll.CustomLevel(
            f"{column}_l IS NULL OR {column}_r IS NULL OR length({column}_l) <> length({column}_r)"
        ).configure(is_null_level=True, label_for_charts="null or not comparable")
    if spec.null_when == "different_type":
        # Two documents of different kinds (a CMND and a CCCD, a passport and a CCCD) say
        # nothing about each other; an "other" number may be any kind mistyped.
        kind = spec.type_column
        return cll.CustomLevel(
            f"{column}_l IS NULL OR {column}_r IS NULL OR ({kind}_l <> {kind}_r"
            f" AND {kind}_l <> 'other' AND {kind}_r <> 'other')"
        ).configure(is_null_level=True, label_for_charts="null or not comparable")
    return cll.NullLevel(column).configure(label_for_charts="null")


def build_comparison(spec: ComparisonSpec) -> ComparisonCreator:
    """One Splink comparison: a null level, the configured levels, an else level."""
    levels = [_null_level(spec)]
    levels += [_level(lv, spec.column) for lv in spec.levels]
    else_level = cll.ElseLevel().configure(label_for_charts=ELSE_LEVEL)
    levels.append(else_level.configure(**NEUTRAL_LEVEL) if spec.else_neutral else else_level)
    return CustomComparison(levels, output_column_name=spec.name)


def build_settings(
    config: IdentityConfig, available: set[str], model_version: str = "untrained"
) -> SettingsCreator:
    """The Splink settings for records whose populated columns are ``available``.

    Args:
        config: the identity configuration.
        available: columns with data (see :func:`populated_columns`).
        model_version: recorded in the settings as ``linker_uid``.

    Raises:
        IdentityConfigError: no comparison or no blocking rule is usable on this data.
    """
    comparisons = usable_comparisons(config, available)
    rules = usable_rules(config.blocking_rules, available)
    if not comparisons or not rules:
        raise IdentityConfigError(
            f"nothing to match on: usable comparisons {[c.name for c in comparisons]}, "
            f"usable blocking rules {len(rules)}; populated columns: {sorted(available)}"
        )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID_COLUMN,
        comparisons=[build_comparison(spec) for spec in comparisons],
        blocking_rules_to_generate_predictions=rules,
        additional_columns_to_retain=list(RETAINED_COLUMNS),
        retain_intermediate_calculation_columns=True,  # waterfall charts, cluster studio
        retain_matching_columns=True,
        em_convergence=config.training.em_convergence,
        max_iterations=config.training.em_max_iterations,
        linker_uid=model_version,
    )
