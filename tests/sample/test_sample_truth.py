"""Every landed person record has exactly one truth row, and the overlap looks like real life."""

from __future__ import annotations

import numpy as np
import pandas as pd

from c360.contract import PERSON_SOURCES
from c360.sample.config import PopulationConfig


def _landed_keys(landing) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                "source_system": source,
                "source_record_id": landing.read_all(entity)[entity.key_column],
            }
        )
        for source, entity in PERSON_SOURCES.items()
    ]
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def test_truth_maps_every_landed_record_exactly_once_and_nothing_else(landing):
    truth = landing.truth_csv("person_truth.csv")
    assert list(truth.columns) == ["source_system", "source_record_id", "person_id"]
    assert not truth.duplicated(["source_system", "source_record_id"]).any()
    landed = _landed_keys(landing)
    merged = landed.merge(
        truth, how="outer", on=["source_system", "source_record_id"], indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged["_merge"].value_counts()
    assert set(truth["source_system"]) == set(PERSON_SOURCES)
    assert landing.summary.truth_rows == len(truth)


def test_every_person_is_in_one_to_three_person_sources(landing):
    truth = landing.truth_csv("person_truth.csv")
    persons = landing.truth_csv("persons.csv")
    assert set(truth["person_id"]) == set(persons["person_id"])
    per_person = truth.groupby("person_id")["source_system"].nunique()
    assert per_person.between(1, 3).all()

    # Shares of people in 1, 2 and 3 sources follow PopulationConfig.source_combinations
    # (0.50 / 0.38 / 0.12 by default), within 4 binomial standard deviations.
    combos = PopulationConfig().source_combinations
    n = len(persons)
    for k in (1, 2, 3):
        p = sum(w for c, w in combos if len(c) == k)
        observed = int((per_person == k).sum())
        assert abs(observed - p * n) <= 4 * np.sqrt(n * p * (1 - p)), (k, observed, p * n)


def test_some_people_have_two_records_in_one_source(landing):
    truth = landing.truth_csv("person_truth.csv")
    rate = PopulationConfig().duplicate_rate
    for source in PERSON_SOURCES:
        in_source = truth[truth["source_system"] == source]
        people = in_source["person_id"].nunique()
        duplicates = len(in_source) - people
        # Exactly round(duplicate_rate * people in the source) get a second record.
        assert abs(duplicates - rate * people) <= 1, (source, duplicates, rate * people)
        assert in_source.groupby("person_id").size().max() == 2


def test_persons_truth_holds_clean_identities(landing):
    persons = landing.truth_csv("persons.csv")
    assert persons["person_id"].is_unique
    assert persons["cccd"].str.fullmatch(r"\d{12}").all()
    assert persons["cccd"].is_unique
    has_cmnd = persons["cmnd"] != ""
    assert persons.loc[has_cmnd, "cmnd"].str.fullmatch(r"\d{9}").all()
    assert persons.loc[has_cmnd, "cmnd"].is_unique
    assert persons["phone"].str.fullmatch(r"0\d{9}").all()
    emails = persons.loc[persons["email"] != "", "email"]
    assert emails.is_unique
    assert emails.str.fullmatch(r"[a-z0-9.]+@[a-z.]+").all()
    # CCCD digit 4 is gender and century: 0/1 for men/women born 1900-1999, 2/3 after.
    year = persons["date_of_birth"].str[:4].astype(int)
    expected = np.where(year >= 2000, 2, 0) + (persons["gender"] == "F")
    assert (persons["cccd"].str[3].astype(int) == expected).all()
    assert (persons["cccd"].str[4:6] == persons["date_of_birth"].str[2:4]).all()
    # Nguyễn is about 38 % of the population.
    share = (persons["family_name"] == "Nguyễn").mean()
    assert 0.33 < share < 0.44
