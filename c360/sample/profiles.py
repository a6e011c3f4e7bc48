"""Noise profiles: differently shaped landing zones for evaluating identity resolution.

A profile is one YAML file in ``conf/sample/profiles/`` (or any path)::

    description: one line shown by the CLI and the docs
    noise: {typo: 0.08, given_name_first: 0.06}   # base kinds override conf/sample/noise.yaml;
                                                   # profile-only kinds (ProfileNoise) are added
    population: {twin_rate: 0.3}                   # PopulationConfig fields
    absent_fields: [phone, email]                  # identity roles no source lands

``default`` changes nothing: the same seed gives byte-identical output to a run without a profile.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path

import yaml

from c360.sample.config import (
    DEFAULT_PROFILE,
    PROFILE_DIR,
    GeneratorConfig,
    GeneratorInputError,
    NoiseConfig,
    PopulationConfig,
    ProfileNoise,
    load_noise_config,
)

# Roles a profile may leave out of every extract.
ABSENT_FIELD_ROLES = ("phone", "email", "gender", "national_id")
_KEYS = ("description", "noise", "population", "absent_fields")


@dataclass(frozen=True)
class NoiseProfile:
    """A named shape of landing zone: rates, added noise kinds, population, absent fields."""

    name: str
    description: str
    noise: dict[str, float]  # overrides of NoiseConfig kinds
    profile_noise: ProfileNoise
    population: dict[str, object]  # overrides of PopulationConfig fields
    absent_fields: tuple[str, ...]

    def generator_config(
        self,
        people: int,
        days: int,
        start: date,
        seed: int,
        noise: NoiseConfig | None = None,
        overrides: dict[str, float] | None = None,
        **settings: object,
    ) -> GeneratorConfig:
        """A GeneratorConfig of this profile over base rates ``noise`` (default noise.yaml).

        ``overrides`` ({kind: rate}) win over the profile, for base and profile-only kinds alike.
        """
        overrides = overrides or {}
        base_kinds = set(NoiseConfig.__dataclass_fields__)
        known = base_kinds | set(ProfileNoise.__dataclass_fields__)
        if unknown := sorted(set(overrides) - known):
            raise GeneratorInputError(
                f"unknown noise kinds {unknown}; known kinds: {sorted(known)}"
            )
        base = (noise or load_noise_config()).with_overrides(self.noise)
        base = base.with_overrides({k: v for k, v in overrides.items() if k in base_kinds})
        added = self.profile_noise.as_dict() | {
            k: v for k, v in overrides.items() if k not in base_kinds
        }
        return GeneratorConfig(
            people=people,
            days=days,
            start=start,
            seed=seed,
            noise=base,
            population=replace(PopulationConfig(), **self.population),
            profile=self.name,
            profile_noise=ProfileNoise.from_mapping(added, origin="--noise"),
            absent_fields=self.absent_fields,
            **settings,
        )


def available_profiles(folder: Path = PROFILE_DIR) -> list[str]:
    """Names of the profiles in ``folder`` (``conf/sample/profiles``)."""
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_noise_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> NoiseProfile:
    """Read a profile by name (``conf/sample/profiles/<name>.yaml``) or from a YAML path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = PROFILE_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise GeneratorInputError(
            f"noise profile {name_or_path!r} not found ({path}); available: "
            f"{', '.join(available_profiles())} (or pass a path to a profile YAML)"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or set(data) - set(_KEYS):
        raise GeneratorInputError(
            f"{path}: expected a mapping with (some of) the keys {list(_KEYS)}, got "
            f"{sorted(data) if isinstance(data, dict) else type(data).__name__}"
        )
    noise = dict(data.get("noise") or {})
    base_kinds = set(NoiseConfig.__dataclass_fields__)
    profile_noise = ProfileNoise.from_mapping(
        {k: v for k, v in noise.items() if k not in base_kinds}, origin=str(path)
    )
    population = _population_overrides(data.get("population") or {}, path)
    absent = tuple(data.get("absent_fields") or ())
    if bad := sorted(set(absent) - set(ABSENT_FIELD_ROLES)):
        raise GeneratorInputError(
            f"{path}: absent_fields {bad} unknown; choose from {list(ABSENT_FIELD_ROLES)}"
        )
    base = {k: v for k, v in noise.items() if k in base_kinds}
    load_noise_config().with_overrides(base)  # validates the rates, naming the kind
    return NoiseProfile(
        name=path.stem,
        description=str(data.get("description", "")).strip(),
        noise=base,
        profile_noise=profile_noise,
        population=population,
        absent_fields=absent,
    )


def _population_overrides(values: dict, path: Path) -> dict[str, object]:
    known = {f.name for f in fields(PopulationConfig)}
    if unknown := sorted(set(values) - known):
        raise GeneratorInputError(f"{path}: unknown population settings {unknown}")
    out = {key: _tuples(value) for key, value in values.items()}
    try:
        replace(PopulationConfig(), **out)
    except TypeError as error:
        raise GeneratorInputError(f"{path}: population: {error}") from error
    return out


def _tuples(value: object) -> object:
    """YAML lists as the tuples PopulationConfig holds (nested)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
