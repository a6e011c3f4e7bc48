"""Master-data extracts per landing day: full on day one, then new and changed records."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS, PERSON_SOURCES
from c360.reference_data import MOBILE_PREFIXES_BY_CARRIER, PROVINCES_PRE_2025
from c360.sample.activity import MEMBER_STATUSES, iso_timestamps, tiers_for_spend
from c360.sample.config import NoiseConfig, PopulationConfig
from c360.sample.geography import build_district_table, random_addresses
from c360.sample.noise import (
    ADDRESS,
    PHONE,
    PROVINCE,
    SOURCE_FIELDS,
    NoiseLog,
    ProfileNoiseSettings,
    noisy_identity_fields,
    pick,
)
from c360.sample.records import SECONDS_PER_DAY, Timeline
from c360.sample.text import stage_rng, unique_with_digits

ERP_CUSTOMER_TYPES: tuple[tuple[str, float], ...] = (("individual", 0.85), ("business", 0.15))
MOVE_WITHIN_PROVINCE = 0.7  # share of moves that stay in the same province


def master_extracts(
    source: str,
    persons: pd.DataFrame,
    recs: pd.DataFrame,
    spend_12m_vnd: np.ndarray,
    timeline: Timeline,
    rates: NoiseConfig,
    population: PopulationConfig,
    seed: int,
    log: NoiseLog,
    extra: pd.DataFrame | None = None,
    profile: ProfileNoiseSettings | None = None,
) -> dict[int, pd.DataFrame]:
    """The rows ``source`` lands on each day, with the contract's columns in contract order.

    Day 0 holds every record created by the end of the start date; each later day holds the
    records created that day plus existing records that changed that day (address or phone
    change, or a re-send), with ``updated_at`` moved to that day.

    ``extra`` (row for row with ``recs``, e.g. the consent columns) is landed unchanged after the
    contract's columns, in its own column order. ``profile`` adds a noise profile's kinds and
    absent roles (an absent phone never changes on a later day either).
    """
    rng = stage_rng(seed, f"noise:{source}")
    person_idx = recs["person_idx"].to_numpy()
    record_id = recs["record_id"].to_numpy(dtype=object)
    landed_day = recs["landed_day"].to_numpy()
    day_names = np.array(
        [timeline.day_date(d).isoformat() for d in range(timeline.days)], dtype=object
    )
    state, columns = _landed_state(
        source, persons, person_idx, record_id, day_names[landed_day], landed_day, rates, rng,
        log, spend_12m_vnd, extra, profile,
    )  # fmt: skip
    created = recs["created_s"].to_numpy().copy()
    updated = recs["updated_s"].to_numpy().copy()
    changes = _Changes(
        source, state, persons, person_idx, record_id, rates, log,
        stage_rng(seed, f"changes:{source}"), set(persons["phone"]),
    )  # fmt: skip
    phone_changes = PHONE in changes.roles and PHONE not in (
        profile.absent_roles if profile else ()
    )
    out: dict[int, pd.DataFrame] = {
        0: _emit(source, state, columns, created, updated, landed_day == 0)
    }
    for day in range(1, timeline.days):
        existing = landed_day < day
        changed = np.zeros(len(recs), dtype=bool)
        if ADDRESS in changes.roles:
            changed[changes.move(existing, day_names[day])] = True
        if phone_changes:
            changed[changes.switch_phones(existing, day_names[day])] = True
        changed[pick(changes.rng, existing, population.touch_rate)] = True
        day_start = timeline.start_s + day * SECONDS_PER_DAY
        updated[changed] = day_start + changes.rng.integers(6 * 3600, 22 * 3600, int(changed.sum()))
        out[day] = _emit(source, state, columns, created, updated, changed | (landed_day == day))
    return out


def _landed_state(
    source: str,
    persons: pd.DataFrame,
    person_idx: np.ndarray,
    record_id: np.ndarray,
    landed_names: np.ndarray,
    landed_day: np.ndarray,
    rates: NoiseConfig,
    rng: np.random.Generator,
    log: NoiseLog,
    spend_12m_vnd: np.ndarray,
    extra: pd.DataFrame | None,
    profile: ProfileNoiseSettings | None,
) -> tuple[pd.DataFrame, list[str]]:
    """Every record as first landed (noisy identity, source columns, ``extra``); landed columns."""
    entity = PERSON_SOURCES[source]
    state = pd.DataFrame(
        noisy_identity_fields(
            source, persons, person_idx, record_id, landed_names, rates, rng, log,
            profile,
        )
    )  # fmt: skip
    state[entity.key_column] = record_id
    _add_source_columns(source, state, persons, person_idx, landed_day, spend_12m_vnd, rng)
    extra_columns = [] if extra is None else list(extra.columns)
    if extra_columns:
        state[extra_columns] = extra.to_numpy(dtype=object)
    columns = [*entity.required_columns, *extra_columns]
    return state, columns


@dataclass
class _Changes:
    """Later-day changes to one source's records (in ``state``), drawn from ``rng`` and logged."""

    source: str
    state: pd.DataFrame
    persons: pd.DataFrame
    person_idx: np.ndarray
    record_id: np.ndarray
    rates: NoiseConfig
    log: NoiseLog
    rng: np.random.Generator
    taken_phones: set[str]

    def __post_init__(self) -> None:
        self.roles = SOURCE_FIELDS[self.source]
        self.districts = build_district_table()
        self.province_names = np.array([p.name for p in PROVINCES_PRE_2025], dtype=object)
        self.prefixes = np.array(
            [p for carrier in MOBILE_PREFIXES_BY_CARRIER.values() for p in carrier], dtype=object
        )

    def move(self, existing: np.ndarray, day_name: str) -> np.ndarray:
        """Move some existing records' people to a new address, mostly in the same province."""
        rng, roles, province_names = self.rng, self.roles, self.province_names
        moved = pick(rng, existing, self.rates.address_change)
        self.log.add(self.source, self.record_id[moved], roles[ADDRESS], "address_change", day_name)
        home = self.persons["province_idx"].to_numpy()[self.person_idx[moved]]
        stays = rng.random(len(moved)) < MOVE_WITHIN_PROVINCE
        province = np.where(stays, home, rng.integers(0, len(province_names), len(moved)))
        address = random_addresses(rng, province, self.districts)
        if self.source == ERP_CUSTOMERS.source:
            address = address + ", " + province_names[province]
        self.state.loc[moved, roles[ADDRESS]] = address
        if PROVINCE in roles:
            self.state.loc[moved, roles[PROVINCE]] = province_names[province]
        return moved

    def switch_phones(self, existing: np.ndarray, day_name: str) -> np.ndarray:
        """Give some existing records a new mobile number nobody has had."""
        switched = pick(self.rng, existing, self.rates.phone_change)
        self.log.add(
            self.source, self.record_id[switched], self.roles[PHONE], "phone_change", day_name
        )
        new_phone = unique_with_digits(
            self.rng,
            self.prefixes[self.rng.integers(0, len(self.prefixes), len(switched))],
            7,
            self.taken_phones,
        )
        self.taken_phones.update(new_phone)
        self.state.loc[switched, self.roles[PHONE]] = new_phone
        return switched


