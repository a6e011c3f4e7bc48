"""Configuration: ``conf/base.yaml`` merged with a profile (``conf/profiles/<name>.yaml``)
and environment overrides.

This is the only place that reads ``C360_PROFILE``, ``C360_CONF`` and the other ``C360_*``
variables (``C360_SPARK_*`` set single ``spark.*`` keys, see :data:`ENV_SECTION_OVERRIDES`).
Invalid configuration fails at start-up with a :class:`ConfigError` naming the key.

The ``conf/`` folder is found once, at import (:func:`find_conf_dir`): ``$C360_CONF`` when set,
else the source tree's ``conf/`` (a checkout or an editable install), else the copy an installed
wheel ships under ``<prefix>/share/c360/conf``.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from c360.contract import LOCAL_TIMEZONE
from c360.errors import ConfigurationError

# Where conf/ is when running from the source tree, and where a wheel installs it (pyproject's
# [tool.setuptools.data-files]).
SOURCE_CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
INSTALLED_CONF_DIR = Path(sysconfig.get_path("data")) / "share" / "c360" / "conf"
DEFAULT_PROFILE = "local"
ENV_OVERRIDES = {
    "C360_LAKEHOUSE": "lakehouse_root",
    "C360_RAW": "raw_root",
    "C360_TRUTH": "truth_root",
}
# Variables that set one key of a section, like spark-submit's --master and --driver-memory:
# the same profile then runs against another cluster (or a test's standalone master).
ENV_SECTION_OVERRIDES = {
    "C360_SPARK_MASTER": ("spark", "master"),
    "C360_SPARK_DRIVER_MEMORY": ("spark", "driver_memory"),
    "C360_SPARK_SHUFFLE_PARTITIONS": ("spark", "shuffle_partitions"),
}


class ConfigError(ConfigurationError):
    """Configuration that cannot be used; the message names the offending key (never retried)."""


def find_conf_dir(
    environ: Mapping[str, str] | None = None,
    candidates: tuple[Path, ...] = (SOURCE_CONF_DIR, INSTALLED_CONF_DIR),
) -> Path:
    """The configuration folder: ``$C360_CONF``, else the first of ``candidates`` that holds
    ``base.yaml``.

    Raises:
        ConfigError: ``C360_CONF`` names a folder without ``base.yaml``, or no candidate has one.
    """
    env = os.environ if environ is None else environ
    if explicit := env.get("C360_CONF"):
        folder = Path(explicit).expanduser().absolute()
        if not (folder / "base.yaml").is_file():
            raise ConfigError(
                f"C360_CONF={explicit}: no base.yaml in {folder}; point it at a folder laid out "
                "like the repository's conf/ (base.yaml, profiles/<name>.yaml, ...)"
            )
        return folder
    for folder in candidates:
        if (folder / "base.yaml").is_file():
            return folder
    raise ConfigError(
        "no c360 configuration found (looked for base.yaml in "
        + ", ".join(str(f) for f in candidates)
        + "): set C360_CONF to a folder laid out like the repository's conf/"
    )


CONF_DIR = find_conf_dir()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SparkSettings(_Section):
    """How to build the SparkSession (see c360.spark)."""

    master: str = "local[*]"
    app_name: str = "c360"
    driver_memory: str = Field("4g", pattern=r"^\d+[kmgt]?$")
    # "auto": twice the cores of the driver machine (local mode); set a number on a cluster
    shuffle_partitions: int | Literal["auto"] = "auto"
    log_level: Literal["ALL", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"] = "ERROR"
    extra_conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("shuffle_partitions")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("must be a positive integer or 'auto'")
        return value

    def resolved_shuffle_partitions(self) -> int:
        if self.shuffle_partitions == "auto":
            return max(2, 2 * (os.cpu_count() or 1))
        return int(self.shuffle_partitions)


class StorageSettings(_Section):
    writer: Literal["auto", "delta-rs", "delta-spark"] = "auto"


class IdentitySettings(_Section):
    backend: Literal["duckdb", "spark"] = "duckdb"
    match_probability_threshold: float = Field(0.95, gt=0.0, lt=1.0)
    duckdb_memory_limit: str | None = Field("6GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB)$")
    # Where DuckDB spills beyond its memory limit; None: <lakehouse_root>/_tmp/duckdb.
    duckdb_temp_directory: str | None = None


class LandingSettings(_Section):
    """How strictly the landing zone is read (see c360.contract)."""

    # a file or folder matching no source's pattern: fail the run, or warn and ingest the rest
    unknown_files: Literal["error", "warn"] = "error"


class LockSettings(_Section):
    """The lakehouse lock (c360.lock): lease length, renewal, how long a second run waits."""

    lease_seconds: float = Field(120, gt=0)  # a lease not renewed for this long is stale
    timeout_seconds: float = Field(0, ge=0)  # 0: a second run exits at once naming the holder
    poll_seconds: float = Field(2, gt=0)


class ScheduleSettings(_Section):
    cron: str = "0 2 * * *"
    timezone: str = LOCAL_TIMEZONE


class Settings(_Section):
    """Everything a run needs to know, resolved from ``conf/`` and the environment."""

    profile: str = DEFAULT_PROFILE
    lakehouse_root: Path
    raw_root: Path
    truth_root: Path | None = None
    spark: SparkSettings = Field(default_factory=SparkSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    landing: LandingSettings = Field(default_factory=LandingSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    lock: LockSettings = Field(default_factory=LockSettings)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"{path}: expected a mapping at the top level, got {type(loaded).__name__}"
        )
    return loaded


def read_yaml_rules(path: Path) -> dict[str, Any]:
    """A conf/ rules file as a mapping; a clear :class:`ConfigError` naming the file otherwise."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return loaded


