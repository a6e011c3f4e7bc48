"""Value rules for silver (``conf/values.yaml``): how each currency writes its amounts, its rate
to VND, and how far in the future a timestamp may be.

Validated with pydantic when loaded; :func:`load_value_rules` raises :class:`ConfigError`
naming the key, so a typo stops the run before any table is written.

Example:
    >>> rule = load_value_rules().currencies["VND"]
    >>> bool(re.match(rule.pattern(), "1,250,000")), bool(re.match(rule.pattern(), "1,5"))
    (True, False)
"""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from c360.config import CONF_DIR, ConfigError

VALUES_FILE = CONF_DIR / "values.yaml"


class CurrencyRule(BaseModel):
    """How one currency's amounts are written and what one unit is worth in VND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thousands: tuple[str, ...] = ()
    decimal: str = Field(min_length=1, max_length=1)
    max_decimals: int = Field(ge=0, le=6)
    rate_to_vnd: Decimal = Field(gt=0)

    @field_validator("thousands")
    @classmethod
    def _single_characters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(len(sep) != 1 or sep.isdigit() for sep in value):
            raise ValueError("each thousands separator must be one non-digit character")
        return value

    @model_validator(mode="after")
    def _separators_differ(self) -> CurrencyRule:
        if self.decimal in self.thousands or self.decimal.isdigit():
            raise ValueError(
                f"decimal separator {self.decimal!r} must be a non-digit and not also a "
                "thousands separator"
            )
        return self

    def pattern(self) -> str:
        """The regex an amount in this currency must match (groups of exactly three digits)."""
        integer = r"(\d+)"
        if self.thousands:
            group = "[" + "".join(re.escape(s) for s in self.thousands) + "]"
            integer = rf"(\d+|\d{{1,3}}({group}\d{{3}})+)"
        fraction = ""
        if self.max_decimals:
            fraction = rf"({re.escape(self.decimal)}\d{{1,{self.max_decimals}}})?"
        return rf"^[+-]?{integer}{fraction}$"

    def describe(self) -> str:
        """The rule in words, for quarantine reasons."""
        thousands = " or ".join(repr(s) for s in self.thousands) or "none"
        return (
            f"thousands {thousands} between groups of three digits, decimal "
            f"{self.decimal!r}, at most {self.max_decimals} decimals"
        )


class ValueRules(BaseModel):
    """``conf/values.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rates_as_of: date
    currencies: dict[str, CurrencyRule] = Field(min_length=1)
    future_skew_hours: float = Field(ge=0)

    @field_validator("currencies")
    @classmethod
    def _iso_codes(cls, value: dict[str, CurrencyRule]) -> dict[str, CurrencyRule]:
        if bad := [code for code in value if not re.fullmatch(r"[A-Z]{3}", code)]:
            raise ValueError(f"currency codes must be ISO 4217 (three capitals): {bad}")
        if "VND" not in value or value["VND"].rate_to_vnd != 1:
            raise ValueError("VND must be listed with rate_to_vnd 1 (silver amounts are VND)")
        return value


def _describe(error: ValidationError, path: Path) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"])
        lines.append(f"  {key}: {problem['msg']} (got {problem.get('input')!r})")
    return f"{path}: invalid value rules:\n" + "\n".join(lines)


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> ValueRules:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML: {exc}") from exc
    try:
        return ValueRules.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from exc


def load_value_rules(path: Path = VALUES_FILE) -> ValueRules:
    """The validated value rules (cached per path).

    Raises:
        ConfigError: unreadable YAML, an unknown key, or a value of the wrong type or range.
    """
    return _load(Path(path))
