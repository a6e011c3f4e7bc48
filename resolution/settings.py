"""Matching configuration (``conf/matching.yaml``) and its compiler to Splink settings.

The YAML declares blocking rules, comparisons (as named levels), training choices and the
over-merging guard; :func:`build_settings` turns it into a Splink :class:`SettingsCreator` using
only Splink's dialect-neutral creators (or portable SQL), so the same settings run on DuckDB and
on Spark. Comparisons and blocking rules whose columns are empty in the whole input are left out
(:func:`populated_columns`), so an extract without birth dates still trains.

Example:
    >>> config = load_matching_config()                       # doctest: +SKIP
    >>> creator = build_settings(config, populated_columns(records, config))
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from splink import SettingsCreator, block_on
from splink import comparison_level_library as cll
from splink.blocking_rule_library import CustomRule
from splink.comparison_library import CustomComparison
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.column_expression import ColumnExpression
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from c360.config import CONF_DIR
from c360.errors import ConfigurationError

log = logging.getLogger(__name__)

MATCHING_CONFIG_FILE = CONF_DIR / "matching.yaml"
UNIQUE_ID_COLUMN = "record_key"
# Columns every record keeps through Splink (for charts, cluster studio and the guard).
RETAINED_COLUMNS = ("source_system", "source_record_id")
ELSE_LEVEL = "else"
NEUTRAL_LEVEL = {
    "m_probability": 0.5,
    "u_probability": 0.5,
    "fix_m_probability": True,
    "fix_u_probability": True,
}


class MatchingConfigError(ConfigurationError):
    """``conf/matching.yaml`` cannot be used; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelConfig(_Section):
    retrain: bool = False


class PrepareConfig(_Section):
    address_drop_phrases: tuple[str, ...] = ()
    address_drop_words: tuple[str, ...] = ()
    max_records_per_identifier: int | None = Field(None, ge=2)
    identifier_columns: tuple[str, ...] = ()


class TrainingConfig(_Section):
    seed: int = 42
    u_max_pairs: float = Field(3e6, gt=0)
    deterministic_rules: tuple[tuple[str, ...], ...]
    deterministic_recall: float = Field(0.8, gt=0, le=1)
    em_blocking_rules: tuple[tuple[str, ...], ...]
    em_max_iterations: int = Field(25, ge=1)
    # An EM session whose blocking rule makes more pairs than this trains on a deterministic
    # sample of them (about one in ceil(pairs / em_max_pairs), by a hash of record_key).
    em_max_pairs: float = Field(2e6, gt=0)
    em_convergence: float = Field(1e-4, gt=0)
    m_probability_floor: float = Field(1e-6, gt=0, lt=1)
    min_populated_share: float = Field(0.001, ge=0, lt=1)
    min_records: int = Field(200, ge=0)


LevelKind = Literal[
    "exact",
    "reversed",
    "reversed_fuzzy",
    "jaro_winkler",
    "damerau_levenshtein",
    "day_month_swapped",
    "same_year",
    "date_within_days",
    "local_part_exact",
    "date_one_edit",
    "tokens_cover",
    "sql",
]


class LevelSpec(_Section):
    """One comparison level; ``column`` defaults to the comparison's column."""

    name: str
    kind: LevelKind
    column: str | None = None
    other: str | None = None
    threshold: float | None = None
    distance: int | None = None
    days: int | None = None
    sql: str | None = None
    tf: bool = False
    # Bayes factor 1 (m = u, fixed): the level only routes pairs (for the guard) and adds no
    # weight, e.g. when another comparison already counts the same evidence.
    neutral: bool = False

    @model_validator(mode="after")
    def _check_arguments(self) -> LevelSpec:
        needed = {
            "reversed": "other",
            "reversed_fuzzy": "other",
            "jaro_winkler": "threshold",
            "damerau_levenshtein": "distance",
            "date_within_days": "days",
            "sql": "sql",
        }.get(self.kind)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"level {self.name!r} of kind {self.kind!r} needs `{needed}`")
        if self.kind == "reversed_fuzzy" and self.threshold is None:
            raise ValueError(f"level {self.name!r} of kind reversed_fuzzy needs `threshold`")
        if self.tf and self.kind != "exact":
            raise ValueError(f"level {self.name!r}: tf adjustments only on kind exact")
        return self


