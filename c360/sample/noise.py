"""Noise: what real extracts do to clean identity values, applied at exact, configured rates.

A kind's rate is the share of *eligible* values that receive it, per source and field:
``round(rate * eligible)`` values are picked without replacement. Every application is logged
(source_system, source_record_id, field, noise_kind, day), so tests and match evaluations can see
exactly what happened to each record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, EXTRACT_DATE_FORMATS, LOYALTY_MEMBERS
from c360.reference_data import MOBILE_PREFIX_OLD_FORM, MOBILE_PREFIXES_BY_CARRIER
from c360.sample.config import NoiseConfig, ProfileNoise
from c360.sample.spelling import INPUT_METHODS, decomposed, moved_tone, typed_residue, wrong_tone
from c360.sample.text import fold_array, stage_rng, typo_array, unique_with_digits
from c360.sample.world import international_format

# Identity roles a person-bearing source may carry.
NAME, PHONE, EMAIL, NATIONAL_ID, DOB, GENDER, ADDRESS, PROVINCE = (
    "name", "phone", "email", "national_id", "date_of_birth", "gender", "address", "province",
)  # fmt: skip
# Consent roles, landed under their own names as optional extra columns (c360/sample/consent.py).
CONSENT_EMAIL, CONSENT_SMS, CONSENT_DATA_USE = "consent_email", "consent_sms", "consent_data_use"
CONSENT_ROLES = (CONSENT_EMAIL, CONSENT_SMS, CONSENT_DATA_USE)  # also their landed order
_CONSENT_FIELDS = {role: role for role in CONSENT_ROLES}

# Role -> landed column, per source (checked against the contract below).
SOURCE_FIELDS: dict[str, dict[str, str]] = {
    CRM_CONTACTS.source: {
        NAME: "full_name", GENDER: "gender", DOB: "date_of_birth", PHONE: "phone",
        EMAIL: "email", NATIONAL_ID: "national_id", ADDRESS: "address", PROVINCE: "province",
        **_CONSENT_FIELDS,
    },
    ERP_CUSTOMERS.source: {
        NAME: "name", NATIONAL_ID: "national_id", PHONE: "phone", EMAIL: "email",
        ADDRESS: "billing_address", PROVINCE: "province",
    },
    LOYALTY_MEMBERS.source: {
        NAME: "full_name", PHONE: "phone", EMAIL: "email", DOB: "date_of_birth", GENDER: "gender",
        **_CONSENT_FIELDS,
    },
}  # fmt: skip
# Optional columns a source lands after the contract's required ones, in this order.
EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {
    source: tuple(fields[role] for role in CONSENT_ROLES if role in fields)
    for source, fields in SOURCE_FIELDS.items()
}

for _entity in (CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS):
    _unknown = (
        set(SOURCE_FIELDS[_entity.source].values())
        - set(_entity.required_columns)
        - set(EXTRA_COLUMNS[_entity.source])
    )
    assert not _unknown, f"{_entity.name}: {_unknown} not in the landing-zone contract"

# Noise kind -> the roles it touches (in every source that carries the role).
NOISE_TARGETS: dict[str, tuple[str, ...]] = {
    "missing_middle_name": (NAME,),
    "swapped_name_order": (NAME,),
    "typo": (NAME,),
    "drop_diacritics": (NAME, ADDRESS),
    "phone_old_prefix": (PHONE,),
    "phone_intl_format": (PHONE,),
    "email_upper": (EMAIL,),
    "legacy_cmnd": (NATIONAL_ID,),
    "dob_day_month_swap": (DOB,),
    "address_abbreviation": (ADDRESS,),
    "province_new_name": (PROVINCE,),
    "empty_field": (PHONE, EMAIL, NATIONAL_ID, DOB, GENDER, ADDRESS),
    "consent_invalid": CONSENT_ROLES,
    "address_change": (ADDRESS,),
    "phone_change": (PHONE,),
}
# Kinds applied on later days to records already landed (the rest apply when a record is created).
CHANGE_KINDS = ("address_change", "phone_change")
# Profile-only kinds (c360.sample.config.ProfileNoise) -> the roles they touch.
PROFILE_TARGETS: dict[str, tuple[str, ...]] = {
    "given_name_first": (NAME,),
    "typing_residue": (NAME,),
    "decomposed_unicode": (NAME,),
    "tone_placement": (NAME,),
    "wrong_tone": (NAME,),
    "initialled_name": (NAME,),
    "truncated_name": (NAME,),
    "other_phone": (PHONE,),
    "national_id_format": (NATIONAL_ID,),
    "dob_other_format": (DOB,),
    "dob_typo": (DOB,),
    "missing_birth_date": (DOB,),
}
# Person columns behind each role a profile may leave absent.
_ABSENT_COLUMNS = {
    PHONE: ("phone",), EMAIL: ("email",), GENDER: ("gender",),
    NATIONAL_ID: ("cccd", "cmnd", "passport"),
}  # fmt: skip
TRUNCATED_LENGTHS = (12, 16)  # a name field cut at 12 to 16 characters

# Date-of-birth format per source (the contract accepts all three spellings).
DOB_FORMAT: dict[str, str] = {CRM_CONTACTS.source: "%d/%m/%Y", LOYALTY_MEMBERS.source: "%Y-%m-%d"}
GENDER_LABELS: dict[str, dict[str, str]] = {
    CRM_CONTACTS.source: {"M": "Nam", "F": "Nữ"},
    LOYALTY_MEMBERS.source: {"M": "M", "F": "F"},
}
_ABBREVIATIONS = (
    ("Thành phố ", "TP. "), ("Phường ", "P. "), ("Quận ", "Q. "), ("Huyện ", "H. "),
    ("Xã ", "X. "),
)  # fmt: skip


@dataclass
class NoiseLog:
    """Collects one row per noise application."""

    frames: list[pd.DataFrame] = field(default_factory=list)

    def add(
        self, source: str, record_ids: np.ndarray, column: str, kind: str, day: str | np.ndarray
    ) -> None:
        """Record that ``kind`` was applied to ``column`` of these records, landing on ``day``.

        ``day`` is one ISO date for all of them, or an array with each record's landing day.
        """
        if len(record_ids):
            self.frames.append(
                pd.DataFrame(
                    {
                        "source_system": source,
                        "source_record_id": record_ids,
                        "field": column,
                        "noise_kind": kind,
                        "day": day,
                    }
                )
            )

    def to_frame(self) -> pd.DataFrame:
        """All applications, sorted."""
        columns = ["source_system", "source_record_id", "field", "noise_kind", "day"]
        if not self.frames:
            return pd.DataFrame(columns=columns)
        out = pd.concat(self.frames, ignore_index=True)
        return out.sort_values(columns, ignore_index=True)


@dataclass(frozen=True)
class ProfileNoiseSettings:
    """What a noise profile adds when a source's records are created (default: nothing)."""

    rates: ProfileNoise = field(default_factory=ProfileNoise)
    absent_roles: tuple[str, ...] = ()
    name_style: str = "vietnamese"
    seed: int = 0


