"""The generator's profile columns: realistic shares, missing often, dirty sometimes, and
deterministic; every landed value is what silver's vocabularies read (or flag)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from c360.profile_fields import load_profile_fields, parse_social_ids
from c360.sample.profile_columns import (
    LANDED_SHARE,
    UNKNOWN_SPELLINGS,
    landed_profile_columns,
    person_profiles,
)

N = 4000


@pytest.fixture(scope="module")
def persons() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    years = rng.integers(1950, 2008, N)
    return pd.DataFrame({"date_of_birth": [f"{y}-06-15" for y in years]})


@pytest.fixture(scope="module")
def crm(persons) -> pd.DataFrame:
    profiles = person_profiles(persons, 2026, seed=7)
    return landed_profile_columns("crm", np.arange(N), profiles, 2026, seed=7)


def test_same_seed_same_values(persons, crm):
    again = landed_profile_columns("crm", np.arange(N), person_profiles(persons, 2026, 7), 2026, 7)
    pd.testing.assert_frame_equal(crm, again)
    other = landed_profile_columns("crm", np.arange(N), person_profiles(persons, 2026, 8), 2026, 8)
    assert not crm.equals(other)


def test_columns_are_missing_at_their_shares(crm):
    for column, share in LANDED_SHARE["crm"].items():
        landed = (crm[column] != "").mean()
        assert abs(landed - share) < 0.04, column


def test_landed_spellings_read_as_codes_except_a_few_unknown(crm):
    vocabularies = load_profile_fields().vocabularies
    for column in ("lead_source", "occupation", "industry", "education", "marital_status"):
        landed = crm.loc[crm[column] != "", column]
        codes = landed.map(vocabularies[column].code)
        unknown = landed[codes.isna()]
        assert set(unknown) <= set(UNKNOWN_SPELLINGS), column
        assert 0 < len(unknown) / len(landed) < 0.03, column
        assert landed.nunique() > codes.nunique()  # dirty: several spellings per code
    leads = crm["lead_source"].map(vocabularies["lead_source"].code).value_counts()
    assert leads.index[0] == "landing_page"


def test_students_are_young_and_social_ids_mostly_parse(persons, crm):
    profiles = person_profiles(persons, 2026, seed=7)
    ages = 2026 - pd.to_datetime(persons["date_of_birth"]).dt.year
    assert ages[profiles["occupation"] == "student"].max() < 23
    social = crm.loc[crm["social_ids"] != "", "social_ids"]

    def readable(text: str) -> bool:
        try:
            return bool(parse_social_ids(text))
        except ValueError:
            return False

    assert 0.95 < social.map(readable).mean() < 1.0
