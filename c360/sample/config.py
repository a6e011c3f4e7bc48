"""Settings of the sample-data generator, as dataclasses.

Noise rates live in ``conf/sample/noise.yaml`` (their single definition); the population shape
(source overlap, households, activity) has its defaults here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path

import yaml

from c360.config import CONF_DIR

DEFAULT_NOISE_CONFIG = CONF_DIR / "sample" / "noise.yaml"
# Noise profiles (``c360 generate --noise-profile NAME``): one YAML per profile.
PROFILE_DIR = DEFAULT_NOISE_CONFIG.parent / "profiles"
DEFAULT_PROFILE = "default"
NAME_STYLES = ("vietnamese", "western")

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


@dataclass(frozen=True)
class ProfileNoise:
    """Rates of the noise kinds only some profiles use (0 = off; ``default`` uses none).

    Kept apart from ``NoiseConfig`` so the default profile's configuration, draws and output stay
    exactly what they were. Which fields each kind touches is ``c360.sample.noise.PROFILE_TARGETS``.
    """

    given_name_first: float = 0.0  # "Anh Nguyễn Văn": given name, then family and middle
    typing_residue: float = 0.0  # Telex / VNI / VIQR keystrokes: "Nguyeenx", "Nguye^~n"
    decomposed_unicode: float = 0.0  # NFD: base letters and combining marks
    tone_placement: float = 0.0  # "Hòa" <-> "Hoà" (eligible: a final oa / oe / uy with a tone)
    wrong_tone: float = 0.0  # "Hương" -> "Hường"
    initialled_name: float = 0.0  # "Nguyễn V. Anh", "Nguyễn Văn Th."
    truncated_name: float = 0.0  # the field cut at 12-16 characters
    other_phone: float = 0.0  # a different mobile number in this record
    national_id_format: float = 0.0  # "c 1234567", "C-1234567": lower case, spaces, hyphens
    dob_other_format: float = 0.0  # another accepted spelling (YYYY-MM-DD, DD/MM/YYYY, YYYYMMDD)
    dob_typo: float = 0.0  # one digit of the birth date mistyped
    missing_birth_date: float = 0.0  # birth date left blank

    @classmethod
    def from_mapping(cls, rates: Mapping[str, object], origin: str = "profile") -> ProfileNoise:
        """Build from ``{kind: rate}``; kinds not given stay 0."""
        kinds = [f.name for f in fields(cls)]
        if unknown := sorted(set(rates) - set(kinds)):
            raise GeneratorInputError(f"{origin}: unknown noise kinds {unknown}; known: {kinds}")
        return cls(**{kind: _rate(rate, kind, origin) for kind, rate in rates.items()})

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
    # Settings only some noise profiles change (their defaults leave the population as it was).
    # Names: "vietnamese" (family middle given) or "western" (given [middle] surname, no CCCD).
    name_style: str = "vietnamese"
    # Share of households with a male head and a son in which the eldest son carries the
    # father's full name (a hard negative: same name and address, birth dates 20-32 years apart).
    father_son_rate: float = 0.0
    # Share of those father / son pairs who both give the household's landline as their phone.
    landline_rate: float = 0.0
    # Share of people (living alone, not namesakes) given one of the most common full names.
    common_name_rate: float = 0.0
    # Western people's nationality: (phone region, passport template, share); a template holds
    # "#" for a digit and "L" for a letter, e.g. ("US", "L########", 0.3).
    nationalities: tuple[tuple[str, str, float], ...] = ()
    # Share of western people who give a number of their nationality (the rest a Vietnamese one).
    foreign_phone_rate: float = 0.0

    def manifest_dict(self) -> dict[str, object]:
        """``asdict`` minus profile-only settings left at their defaults (stable manifests)."""
        out = asdict(self)
        for name in _PROFILE_ONLY_POPULATION:
            if out[name] == _POPULATION_DEFAULTS[name]:
                del out[name]
        return out


_PROFILE_ONLY_POPULATION = (
    "name_style", "father_son_rate", "landline_rate", "common_name_rate", "nationalities",
    "foreign_phone_rate",
)  # fmt: skip
_POPULATION_DEFAULTS = {f.name: f.default for f in fields(PopulationConfig)}


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
    # The noise profile this configuration was built from, and what it adds to ``noise``.
    profile: str = DEFAULT_PROFILE
    profile_noise: ProfileNoise = field(default_factory=ProfileNoise)
    # Identity roles no source lands (e.g. phone and email in an ERP-like extract).
    absent_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.population.name_style not in NAME_STYLES:
            raise GeneratorInputError(
                f"name_style must be one of {NAME_STYLES}, got {self.population.name_style!r}"
            )
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
