"""The tunables of standardisation (``conf/standardise.yaml``) as one hashable, picklable value.

:class:`StandardiseRules` is a frozen dataclass of tuples and frozensets, so it can be a key of
``functools.lru_cache`` (the scalar functions cache per distinct value and rules) and travels to
Spark workers inside a ``mapInPandas`` closure. Lookup tables derived from it (the province index,
the family-name sets) are built once per rules object, on first use.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from c360.config import CONF_DIR, ConfigError
from c360.reference_data import (
    FAMILY_NAMES,
    GIVEN_NAMES,
    MIDDLE_NAMES,
    PROVINCES_2025,
    PROVINCES_PRE_2025,
    TRADITIONAL_MIDDLE_NAME,
    province_2025,
)
from c360.standardise.folding import fold

RULES_FILE = CONF_DIR / "standardise.yaml"

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Gender(_Section):
    male: list[str]
    female: list[str]


class _Consent(_Section):
    yes_values: list[str]
    no_values: list[str]


class _Names(_Section):
    reversal_min_family_share_percent: float = Field(1.0, ge=0.0, le=100.0)


class _DateOfBirth(_Section):
    earliest: date = date(1900, 1, 1)


class _NationalId(_Section):
    passport_pattern: str = r"^[A-Z]{1,2}[0-9]{6,8}$"
    min_length: int = Field(5, ge=1)
    max_length: int = Field(20, ge=1)


class _Email(_Section):
    domain_fixes: dict[str, str] = Field(default_factory=dict)


class _Address(_Section):
    abbreviations: dict[str, str] = Field(default_factory=dict)


class _Province(_Section):
    prefixes: list[str] = Field(default_factory=list)
    suffixes: list[str] = Field(default_factory=list)
    aliases: dict[str, str] = Field(default_factory=dict)


class _RulesFile(_Section):
    null_placeholders: list[str] = Field(default_factory=list)
    gender: _Gender
    consent: _Consent
    names: _Names = Field(default_factory=_Names)
    date_of_birth: _DateOfBirth = Field(default_factory=_DateOfBirth)
    email: _Email = Field(default_factory=_Email)
    national_id: _NationalId = Field(default_factory=_NationalId)
    address: _Address = Field(default_factory=_Address)
    province: _Province = Field(default_factory=_Province)


def _fold_key(text: str) -> str:
    """Fold a configured spelling the way values are folded before lookup."""
    return fold(text) or ""


def province_key(folded: str) -> str:
    """The lookup key of a folded province spelling: letters and digits only."""
    return _NON_ALNUM.sub("", folded)


@dataclass(frozen=True, eq=False)
class StandardiseRules:
    """Standardisation tunables, folded and ready for lookups.

    Build with :func:`load_rules` (or :func:`default_rules` for ``conf/standardise.yaml``).
    Compared and hashed by identity: a cheap cache key for the per-value caches.
    """

    null_placeholders: frozenset[str]
    male_values: frozenset[str]
    female_values: frozenset[str]
    consent_yes: frozenset[str]
    consent_no: frozenset[str]
    reversal_min_family_share_percent: float
    earliest_birth_date: date
    email_domain_fixes: tuple[tuple[str, str], ...]
    address_abbreviations: tuple[tuple[str, str], ...]
    province_prefixes: tuple[str, ...]
    province_suffixes: tuple[str, ...]
    province_aliases: tuple[tuple[str, str], ...]  # (key, 2025 province)
    passport_pattern: re.Pattern[str] = re.compile(r"^[A-Z]{1,2}[0-9]{6,8}$")
    national_id_min_length: int = 5
    national_id_max_length: int = 20

    @functools.cached_property
    def longest_placeholder(self) -> int:
        """Length of the longest placeholder (longer texts need no placeholder lookup)."""
        # Landed spellings may carry punctuation or spaces the folded form lost ("N/A").
        return 4 + max((len(p) for p in self.null_placeholders), default=0)

    @functools.cached_property
    def placeholders_without_digits(self) -> bool:
        """True when no placeholder holds a digit (texts with digits need no lookup)."""
        return not any(c.isdigit() for p in self.null_placeholders for c in p)

    @functools.cached_property
    def province_index(self) -> dict[str, str]:
        """Province key (see :func:`province_key`) -> canonical 2025 name."""
        index: dict[str, str] = {}
        spellings = [(p.name, p.merged_into) for p in PROVINCES_PRE_2025]
        spellings += [(name, name) for name in PROVINCES_2025]
        for spelling, canonical in spellings:
            key = province_key(_fold_key(spelling))
            if index.setdefault(key, canonical) != canonical:
                raise ValueError(f"province spelling {spelling!r} is ambiguous (key {key!r})")
        for key, canonical in self.province_aliases:
            if index.setdefault(key, canonical) != canonical:
                raise ConfigError(
                    f"{RULES_FILE}: province.aliases: {key!r} -> {canonical!r} clashes with "
                    f"the official name of {index[key]!r}"
                )
        return index

    @functools.cached_property
    def email_domain_fix_map(self) -> dict[str, str]:
        """Misspelt e-mail domain -> the right one."""
        return dict(self.email_domain_fixes)

    @functools.cached_property
    def address_abbreviation_pattern(self) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
        """Regexes matching ``"<abbr>."`` and ``"Q1"``-style abbreviations, or None."""
        if not self.address_abbreviations:
            return None
        alternatives = "|".join(
            re.escape(abbr)
            for abbr, _ in sorted(self.address_abbreviations, key=lambda a: -len(a[0]))
        )
        dotted = re.compile(rf"(?<!\w)({alternatives})\.\s*", re.IGNORECASE)
        numbered = re.compile(rf"(?<!\w)({alternatives})(\d{{1,3}})(?!\w)", re.IGNORECASE)
        return dotted, numbered

    @functools.cached_property
    def address_expansion(self) -> dict[str, str]:
        """Lower-case abbreviation -> expansion."""
        return {abbr.lower(): full for abbr, full in self.address_abbreviations}

    @functools.cached_property
    def family_names(self) -> tuple[dict[str, float], frozenset[str], frozenset[str]]:
        """Folded family name -> population share (%), the common ones, and given names.

        From the name frequency lists of :mod:`c360.reference_data`.
        """
        shares: dict[str, float] = {}
        for name, share in FAMILY_NAMES:
            key = _fold_key(name)
            shares[key] = shares.get(key, 0.0) + share
        common = frozenset(
            name
            for name, share in shares.items()
            if share >= self.reversal_min_family_share_percent
        )
        given = frozenset(_fold_key(name) for names in GIVEN_NAMES.values() for name, _ in names)
        return shares, common, given

    @functools.cached_property
    def name_vocabulary(self) -> frozenset[str]:
        """Folded tokens of the known Vietnamese family, middle and given names."""
        shares, _, given = self.family_names
        middle = {_fold_key(name) for names in MIDDLE_NAMES.values() for name, _ in names}
        middle |= {_fold_key(name) for name in TRADITIONAL_MIDDLE_NAME.values()}
        tokens = {t for name in (*shares, *given, *middle) for t in name.split()}
        return frozenset(tokens)


def _folded_set(values: list[str]) -> frozenset[str]:
    return frozenset(_fold_key(v) for v in values) - {""}


def rules_from_mapping(raw: dict[str, Any], source: str = "standardise rules") -> StandardiseRules:
    """Validate a mapping shaped like ``conf/standardise.yaml`` and build the rules.

    Raises:
        ConfigError: unknown key, wrong type, or an alias naming no known province.
    """
    try:
        parsed = _RulesFile.model_validate(raw)
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        )
        raise ConfigError(f"invalid standardisation rules ({source}):\n{problems}") from exc
    aliases = []
    for alias, target in parsed.province.aliases.items():
        canonical = province_2025(target)
        if canonical is None:
            raise ConfigError(
                f"{source}: province.aliases: {alias!r} points to {target!r}, which is not a "
                "province name (before or after the 2025 merger) in c360/reference_data.py"
            )
        aliases.append((province_key(_fold_key(alias)), canonical))
    return StandardiseRules(
        null_placeholders=_folded_set(parsed.null_placeholders),
        male_values=_folded_set(parsed.gender.male),
        female_values=_folded_set(parsed.gender.female),
        consent_yes=_folded_set(parsed.consent.yes_values),
        consent_no=_folded_set(parsed.consent.no_values),
        reversal_min_family_share_percent=parsed.names.reversal_min_family_share_percent,
        earliest_birth_date=parsed.date_of_birth.earliest,
        email_domain_fixes=tuple(
            (bad.strip().lower(), good.strip().lower())
            for bad, good in parsed.email.domain_fixes.items()
        ),
        address_abbreviations=tuple(parsed.address.abbreviations.items()),
        province_prefixes=tuple(
            sorted({province_key(_fold_key(p)) for p in parsed.province.prefixes}, key=len)[::-1]
        ),
        province_suffixes=tuple(
            sorted({province_key(_fold_key(s)) for s in parsed.province.suffixes}, key=len)[::-1]
        ),
        province_aliases=tuple(aliases),
        passport_pattern=_passport_pattern(parsed.national_id.passport_pattern, source),
        national_id_min_length=parsed.national_id.min_length,
        national_id_max_length=parsed.national_id.max_length,
    )


def _passport_pattern(pattern: str, source: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"{source}: national_id.passport_pattern {pattern!r} is not a regular expression: {exc}"
        ) from exc


def load_rules(path: Path = RULES_FILE) -> StandardiseRules:
    """Read and validate a rules file.

    Raises:
        ConfigError: the file is missing, not YAML, or not valid rules.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read standardisation rules: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return rules_from_mapping(raw, str(path))


@functools.lru_cache(maxsize=1)
def default_rules() -> StandardiseRules:
    """The rules of ``conf/standardise.yaml``, read once per process."""
    return load_rules(RULES_FILE)
