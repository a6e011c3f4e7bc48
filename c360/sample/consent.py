"""Consent flags: what each person agreed to, what each source knows, and how it spells it.

Each person has a current answer per flag (``consent_email``, ``consent_sms``,
``consent_data_use``) drawn at ``PopulationConfig``'s rates. A share of people changed one answer at
some moment in the years before the first landing day; a source whose record was last updated
before that moment still holds the old answer, so linked records occasionally disagree and the
more recent one is right. Some values are unknown (the source never asked) and land blank; the
``consent_invalid`` noise kind replaces a known value with a spelling no parser accepts.

Only the CRM and loyalty extracts carry consent (as optional extra columns after the contract's);
the ERP, a billing system, says nothing about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from c360.contract import CRM_CONTACTS, LOYALTY_MEMBERS
from c360.sample.config import NoiseConfig, PopulationConfig
from c360.sample.noise import CONSENT_ROLES, SOURCE_FIELDS, NoiseLog, pick
from c360.sample.records import SECONDS_PER_DAY, Timeline
from c360.sample.text import stage_rng

CONSENT_SOURCES: tuple[str, ...] = (CRM_CONTACTS.source, LOYALTY_MEMBERS.source)
# (yes, no) as each source spells it.
CONSENT_SPELLINGS: dict[str, tuple[str, str]] = {
    CRM_CONTACTS.source: ("yes", "no"),
    LOYALTY_MEMBERS.source: ("1", "0"),
}
# Loyalty members enrolled before the 2023 app migration still carry the old form's spelling.
LOYALTY_LEGACY_SPELLING: tuple[str, str] = ("có", "không")
LOYALTY_NUMERIC_SINCE = date(2023, 1, 1)
# What ``consent_invalid`` writes: none is a yes/no spelling the silver layer accepts.
INVALID_CONSENT_SPELLINGS: tuple[str, ...] = ("maybe", "N/A", "unknown", "?", "chưa rõ")
# A change of mind falls uniformly within this many years before the first landing day.
CONSENT_CHANGE_WINDOW_YEARS = 3.0
TRUTH_SPELLING: tuple[str, str] = ("true", "false")
NEVER = np.iinfo(np.int64).max

for _source in CONSENT_SOURCES:
    assert all(SOURCE_FIELDS[_source][role] == role for role in CONSENT_ROLES), _source


@dataclass(frozen=True)
class PersonConsent:
    """Every person's answers, one column per flag in ``CONSENT_ROLES`` order (n_people x 3)."""

    current: np.ndarray  # bool: the answer today
    previous: np.ndarray  # bool: the answer before ``changed_s`` (equal to current if unchanged)
    changed_s: np.ndarray  # int64 local epoch seconds of the change; NEVER when unchanged


@dataclass(frozen=True)
class RecordConsent:
    """One source's consent columns, aligned with its records."""

    landed: pd.DataFrame  # CONSENT_ROLES as the source spells them ("" when unknown)
    truth: pd.DataFrame  # source_system, source_record_id, CONSENT_ROLES as "true"/"false"/""


def consent_rates(population: PopulationConfig) -> np.ndarray:
    """Share of people agreeing, per flag in ``CONSENT_ROLES`` order."""
    return np.array(
        [
            population.consent_email_rate,
            population.consent_sms_rate,
            population.consent_data_use_rate,
        ]
    )


def build_person_consent(
    n_people: int, timeline: Timeline, seed: int, population: PopulationConfig
) -> PersonConsent:
    """Draw every person's current and previous answers and when they changed.

    Args:
        n_people: population size.
        timeline: landing days (changes happen before the first one).
        seed: run seed (this stage has its own generator).
        population: consent rates and the share of people who changed an answer.

    Returns:
        The per-person answers.
    """
    rng = stage_rng(seed, "consent")
    shape = (n_people, len(CONSENT_ROLES))
    current = rng.random(shape) < consent_rates(population)
    changed = rng.random(shape) < population.consent_change_rate
    window_s = int(CONSENT_CHANGE_WINDOW_YEARS * 365.25 * SECONDS_PER_DAY)
    changed_s = np.where(changed, timeline.start_s - rng.integers(1, window_s, shape), NEVER)
    return PersonConsent(current=current, previous=current ^ changed, changed_s=changed_s)


def record_consent(
    source: str,
    people: PersonConsent,
    recs: pd.DataFrame,
    timeline: Timeline,
    rates: NoiseConfig,
    population: PopulationConfig,
    seed: int,
    log: NoiseLog,
) -> RecordConsent:
    """What ``source`` knows of each record's consent, as landed and as truth.

    A record updated at or after the person's change holds the current answer, an older one the
    previous answer; ``population.consent_unknown_rate`` of values are unknown (blank);
    ``rates.consent_invalid`` of the known values per flag land as an invalid spelling (logged,
    the truth keeps the answer it hides). Values stay the same on every day a record lands.

    Args:
        source: ``crm`` or ``loyalty`` (see ``CONSENT_SOURCES``).
        people: every person's answers.
        recs: the source's records (person_idx, record_id, landed_day, created_s, updated_s).
        timeline: landing days (for the noise log's day).
        rates: noise rates.
        population: the unknown rate.
        seed: run seed (each source has its own generator).
        log: where invalid spellings are recorded.

    Returns:
        The landed columns and the truth, row for row with ``recs``.
    """
    if source not in CONSENT_SOURCES:
        raise ValueError(f"{source!r} carries no consent; sources with consent: {CONSENT_SOURCES}")
    rng = stage_rng(seed, f"consent:{source}")
    person_idx = recs["person_idx"].to_numpy()
    record_id = recs["record_id"].to_numpy(dtype=object)
    n = len(recs)
    day_names = np.array([timeline.day_date(d).isoformat() for d in range(timeline.days)])
    landed_on = day_names.astype(object)[recs["landed_day"].to_numpy()]

    newer = recs["updated_s"].to_numpy()[:, None] >= people.changed_s[person_idx]
    agreed = np.where(newer, people.current[person_idx], people.previous[person_idx])
    known = rng.random(agreed.shape) >= population.consent_unknown_rate

    yes, no = _yes_no_spellings(source, recs["created_s"].to_numpy())
    invalid = np.array(INVALID_CONSENT_SPELLINGS, dtype=object)

    landed: dict[str, np.ndarray] = {}
    truth: dict[str, np.ndarray] = {"source_system": np.full(n, source, dtype=object)}
    truth["source_record_id"] = record_id
    for j, role in enumerate(CONSENT_ROLES):
        column = SOURCE_FIELDS[source][role]
        text = np.where(known[:, j], np.where(agreed[:, j], yes, no), "").astype(object)
        chosen = pick(rng, known[:, j], rates.consent_invalid)
        text[chosen] = invalid[rng.integers(0, len(invalid), len(chosen))]
        log.add(source, record_id[chosen], column, "consent_invalid", landed_on[chosen])
        landed[column] = text
        truth[role] = np.where(known[:, j], np.where(agreed[:, j], *TRUTH_SPELLING), "").astype(
            object
        )
    return RecordConsent(landed=pd.DataFrame(landed), truth=pd.DataFrame(truth))


def _yes_no_spellings(source: str, created_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How each record spells yes and no (old loyalty members keep the legacy spelling)."""
    yes, no = (np.full(len(created_s), word, dtype=object) for word in CONSENT_SPELLINGS[source])
    if source == LOYALTY_MEMBERS.source:
        legacy = created_s < np.datetime64(LOYALTY_NUMERIC_SINCE, "s").astype(np.int64)
        yes[legacy], no[legacy] = LOYALTY_LEGACY_SPELLING
    return yes, no