def validation_message(error: ValidationError, path: Path, what: str) -> str:
    """``<path>: invalid <what>:`` and one line per problem, naming its key (never raw input:
    rules files hold no PII, but the message format is shared with ones that might)."""
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  {key}: {problem['msg'].removeprefix('Value error, ')}")
    return f"{path}: invalid {what}:\n" + "\n".join(lines)


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"])
        lines.append(f"  {key}: {problem['msg']} (got {problem.get('input')!r})")
    return f"invalid configuration ({source}):\n" + "\n".join(lines)


def load_settings(
    profile: str | None = None,
    overrides: dict[str, Any] | None = None,
    conf_dir: Path = CONF_DIR,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Resolve settings: base.yaml < <profile>.yaml < C360_* environment < ``overrides``.

    Args:
        profile: profile name; defaults to ``$C360_PROFILE`` or ``local``.
        overrides: explicit values (e.g. from CLI flags), nested like the YAML.
        conf_dir: folder holding ``base.yaml`` and ``profiles/<profile>.yaml``.
        environ: environment to read (defaults to ``os.environ``).

    Raises:
        ConfigError: unknown profile, unknown key, or a value of the wrong type or range.
    """
    env = os.environ if environ is None else environ
    profile = profile or env.get("C360_PROFILE") or DEFAULT_PROFILE
    profile_file = conf_dir / "profiles" / f"{profile}.yaml"
    if not profile_file.is_file():
        known = sorted(p.stem for p in (conf_dir / "profiles").glob("*.yaml"))
        raise ConfigError(f"C360_PROFILE: unknown profile {profile!r}; known profiles: {known}")
    raw = _deep_merge(_read_yaml(conf_dir / "base.yaml"), _read_yaml(profile_file))
    for variable, key in ENV_OVERRIDES.items():
        if env.get(variable):
            raw[key] = env[variable]
    for variable, (section, key) in ENV_SECTION_OVERRIDES.items():
        if env.get(variable):
            raw = _deep_merge(raw, {section: {key: env[variable]}})
    raw = _deep_merge(raw, overrides or {})
    raw["profile"] = profile
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, f"profile {profile!r}")) from exc
    return settings.model_copy(
        update={
            "lakehouse_root": settings.lakehouse_root.expanduser().absolute(),
            "raw_root": settings.raw_root.expanduser().absolute(),
            "truth_root": settings.truth_root.expanduser().absolute()
            if settings.truth_root
            else None,
        }
    )