def pick(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Indices of exactly ``round(rate * eligible.sum())`` eligible positions, ascending."""
    candidates = np.flatnonzero(eligible)
    k = int(np.floor(rate * len(candidates) + 0.5))
    return np.sort(rng.choice(candidates, size=k, replace=False))


@dataclass
class _RecordNoise:
    """One source's new records and the means to noise them: the base kinds draw from ``rng``,
    the profile's kinds from ``xrng``; every application is logged."""

    source: str
    persons: pd.DataFrame
    person_idx: np.ndarray
    record_ids: np.ndarray
    landed_days: np.ndarray
    rates: NoiseConfig
    rng: np.random.Generator
    xrng: np.random.Generator
    log: NoiseLog
    profile: ProfileNoiseSettings

    def __post_init__(self) -> None:
        self.roles = SOURCE_FIELDS[self.source]
        self.n = len(self.person_idx)
        self.everyone = np.ones(self.n, dtype=bool)
        self.vietnamese = self.profile.name_style == "vietnamese"
        self.absent = {c for role in self.profile.absent_roles for c in _ABSENT_COLUMNS[role]}

    def apply(self, kind: str, role: str, eligible: np.ndarray) -> np.ndarray:
        """Pick records for a base kind at its configured rate, and log them."""
        chosen = pick(self.rng, eligible, getattr(self.rates, kind))
        self._log(kind, role, chosen)
        return chosen

    def xapply(self, kind: str, role: str, eligible: np.ndarray) -> np.ndarray:
        """Pick records for a profile kind (none when its rate is 0), and log them."""
        rate = getattr(self.profile.rates, kind)
        if rate <= 0:
            return np.array([], dtype=np.int64)
        chosen = pick(self.xrng, eligible, rate)
        self._log(kind, role, chosen)
        return chosen

    def _log(self, kind: str, role: str, chosen: np.ndarray) -> None:
        for day in np.unique(self.landed_days[chosen]):
            on_day = chosen[self.landed_days[chosen] == day]
            self.log.add(self.source, self.record_ids[on_day], self.roles[role], kind, str(day))

    def person(self, column: str) -> np.ndarray:
        """The true ``column`` of each record's person ("" where absent in this profile)."""
        if column in self.absent or column not in self.persons:
            return np.full(self.n, "", dtype=object)
        return self.persons[column].to_numpy(dtype=object)[self.person_idx]


def noisy_identity_fields(
    source: str,
    persons: pd.DataFrame,
    person_idx: np.ndarray,
    record_ids: np.ndarray,
    landed_days: np.ndarray,
    rates: NoiseConfig,
    rng: np.random.Generator,
    log: NoiseLog,
    profile: ProfileNoiseSettings | None = None,
) -> dict[str, np.ndarray]:
    """The landed identity columns of new records of ``source``, with noise applied and logged.

    Args:
        source: a person-bearing source name.
        persons: the true population.
        person_idx: the person behind each record.
        record_ids: each record's key.
        landed_days: each record's landing day (ISO date string) for the log.
        rates: noise rates.
        rng: this source's generator.
        log: where applications are recorded.
        profile: the noise profile's added kinds, absent roles and name style; its kinds draw
            from their own generator, so the base kinds pick the same values with or without it.

    Returns:
        ``{landed column: object array}`` for the roles the source carries.
    """
    profile = profile or ProfileNoiseSettings()
    nz = _RecordNoise(
        source, persons, person_idx, record_ids, landed_days, rates, rng,
        stage_rng_for(profile.seed, source), log, profile,
    )  # fmt: skip
    roles = nz.roles
    out: dict[str, np.ndarray] = {roles[NAME]: _noisy_names(nz)}
    out[roles[PHONE]] = _noisy_phones(nz)
    email = nz.person("email").copy()
    chosen = nz.apply("email_upper", EMAIL, email != "")
    email[chosen] = np.array([e.upper() for e in email[chosen]], dtype=object)
    out[roles[EMAIL]] = email
    if NATIONAL_ID in roles:
        out[roles[NATIONAL_ID]] = _noisy_national_ids(nz)
    if DOB in roles:
        out[roles[DOB]] = _noisy_birth_dates(nz)
    if GENDER in roles:
        labels, gender = GENDER_LABELS[source], nz.person("gender")
        out[roles[GENDER]] = np.select(
            [gender == "M", gender == "F"], [labels["M"], labels["F"]], ""
        ).astype(object)
    if ADDRESS in roles:
        out[roles[ADDRESS]] = _noisy_addresses(nz)
    if PROVINCE in roles:
        province, merged = nz.person("province").copy(), nz.person("province_2025")
        chosen = nz.apply("province_new_name", PROVINCE, province != merged)
        province[chosen] = merged[chosen]
        out[roles[PROVINCE]] = province
    _blank_fields(nz, out)
    return out


def _noisy_names(nz: _RecordNoise) -> np.ndarray:
    """Names: structure first (middle name, order, initials), then length, then spelling."""
    everyone, vietnamese = nz.everyone, nz.vietnamese
    family, middle, given = (nz.person(c) for c in ("family_name", "middle_name", "given_name"))
    middle, given = middle.copy(), given.copy()
    middle[nz.apply("missing_middle_name", NAME, middle != "" if not vietnamese else everyone)] = ""
    swapped = np.zeros(nz.n, dtype=bool)
    swapped[nz.apply("swapped_name_order", NAME, everyone)] = True
    given_first = np.zeros(nz.n, dtype=bool)
    given_first[nz.xapply("given_name_first", NAME, ~swapped if vietnamese else ~everyone)] = True
    _initial(nz.xrng, nz.xapply("initialled_name", NAME, everyone), middle, given)
    name = _assemble_names(family, middle, given, swapped, given_first, vietnamese)
    chosen = nz.apply("typo", NAME, everyone)
    name[chosen] = typo_array(nz.rng, name[chosen])
    chosen = nz.xapply("truncated_name", NAME, _lengths(name) > TRUNCATED_LENGTHS[0])
    cut = nz.xrng.integers(TRUNCATED_LENGTHS[0], TRUNCATED_LENGTHS[1] + 1, len(chosen))
    name[chosen] = [
        v[: min(c, len(v) - 1)].rstrip() for v, c in zip(name[chosen], cut, strict=True)
    ]
    _misspell_names(nz, name)
    return name


def _misspell_names(nz: _RecordNoise, name: np.ndarray) -> None:
    """Tone, diacritic and Unicode spelling noise on assembled names (in place)."""
    everyone, xrng = nz.everyone, nz.xrng
    chosen = nz.xapply("wrong_tone", NAME, everyone if nz.vietnamese else ~everyone)
    name[chosen] = [
        wrong_tone(v, int(w), int(t))
        for v, w, t in zip(name[chosen], xrng.integers(-3, 0, len(chosen)),
                           xrng.integers(0, 6, len(chosen)), strict=True)
    ]  # fmt: skip
    moved = np.array(
        [moved_tone(v) if nz.profile.rates.tone_placement else None for v in name], dtype=object
    )
    chosen = nz.xapply("tone_placement", NAME, moved != None)  # noqa: E711 (elementwise)
    name[chosen] = moved[chosen]
    has_marks = name != fold_array(name)
    chosen = nz.apply("drop_diacritics", NAME, everyone if nz.vietnamese else has_marks)
    name[chosen] = fold_array(name[chosen])
    chosen = nz.xapply("typing_residue", NAME, name != fold_array(name))
    methods = np.array(list(INPUT_METHODS), dtype=object)[xrng.integers(0, 3, len(chosen))]
    name[chosen] = [typed_residue(v, m) for v, m in zip(name[chosen], methods, strict=True)]
    chosen = nz.xapply("decomposed_unicode", NAME, name != np.array([decomposed(v) for v in name]))
    name[chosen] = [decomposed(v) for v in name[chosen]]


def _noisy_phones(nz: _RecordNoise) -> np.ndarray:
    """Phones: the pre-2018 11-digit form where one existed, then +84 / 84 spellings."""
    phone = nz.person("phone").copy()
    old_form = np.array([MOBILE_PREFIX_OLD_FORM.get(p[:3], "") for p in phone], dtype=object)
    chosen = nz.apply("phone_old_prefix", PHONE, old_form != "")
    phone[chosen] = old_form[chosen] + np.array([p[3:] for p in phone[chosen]], dtype=object)
    chosen = nz.xapply("other_phone", PHONE, phone != "")
    phone[chosen] = _other_mobiles(nz.xrng, len(chosen), set(nz.persons["phone"]))
    chosen = nz.apply("phone_intl_format", PHONE, phone != "")
    styles = np.array(["+84", "84", "(+84) "], dtype=object)[nz.rng.integers(0, 3, len(chosen))]
    foreign = np.array([p.startswith("+") for p in phone[chosen]], dtype=bool)
    local, abroad = chosen[~foreign], chosen[foreign]
    phone[local] = styles[~foreign] + np.array([p[1:] for p in phone[local]], dtype=object)
    phone[abroad] = international_format(phone[abroad])
    return phone


def _noisy_national_ids(nz: _RecordNoise) -> np.ndarray:
    """CCCD (else passport), sometimes the legacy CMND instead, sometimes spelled differently."""
    national_id = nz.person("cccd").copy()
    national_id = np.where(national_id == "", nz.person("passport"), national_id)
    cmnd = nz.person("cmnd")
    chosen = nz.apply("legacy_cmnd", NATIONAL_ID, cmnd != "")
    national_id[chosen] = cmnd[chosen]
    chosen = nz.xapply("national_id_format", NATIONAL_ID, national_id != "")
    national_id[chosen] = _id_spellings(nz.xrng, national_id[chosen])
    return national_id


def _noisy_birth_dates(nz: _RecordNoise) -> np.ndarray:
    """Birth dates in the source's format, with day/month swaps, other formats and digit typos."""
    fmt = DOB_FORMAT[nz.source]
    dob = pd.DatetimeIndex(pd.to_datetime(nz.person("date_of_birth")))
    text = dob.strftime(fmt).to_numpy(dtype=object)
    day_of_month, month = dob.day.to_numpy(), dob.month.to_numpy()
    chosen = nz.apply("dob_day_month_swap", DOB, (day_of_month <= 12) & (day_of_month != month))
    text[chosen] = _swap_day_month(dob[chosen], fmt)
    chosen = nz.xapply("dob_other_format", DOB, nz.everyone)
    text[chosen] = _other_format(nz.xrng, text[chosen], fmt)
    chosen = nz.xapply("dob_typo", DOB, nz.everyone)
    text[chosen] = _digit_typo(nz.xrng, text[chosen])
    return text


def _noisy_addresses(nz: _RecordNoise) -> np.ndarray:
    """Addresses, some abbreviated, some without diacritics."""
    address = nz.person("address").copy()
    if nz.source == ERP_CUSTOMERS.source:  # billing addresses spell out the province
        address = address + ", " + nz.person("province")
    chosen = nz.apply("address_abbreviation", ADDRESS, nz.everyone)
    address[chosen] = abbreviate(address[chosen])
    chosen = nz.apply("drop_diacritics", ADDRESS, nz.everyone)
    address[chosen] = fold_array(address[chosen])
    return address


def _blank_fields(nz: _RecordNoise, out: dict[str, np.ndarray]) -> None:
    """Blanks (in place) last, so they never hide which other kinds were eligible."""
    roles = nz.roles
    if DOB in roles:
        out[roles[DOB]][nz.xapply("missing_birth_date", DOB, out[roles[DOB]] != "")] = ""
    for role in NOISE_TARGETS["empty_field"]:
        if role in roles:
            values = out[roles[role]]
            values[nz.apply("empty_field", role, values != "")] = ""


def _swap_day_month(dob: pd.DatetimeIndex, fmt: str) -> np.ndarray:
    """Birth dates written with day and month exchanged, in the source's format."""
    # Only called for days 1-12, so the swapped value is itself a valid date.
    swapped = pd.to_datetime(pd.DataFrame({"year": dob.year, "month": dob.day, "day": dob.month}))
    return pd.DatetimeIndex(swapped).strftime(fmt).to_numpy(dtype=object)


def abbreviate(addresses: np.ndarray) -> np.ndarray:
    """Shorten administrative prefixes: ``"Phường Bến Nghé, Quận 1"`` -> ``"P. Bến Nghé, Q. 1"``."""
    out = pd.Series(addresses, dtype=object)
    for long, short in _ABBREVIATIONS:
        out = out.str.replace(long, short, regex=False)
    return out.to_numpy(dtype=object)


def stage_rng_for(seed: int, source: str) -> np.random.Generator:
    """The generator of a profile's added noise kinds for one source."""
    return stage_rng(seed, f"profile-noise:{source}")


def _lengths(values: np.ndarray) -> np.ndarray:
    return np.array([len(v) for v in values], dtype=np.int64)


def _assemble_names(
    family: np.ndarray,
    middle: np.ndarray,
    given: np.ndarray,
    swapped: np.ndarray,
    given_first: np.ndarray,
    vietnamese: bool,
) -> np.ndarray:
    """Full names in each record's order.

    Vietnamese: family middle given; swapped given middle family; given-first given family
    middle. Western: given middle surname; swapped surname middle given.
    """
    if vietnamese:
        first, last = np.where(swapped, given, family), np.where(swapped, family, given)
    else:
        first, last = np.where(swapped, family, given), np.where(swapped, given, family)
    name = np.where(middle == "", first + " " + last, first + " " + middle + " " + last)
    rest = np.where(middle == "", family, family + " " + middle)
    return np.where(given_first, given + " " + rest, name).astype(object)


def _initial(
    rng: np.random.Generator, chosen: np.ndarray, middle: np.ndarray, given: np.ndarray
) -> None:
    """In place: the middle name as an initial ("V.") or the given name cut ("Th.")."""
    on_middle = (rng.random(len(chosen)) < 0.5) & (middle[chosen] != "")
    for i in chosen[on_middle]:
        middle[i] = middle[i][0] + "."
    keep = rng.integers(1, 3, len(chosen))
    for i, letters in zip(chosen[~on_middle], keep[~on_middle], strict=True):
        given[i] = given[i][: min(letters, max(len(given[i]) - 1, 1))] + "."


def _other_mobiles(rng: np.random.Generator, n: int, taken: set[str]) -> np.ndarray:
    """``n`` new Vietnamese mobile numbers held by nobody else."""
    prefixes = np.array(
        [p for carrier in MOBILE_PREFIXES_BY_CARRIER.values() for p in carrier], dtype=object
    )
    return unique_with_digits(rng, prefixes[rng.integers(0, len(prefixes), n)], 7, taken)


def _id_spellings(rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
    """Identity document numbers as typed by hand: lower case, a space or hyphens inside."""
    style = rng.integers(0, 3, len(ids))
    out = np.empty(len(ids), dtype=object)
    for i, (value, how) in enumerate(zip(ids, style, strict=True)):
        if how == 0 and value.upper() != value.lower():
            out[i] = value.lower()
        elif how == 1:
            out[i] = value[:1] + " " + value[1:]
        else:
            out[i] = value[:1] + "-" + value[1:4] + "-" + value[4:]
    return out


def _other_format(rng: np.random.Generator, texts: np.ndarray, fmt: str) -> np.ndarray:
    """Dates written in another of the contract's accepted spellings."""
    others = [f for f in EXTRACT_DATE_FORMATS if f != fmt]
    dates = pd.to_datetime(pd.Series(texts, dtype=object), format=fmt)
    which = rng.integers(0, len(others), len(texts))
    return np.array(
        [d.strftime(others[w]) for d, w in zip(dates, which, strict=True)], dtype=object
    )


def _digit_typo(rng: np.random.Generator, texts: np.ndarray) -> np.ndarray:
    """One digit of each date mistyped (never the century); the result may be no valid date."""
    out = np.empty(len(texts), dtype=object)
    for i, text in enumerate(texts):
        century = (6, 7) if text[2:3] == "/" else (0, 1)
        positions = [j for j, c in enumerate(text) if c.isdigit() and j not in century]
        j = positions[int(rng.integers(0, len(positions)))]
        digit = str((int(text[j]) + int(rng.integers(1, 10))) % 10)
        out[i] = text[:j] + digit + text[j + 1 :]
    return out
