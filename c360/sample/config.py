"""Settings of the sample-data generator, as dataclasses.

Noise rates live in ``conf/sample/noise.yaml`` (their single definition); the population shape
(source overlap, households, activity) has its defaults here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path

import yaml

DEFAULT_NOISE_CONFIG = Path(__file__).resolve().parents[2] / "conf" / "sample" / "noise.yaml"

TRANSACTION_FORMATS = ("csv", "parquet")


class GeneratorInputError(ValueError):
    """A setting of the generator is invalid; the message says which and how to fix it."""


@dataclass(frozen=True)
class NoiseConfig:
    """Rate of each noise kind: the exact share of eligible values that receive it.

    Which fields each kind touches is ``c360.sample.noise.NOISE_TARGETS``.
    """

    drop_diacritics: float
    typo: float
    swapped_name_order: float
    missing_middle_name: float
    phone_intl_format: float
    phone_old_prefix: float
    email_upper: float
    legacy_cmnd: float
    dob_day_month_swap: float
    address_abbreviation: float
    province_new_name: float
    empty_field: float
    consent_invalid: float
    address_change: float
    phone_change: float

    @classmethod
    def from_mapping(cls, rates: Mapping[str, object], origin: str = "noise config") -> NoiseConfig:
        """Build from ``{kind: rate}``; every kind must be given once, as a number in [0, 1]."""
        kinds = [f.name for f in fields(cls)]
        unknown = sorted(set(rates) - set(kinds))
        missing = sorted(set(kinds) - set(rates))
        if unknown or missing:
            raise GeneratorInputError(
                f"{origin}: unknown noise kinds {unknown}, missing {missing}; "
                f"expected exactly {kinds}"
            )
        return cls(**{kind: _rate(rates[kind], kind, origin) for kind in kinds})

    def with_overrides(self, overrides: Mapping[str, float]) -> NoiseConfig:
        """A copy with some rates replaced, e.g. ``{"typo": 0.2}``."""
        kinds = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - kinds)
        if unknown:
            raise GeneratorInputError(
                f"unknown noise kinds {unknown}; known kinds: {sorted(kinds)}"
            )
        return replace(self, **{k: _rate(v, k, "override") for k, v in overrides.items()})

    def as_dict(self) -> dict[str, float]:
        """``{kind: rate}`` in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _rate(value: object, kind: str, origin: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise GeneratorInputError(
            f"{origin}: rate of {kind!r} must be a number in [0, 1], got {value!r}"
        )
    return float(value)


def load_noise_config(path: Path | None = None) -> NoiseConfig:
    """Read noise rates from a YAML mapping (default ``conf/sample/noise.yaml``)."""
    path = Path(path) if path is not None else DEFAULT_NOISE_CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"noise config {path} not found; pass --noise-config PATH")
    rates = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(rates, dict):
        raise GeneratorInputError(f"{path}: expected a mapping of noise kind to rate")
    return NoiseConfig.from_mapping(rates, origin=str(path))


@dataclass(frozen=True)
class PopulationConfig:
    """Shape of the synthetic population and its activity (defaults are the realistic ones)."""

    # Which person-bearing sources a person appears in: share of people per combination.
    source_combinations: tuple[tuple[tuple[str, ...], float], ...] = (
        (("crm",), 0.30),
        (("loyalty",), 0.12),
        (("erp",), 0.08),
        (("crm", "loyalty"), 0.25),
        (("crm", "erp"), 0.10),
        (("erp", "loyalty"), 0.03),
        (("crm", "erp", "loyalty"), 0.12),
    )
    # Share of a source's people who have a second record in that same source.
    duplicate_rate: float = 0.04
    # Household sizes (people who are customers) and their shares.
    household_sizes: tuple[tuple[int, float], ...] = ((1, 0.30), (2, 0.28), (3, 0.22), (4, 0.20))
    # Share of non-head household members who give the household's phone as their own.
    shared_phone_rate: float = 0.30
    # Share of households with two or more children whose first two children are twins.
    twin_rate: float = 0.08
    # Share of people given the exact name and birth year of an unrelated person.
    namesake_rate: float = 0.02
    email_rate: float = 0.85
    # Consent (crm and loyalty only): share of people whose current answer is yes, per flag.
    consent_email_rate: float = 0.45
    consent_sms_rate: float = 0.55
    consent_data_use_rate: float = 0.70
    # Per person and flag: changed the answer in the three years before the first landing day;
    # a source whose record was last updated before the change still holds the old answer.
    consent_change_rate: float = 0.08
    # Per record and flag: the source never asked, so the value lands blank.
    consent_unknown_rate: float = 0.10
    # Share of records first landed on a later day (spread evenly over the later days).
    late_record_rate: float = 0.03
    # Per existing record and later day: re-sent with nothing but updated_at changed.
    touch_rate: float = 0.01
    # Purchases per person per year: lognormal median and sigma (long-tailed).
    orders_per_year_median: float = 4.0
    orders_per_year_sigma: float = 1.0
    # Share of transactions without a customer reference.
    guest_share: float = 0.15
    stores_per_million_people: float = 2.0


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that determines a generated landing zone; same config, same bytes."""

    people: int
    days: int
    start: date
    seed: int
    noise: NoiseConfig
    history_days: int = 365
    transactions_format: str = "csv"
    population: PopulationConfig = field(default_factory=PopulationConfig)

    def __post_init__(self) -> None:
        if self.people < 1:
            raise GeneratorInputError(f"people must be at least 1, got {self.people}")
        if self.days < 1:
            raise GeneratorInputError(f"days must be at least 1, got {self.days}")
        if self.seed < 0:
            raise GeneratorInputError(f"seed must be >= 0, got {self.seed}")
        if self.history_days < 0:
            raise GeneratorInputError(f"history_days must be >= 0, got {self.history_days}")
        if self.transactions_format not in TRANSACTION_FORMATS:
            raise GeneratorInputError(
                f"transactions_format must be one of {TRANSACTION_FORMATS}, "
                f"got {self.transactions_format!r}"
            )
