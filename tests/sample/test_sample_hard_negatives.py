"""Different people who look alike: family members, twins, namesakes, in the truth and the data."""

from __future__ import annotations

import pandas as pd
import pytest

from c360.contract import CRM_CONTACTS


@pytest.fixture(scope="module")
def pairs(landing) -> pd.DataFrame:
    persons = landing.truth_csv("persons.csv")
    pairs = landing.truth_csv("hard_negatives.csv")
    return pairs.merge(persons.add_suffix("_a"), on="person_id_a").merge(
        persons.add_suffix("_b"), on="person_id_b"
    )


def test_every_relation_occurs_between_different_people(pairs):
    counts = pairs["relation"].value_counts()
    assert set(counts.index) == {"household", "twin", "namesake"}
    assert (pairs["person_id_a"] < pairs["person_id_b"]).all()


def test_family_members_share_family_name_and_address_and_some_a_phone(pairs):
    family = pairs[pairs["relation"].isin(["household", "twin"])]
    assert (family["household_id_a"] == family["household_id_b"]).all()
    assert (family["family_name_a"] == family["family_name_b"]).all()
    assert (family["address_a"] == family["address_b"]).all()
    assert (family["cccd_a"] != family["cccd_b"]).all()
    shared_phone = family["phone_a"] == family["phone_b"]
    assert 0 < shared_phone.sum() < len(family)


def test_twins_share_birth_date_and_middle_name_but_not_given_name(pairs):
    twins = pairs[pairs["relation"] == "twin"]
    assert len(twins) > 0
    assert (twins["date_of_birth_a"] == twins["date_of_birth_b"]).all()
    assert (twins["middle_name_a"] == twins["middle_name_b"]).all()
    assert (twins["given_name_a"] != twins["given_name_b"]).all()


def test_namesakes_share_full_name_and_birth_year_only(pairs):
    namesakes = pairs[pairs["relation"] == "namesake"]
    assert len(namesakes) > 0
    assert (namesakes["full_name_a"] == namesakes["full_name_b"]).all()
    assert (namesakes["date_of_birth_a"].str[:4] == namesakes["date_of_birth_b"].str[:4]).all()
    assert (namesakes["household_id_a"] != namesakes["household_id_b"]).all()
    assert (namesakes["cccd_a"] != namesakes["cccd_b"]).all()


def test_landed_crm_records_of_different_people_share_a_phone(landing):
    """The hard negative reaches the extracts: one phone, one family name, two people."""
    crm = landing.read(CRM_CONTACTS, landing.days[0])
    truth = landing.truth_csv("person_truth.csv")
    crm = crm.merge(truth, left_on="contact_id", right_on="source_record_id")
    crm = crm[crm["phone"] != ""]
    crm["family"] = crm["full_name"].str.split().str[0]
    people_per_phone = crm.groupby(["phone", "family"])["person_id"].nunique()
    assert (people_per_phone >= 2).sum() > 10
