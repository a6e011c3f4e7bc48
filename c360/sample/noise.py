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

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS
from c360.reference_data import MOBILE_PREFIX_OLD_FORM
from c360.sample.config import NoiseConfig
from c360.sample.text import fold_array, typo_array

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


def pick(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Indices of exactly ``round(rate * eligible.sum())`` eligible positions, ascending."""
    candidates = np.flatnonzero(eligible)
    k = int(np.floor(rate * len(candidates) + 0.5))
    return np.sort(rng.choice(candidates, size=k, replace=False))


def noisy_identity_fields(
    source: str,
    persons: pd.DataFrame,
    person_idx: np.ndarray,
    record_ids: np.ndarray,
    landed_days: np.ndarray,
    rates: NoiseConfig,
    rng: np.random.Generator,
    log: NoiseLog,
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

    Returns:
        ``{landed column: object array}`` for the roles the source carries.
    """
    roles = SOURCE_FIELDS[source]
    n = len(person_idx)
    everyone = np.ones(n, dtype=bool)

    def apply(kind: str, role: str, eligible: np.ndarray) -> np.ndarray:
        chosen = pick(rng, eligible, getattr(rates, kind))
        for day in np.unique(landed_days[chosen]):
            on_day = chosen[landed_days[chosen] == day]
            log.add(source, record_ids[on_day], roles[role], kind, str(day))
        return chosen

    def person(column: str) -> np.ndarray:
        return persons[column].to_numpy(dtype=object)[person_idx]

    out: dict[str, np.ndarray] = {}

    # Names: structure first (middle name, order), then spelling (typo, diacritics).
    family, middle, given = person("family_name"), person("middle_name"), person("given_name")
    middle = middle.copy()
    middle[apply("missing_middle_name", NAME, everyone)] = ""
    swapped = np.zeros(n, dtype=bool)
    swapped[apply("swapped_name_order", NAME, everyone)] = True
    first, last = np.where(swapped, given, family), np.where(swapped, family, given)
    name = np.where(middle == "", first + " " + last, first + " " + middle + " " + last)
    chosen = apply("typo", NAME, everyone)
    name[chosen] = typo_array(rng, name[chosen])
    chosen = apply("drop_diacritics", NAME, everyone)
    name[chosen] = fold_array(name[chosen])
    out[roles[NAME]] = name

    # Phones: the pre-2018 11-digit form where one existed, then +84 / 84 spellings.
    phone = person("phone").copy()
    old_form = np.array([MOBILE_PREFIX_OLD_FORM.get(p[:3], "") for p in phone], dtype=object)
    chosen = apply("phone_old_prefix", PHONE, old_form != "")
    phone[chosen] = old_form[chosen] + np.array([p[3:] for p in phone[chosen]], dtype=object)
    chosen = apply("phone_intl_format", PHONE, phone != "")
    styles = np.array(["+84", "84", "(+84) "], dtype=object)[rng.integers(0, 3, len(chosen))]
    phone[chosen] = styles + np.array([p[1:] for p in phone[chosen]], dtype=object)
    out[roles[PHONE]] = phone

    email = person("email").copy()
    chosen = apply("email_upper", EMAIL, email != "")
    email[chosen] = np.array([e.upper() for e in email[chosen]], dtype=object)
    out[roles[EMAIL]] = email

    if NATIONAL_ID in roles:
        national_id = person("cccd").copy()
        cmnd = person("cmnd")
        chosen = apply("legacy_cmnd", NATIONAL_ID, cmnd != "")
        national_id[chosen] = cmnd[chosen]
        out[roles[NATIONAL_ID]] = national_id

    if DOB in roles:
        dob = pd.DatetimeIndex(pd.to_datetime(person("date_of_birth")))
        text = dob.strftime(DOB_FORMAT[source]).to_numpy(dtype=object)
        day_of_month, month = dob.day.to_numpy(), dob.month.to_numpy()
        chosen = apply("dob_day_month_swap", DOB, (day_of_month <= 12) & (day_of_month != month))
        text[chosen] = _swap_day_month(dob[chosen], DOB_FORMAT[source])
        out[roles[DOB]] = text

    if GENDER in roles:
        labels = GENDER_LABELS[source]
        out[roles[GENDER]] = np.where(person("gender") == "M", labels["M"], labels["F"])

    if ADDRESS in roles:
        address = person("address").copy()
        if source == ERP_CUSTOMERS.source:  # billing addresses spell out the province
            address = address + ", " + person("province")
        chosen = apply("address_abbreviation", ADDRESS, everyone)
        address[chosen] = abbreviate(address[chosen])
        chosen = apply("drop_diacritics", ADDRESS, everyone)
        address[chosen] = fold_array(address[chosen])
        out[roles[ADDRESS]] = address

    if PROVINCE in roles:
        province, merged = person("province").copy(), person("province_2025")
        chosen = apply("province_new_name", PROVINCE, province != merged)
        province[chosen] = merged[chosen]
        out[roles[PROVINCE]] = province

    # Blanks last, so they never hide which other kinds were eligible.
    for role in NOISE_TARGETS["empty_field"]:
        if role in roles:
            values = out[roles[role]]
            values[apply("empty_field", role, values != "")] = ""
    return out


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
