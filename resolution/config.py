"""The identity stage's configuration (``conf/identity.yaml``): schema and loader.

Validated at load with messages naming the key; :mod:`resolution.settings` compiles it into
Splink settings.

Example:
    >>> config = load_identity_config()                       # doctest: +SKIP
    >>> config.guard.conflict_threshold                       # doctest: +SKIP
    0.999
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from c360.config import CONF_DIR
from c360.errors import ConfigurationError

IDENTITY_CONFIG_FILE = CONF_DIR / "identity.yaml"
ELSE_LEVEL = "else"


class IdentityConfigError(ConfigurationError):
    """``conf/identity.yaml`` cannot be used; the message names the key."""


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
    # Train on a hash sample of about this many records (None: all); see training_sample.
    max_records: int | None = Field(None, ge=1000)


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


class PredictionConfig(_Section):
    # Scored pairs below this match probability are not kept (None: every blocked pair is).
    keep_pairs_from_match_probability: float | None = Field(0.01, gt=0, lt=1)
    # An equality blocking rule's block holding more records than this is generic: that rule
    # scores none of its pairs (resolution.blocking). None: every block is scored.
    max_records_per_block: int | None = Field(None, ge=2)


class IdentityConfig(_Section):
    """The whole of ``conf/identity.yaml``."""

    model: ModelConfig = Field(default_factory=ModelConfig)
    prepare: PrepareConfig = Field(default_factory=PrepareConfig)
    training: TrainingConfig
    prediction: PredictionConfig = Field(default_factory=PredictionConfig)
    blocking_rules: tuple[tuple[str, ...] | SqlRule, ...]
    comparisons: tuple[ComparisonSpec, ...]
    guard: GuardConfig

    @model_validator(mode="after")
    def _check_guard(self) -> IdentityConfig:
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


def load_identity_config(path: Path | None = None) -> IdentityConfig:
    """Read and validate ``conf/identity.yaml`` (or ``path``).

    Raises:
        IdentityConfigError: the file is missing, not YAML, or a key is wrong.
    """
    path = Path(path) if path is not None else IDENTITY_CONFIG_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return IdentityConfig.model_validate(raw)
    except FileNotFoundError as exc:
        raise IdentityConfigError(f"{path}: identity configuration not found") from exc
    except yaml.YAMLError as exc:
        raise IdentityConfigError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise IdentityConfigError(f"{path}: {problems}") from exc


def config_from_dict(raw: dict[str, Any]) -> IdentityConfig:
    """Validate an identity configuration given as a mapping (as stored inside a model file)."""
    return IdentityConfig.model_validate(raw)


def level_values(spec: ComparisonSpec) -> dict[str, int]:
    """Splink's comparison-vector value (``gamma_<name>``) of each named level.

    Splink numbers the non-null levels from ``len(levels)`` down to 0 (the else level, named
    ``else``); the null level is -1.
    """
    count = len(spec.levels)
    values = {lv.name: count - position for position, lv in enumerate(spec.levels)}
    values[ELSE_LEVEL] = 0
    return values