class ComparisonSpec(_Section):
    name: str
    column: str
    null_when: Literal["any_null", "different_length", "different_type"] = "any_null"
    type_column: str | None = None  # for null_when: different_type
    levels: tuple[LevelSpec, ...]
    else_neutral: bool = False  # the else level adds no weight (see LevelSpec.neutral)

    @model_validator(mode="after")
    def _check_type_column(self) -> ComparisonSpec:
        if self.null_when == "different_type" and not self.type_column:
            raise ValueError(
                f"comparison {self.name!r}: null_when different_type needs type_column"
            )
        return self

    def columns(self) -> set[str]:
        """Every input column the comparison reads."""
        used = {self.column} | ({self.type_column} if self.type_column else set())
        for level in self.levels:
            used |= {c for c in (level.column, level.other) if c}
        return used


class SqlRule(_Section):
    sql: str
    columns: tuple[str, ...] = ()  # columns the rule reads (to leave it out when they are empty)


LevelsByComparison = dict[str, tuple[str, ...]]


class GuardConfig(_Section):
    # Any one of these holds: each maps comparisons to levels, all of which must hold.
    personal_evidence: tuple[LevelsByComparison, ...]
    contradictions: LevelsByComparison = Field(default_factory=dict)
    contradiction_overridden_by: LevelsByComparison = Field(default_factory=dict)
    split_conflicting_clusters: bool = True
    conflict_threshold: float = Field(0.999, gt=0, lt=1)


class MatchingConfig(_Section):
    """The whole of ``conf/matching.yaml``."""

    model: ModelConfig = Field(default_factory=ModelConfig)
    prepare: PrepareConfig = Field(default_factory=PrepareConfig)
    training: TrainingConfig
    blocking_rules: tuple[tuple[str, ...] | SqlRule, ...]
    comparisons: tuple[ComparisonSpec, ...]
    guard: GuardConfig

    @model_validator(mode="after")
    def _check_guard(self) -> MatchingConfig:
        by_name = {c.name: c for c in self.comparisons}
        guard = self.guard
        groups = [("personal_evidence", g) for g in guard.personal_evidence] + [
            ("contradictions", guard.contradictions),
            ("contradiction_overridden_by", guard.contradiction_overridden_by),
        ]
        for key, group in groups:
            for comparison, levels in group.items():
                if comparison not in by_name:
                    raise ValueError(f"guard.{key}: no comparison named {comparison!r}")
                known = set(level_values(by_name[comparison]))
                if unknown := set(levels) - known:
                    raise ValueError(f"guard.{key}.{comparison}: unknown levels {sorted(unknown)}")
        return self


def load_matching_config(path: Path | None = None) -> MatchingConfig:
    """Read and validate ``conf/matching.yaml`` (or ``path``).

    Raises:
        MatchingConfigError: the file is missing, not YAML, or a key is wrong.
    """
    path = Path(path) if path is not None else MATCHING_CONFIG_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return MatchingConfig.model_validate(raw)
    except FileNotFoundError as exc:
        raise MatchingConfigError(f"{path}: matching configuration not found") from exc
    except yaml.YAMLError as exc:
        raise MatchingConfigError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise MatchingConfigError(f"{path}: {problems}") from exc


def config_from_dict(raw: dict[str, Any]) -> MatchingConfig:
    """Validate a matching configuration given as a mapping (as stored inside a model file)."""
    return MatchingConfig.model_validate(raw)


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


def usable_comparisons(config: MatchingConfig, available: set[str]) -> list[ComparisonSpec]:
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


def usable_rule_specs(
    rules: tuple[tuple[str, ...] | SqlRule, ...], available: set[str]
) -> list[tuple[str, ...] | SqlRule]:
    """The configured rules (as declared) whose columns all have data."""
    return [rule for rule in rules if _rule_columns(rule) <= available]


# ---- comparisons ----------------------------------------------------------------------------
class ReversedJaroWinklerLevel(ComparisonLevelCreator):
    """Both columns swapped and similar: ``jw(a_l, b_r) >= t AND jw(b_l, a_r) >= t``.

    For a family name and a given name written in the other order with a typo.
    """

    def __init__(self, column: str, other: str, threshold: float) -> None:
        self.column = column
        self.other = other
        self.threshold = threshold

    def create_sql(self, sql_dialect: Any) -> str:
        jw = sql_dialect.jaro_winkler_function_name
        a, b, t = self.column, self.other, self.threshold
        return f"{jw}({a}_l, {b}_r) >= {t} AND {jw}({b}_l, {a}_r) >= {t}"

    def create_label_for_charts(self) -> str:
        return f"{self.column} and {self.other} swapped, Jaro-Winkler >= {self.threshold}"