def _add_source_columns(
    source: str,
    state: pd.DataFrame,
    persons: pd.DataFrame,
    person_idx: np.ndarray,
    landed_day: np.ndarray,
    spend_12m_vnd: np.ndarray,
    rng: np.random.Generator,
) -> None:
    n = len(state)
    if source == ERP_CUSTOMERS.source:
        kinds = np.array([k for k, _ in ERP_CUSTOMER_TYPES], dtype=object)
        shares = np.array([s for _, s in ERP_CUSTOMER_TYPES])
        customer_type = kinds[rng.choice(len(kinds), size=n, p=shares / shares.sum())]
        business_tax_code = unique_with_digits(rng, np.full(n, "0", dtype=object), 9)
        personal = persons["tax_code"].to_numpy(dtype=object)[person_idx]
        state["tax_code"] = np.where(customer_type == "business", business_tax_code, personal)
        state["customer_type"] = customer_type
    elif source == LOYALTY_MEMBERS.source:
        state["card_number"] = unique_with_digits(rng, np.full(n, "8868", dtype=object), 12)
        state["tier"] = np.where(
            landed_day == 0, tiers_for_spend(spend_12m_vnd[person_idx]), "member"
        )
        statuses = np.array([s for s, _ in MEMBER_STATUSES], dtype=object)
        shares = np.array([s for _, s in MEMBER_STATUSES])
        state["status"] = statuses[rng.choice(len(statuses), size=n, p=shares / shares.sum())]


def _emit(
    source: str,
    state: pd.DataFrame,
    columns: list[str],
    created: np.ndarray,
    updated: np.ndarray,
    rows: np.ndarray,
) -> pd.DataFrame:
    """The selected records as landed: timestamps formatted, ``columns`` only, sorted by key."""
    entity = PERSON_SOURCES[source]
    frame = state.loc[rows].copy()
    created_s, updated_s = created[rows], updated[rows]
    if source == CRM_CONTACTS.source:
        frame["created_at"] = iso_timestamps(created_s, offset=True)
        frame["updated_at"] = iso_timestamps(updated_s, offset=True)
    elif source == ERP_CUSTOMERS.source:
        iso_dates = pd.Series(np.datetime_as_string(created_s.astype("datetime64[s]"), unit="D"))
        frame["created_date"] = iso_dates.str.replace("-", "", regex=False).to_numpy(dtype=object)
        frame["modified_date"] = iso_timestamps(updated_s, offset=False)
    else:
        frame["enrolled_at"] = iso_timestamps(created_s, offset=False)
        frame["updated_at"] = iso_timestamps(updated_s, offset=False)
    frame = frame[columns]
    return frame.sort_values(entity.key_column, ignore_index=True)