class TokensCoverLevel(ComparisonLevelCreator):
    """Every token of one name matches a token of the other, in any order.

    Tokens match when equal, or when the shorter, of at most ``PREFIX_MAX`` letters, begins the
    longer: an initial or a cut-off token ("nguyen v anh" / "anh nguyen van", "pham thi hu" /
    "pham thi huyen", "tran van t" / "tran v tuan"); a missing middle name is covered too. The
    covered name must have two tokens or more, so a bare family name covers nobody. Array SQL
    differs by dialect (DuckDB lambdas are ``lambda x: ...``, Spark's ``x -> ...``).
    """

    PREFIX_MAX = 3

    def __init__(self, column: str, initials: str | None = None) -> None:
        self.column = column
        self.initials = initials  # a column of each name's token initials, sorted (a pre-check)

    def _token_match(self, x: str, y: str) -> str:
        n = self.PREFIX_MAX
        return (
            f"({y} = {x} OR (length({x}) <= {n} AND substr({y}, 1, length({x})) = {x})"
            f" OR (length({y}) <= {n} AND substr({x}, 1, length({y})) = {y}))"
        )

    def _covered(self, dialect: str, small: str, large: str) -> str:
        match = self._token_match("x", "y")
        if dialect == "duckdb":
            tokens, other = f"str_split({small}, ' ')", f"str_split({large}, ' ')"
            return (
                f"(len({tokens}) >= 2 AND list_bool_and(list_transform({tokens}, lambda x: "
                f"len(list_filter({other}, lambda y: {match})) > 0)))"
            )
        if dialect == "spark":
            tokens, other = f"split({small}, ' ')", f"split({large}, ' ')"
            return f"(size({tokens}) >= 2 AND forall({tokens}, x -> exists({other}, y -> {match})))"
        raise MatchingConfigError(f"tokens_cover has no SQL for the {dialect} dialect")

    def create_sql(self, sql_dialect: Any) -> str:
        dialect = sql_dialect.sql_dialect_str
        left, right = f"{self.column}_l", f"{self.column}_r"
        # A cheap pre-check first (most pairs scored in training are random ones): a covered
        # name's token initials are all initials of the other name's tokens.
        if self.initials is None:
            return f"{self._covered(dialect, left, right)} OR {self._covered(dialect, right, left)}"
        il, ir = f"{self.initials}_l", f"{self.initials}_r"
        # CASE, not AND: DuckDB evaluates both sides of an AND holding lambdas.
        return (
            f"(CASE WHEN {self._initials_within(dialect, il, ir)} "
            f"THEN {self._covered(dialect, left, right)} ELSE FALSE END) OR "
            f"(CASE WHEN {self._initials_within(dialect, ir, il)} "
            f"THEN {self._covered(dialect, right, left)} ELSE FALSE END)"
        )

    @staticmethod
    def _initials_within(dialect: str, small: str, large: str) -> str:
        # The first and last initials first (scalar, cheap), then all of them (arrays).
        ends = (
            f"instr({large}, substr({small}, 1, 1)) > 0 AND "
            f"instr({large}, substr({small}, length({small}), 1)) > 0"
        )
        if dialect == "duckdb":
            every = f"list_has_all(str_split({large}, ''), str_split({small}, ''))"
        else:
            every = f"size(array_except(split({small}, ''), split({large}, ''))) = 0"
        return f"CASE WHEN {ends} THEN {every} ELSE FALSE END"

    def create_label_for_charts(self) -> str:
        return f"tokens of one {self.column} all in the other (or their initials, prefixes)"


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


def level_values(spec: ComparisonSpec) -> dict[str, int]:
    """Splink's comparison-vector value (``gamma_<name>``) of each named level.

    Splink numbers the non-null levels from ``len(levels)`` down to 0 (the else level, named
    ``else``); the null level is -1.
    """
    count = len(spec.levels)
    values = {lv.name: count - position for position, lv in enumerate(spec.levels)}
    values[ELSE_LEVEL] = 0
    return values


def build_settings(
    config: MatchingConfig, available: set[str], model_version: str = "untrained"
) -> SettingsCreator:
    """The Splink settings for records whose populated columns are ``available``.

    Args:
        config: the matching configuration.
        available: columns with data (see :func:`populated_columns`).
        model_version: recorded in the settings as ``linker_uid``.

    Raises:
        MatchingConfigError: no comparison or no blocking rule is usable on this data.
    """
    comparisons = usable_comparisons(config, available)
    rules = usable_rules(config.blocking_rules, available)
    if not comparisons or not rules:
        raise MatchingConfigError(
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
