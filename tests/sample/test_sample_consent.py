"""Consent flags in crm contacts and loyalty members: spellings, rates, noise and truth.

The truth (`consent.csv`) is checked against what landed on every day; rates are checked against
`PopulationConfig` within 4 binomial standard deviations (the draws are per person and per record).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS, PERSON_SOURCES
from c360.sample.config import PopulationConfig, load_noise_config
from c360.sample.consent import (
    CONSENT_SOURCES,
    CONSENT_SPELLINGS,
    INVALID_CONSENT_SPELLINGS,
    LOYALTY_LEGACY_SPELLING,
    LOYALTY_NUMERIC_SINCE,
    consent_rates,
)
from c360.sample.noise import CONSENT_ROLES
from c360.standardise import parse_consent

KEYS = ["source_system", "source_record_id"]


@pytest.fixture(scope="module")
def consent_truth(landing) -> pd.DataFrame:
    return landing.truth_csv("consent.csv")


@pytest.fixture(scope="module")
def landed(landing) -> pd.DataFrame:
    """Every landed crm / loyalty row of every day, keyed like the truth, with `_day`."""
    frames = []
    for source in CONSENT_SOURCES:
        entity = PERSON_SOURCES[source]
        rows = landing.read_all(entity).rename(columns={entity.key_column: "source_record_id"})
        created = "created_at" if source == CRM_CONTACTS.source else "enrolled_at"
        frames.append(
            rows[["source_record_id", *CONSENT_ROLES, "_day"]].assign(
                source_system=source, _created=rows[created]
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def invalid_log(landing) -> pd.DataFrame:
    log = landing.truth_csv("noise_log.csv")
    return log[log["noise_kind"] == "consent_invalid"]


def test_truth_has_one_row_per_crm_and_loyalty_record(landing, consent_truth):
    assert list(consent_truth.columns) == [*KEYS, *CONSENT_ROLES]
    people_truth = landing.truth_csv("person_truth.csv")
    expected = people_truth.loc[people_truth["source_system"].isin(CONSENT_SOURCES), KEYS]
    assert not consent_truth.duplicated(KEYS).any()
    assert sorted(map(tuple, consent_truth[KEYS].to_numpy())) == sorted(
        map(tuple, expected.to_numpy())
    )
    for role in CONSENT_ROLES:
        assert set(consent_truth[role]) == {"true", "false", ""}


def test_erp_lands_no_consent(landing):
    rows = landing.read_all(ERP_CUSTOMERS)
    assert not [c for c in rows.columns if c.startswith("consent")]


def test_each_record_lands_the_same_consent_every_day(landed):
    per_record = landed.groupby(KEYS)[list(CONSENT_ROLES)].nunique()
    assert (per_record == 1).all().all()
    assert (landed["_day"] > 0).any()  # some records were re-sent, so the check bites


def test_landed_values_agree_with_truth_except_logged_invalid_spellings(
    landed, consent_truth, invalid_log
):
    truth = consent_truth.set_index(KEYS)
    logged = set(
        zip(
            invalid_log["source_system"],
            invalid_log["source_record_id"],
            invalid_log["field"],
            strict=True,
        )
    )
    checked_invalid = 0
    for role in CONSENT_ROLES:
        rows = landed.join(truth[role].rename("true_value"), on=KEYS)
        is_logged = np.array(
            [
                (s, r, role) in logged
                for s, r in zip(rows["source_system"], rows["source_record_id"], strict=True)
            ]
        )
        # Logged: an invalid spelling hiding a known answer.
        assert rows.loc[is_logged, role].isin(INVALID_CONSENT_SPELLINGS).all()
        assert (rows.loc[is_logged, "true_value"] != "").all()
        checked_invalid += int(is_logged.sum())
        # Not logged: blank exactly when unknown, else the source's spelling of the true answer.
        clean = rows[~is_logged]
        assert ((clean[role] == "") == (clean["true_value"] == "")).all()
        known = clean[clean["true_value"] != ""]
        parsed = known[role].map(parse_consent).map({True: "true", False: "false"})
        assert (parsed == known["true_value"]).all(), known[parsed != known["true_value"]].head()
    assert checked_invalid >= 3 * 2 * 10  # three flags, two sources, >= 10 each


def test_invalid_spellings_are_logged_on_the_day_the_record_first_landed(
    landing, landed, invalid_log
):
    first_day = landed.groupby(KEYS)["_day"].min()
    assert set(invalid_log["field"]) == set(CONSENT_ROLES)
    assert set(invalid_log["source_system"]) == set(CONSENT_SOURCES)
    for row in invalid_log.itertuples(index=False):
        day_index = first_day[(row.source_system, row.source_record_id)]
        assert row.day == landing.days[day_index].isoformat()
    # Every invalid spelling landed is in the log (none appear by accident).
    for role in CONSENT_ROLES:
        invalid_rows = landed.loc[landed[role].isin(INVALID_CONSENT_SPELLINGS), KEYS]
        logged = invalid_log.loc[invalid_log["field"] == role, KEYS]
        assert len(invalid_rows.drop_duplicates()) == len(logged)


def test_spellings_follow_each_source(landed):
    crm = landed[landed["source_system"] == CRM_CONTACTS.source]
    loyalty = landed[landed["source_system"] == LOYALTY_MEMBERS.source]
    valid = {"", *INVALID_CONSENT_SPELLINGS}
    # Members enrolled before the 2023 app migration keep the old có / không spelling.
    legacy = loyalty["_created"] < LOYALTY_NUMERIC_SINCE.isoformat()
    assert 0 < legacy.sum() < len(loyalty)
    for role in CONSENT_ROLES:
        assert set(crm[role]) == {*CONSENT_SPELLINGS[CRM_CONTACTS.source], *valid}
        assert set(loyalty.loc[~legacy, role]) <= {*CONSENT_SPELLINGS["loyalty"], *valid}
        assert set(loyalty.loc[legacy, role]) <= {*LOYALTY_LEGACY_SPELLING, *valid}
        assert set(loyalty[role]) >= {*CONSENT_SPELLINGS["loyalty"], *LOYALTY_LEGACY_SPELLING}


@pytest.mark.parametrize("spelling", INVALID_CONSENT_SPELLINGS)
def test_invalid_spellings_are_not_yes_or_no_to_the_silver_parser(spelling):
    assert parse_consent(spelling) is None


@pytest.mark.parametrize(
    "spelling",
    [
        *CONSENT_SPELLINGS[CRM_CONTACTS.source],
        *CONSENT_SPELLINGS["loyalty"],
        *LOYALTY_LEGACY_SPELLING,
    ],
)
def test_valid_spellings_are_yes_or_no_to_the_silver_parser(spelling):
    assert parse_consent(spelling) is not None


def test_unknown_and_agreeing_shares_follow_the_population_config(consent_truth):
    cfg = PopulationConfig()
    for source in CONSENT_SOURCES:
        truth = consent_truth[consent_truth["source_system"] == source]
        n = len(truth)
        for role, rate in zip(CONSENT_ROLES, consent_rates(cfg), strict=True):
            unknown = int((truth[role] == "").sum())
            p = cfg.consent_unknown_rate
            assert abs(unknown - p * n) <= 4 * np.sqrt(n * p * (1 - p)), (source, role, unknown)
            known = truth.loc[truth[role] != "", role]
            agreed = (known == "true").mean()
            # Records holding an answer changed since (consent_change_rate of people) pull the
            # share towards 0.5 by at most change_rate * |1 - 2 * rate|.
            tolerance = 4 * np.sqrt(rate * (1 - rate) / len(known))
            tolerance += cfg.consent_change_rate * abs(1 - 2 * rate)
            assert abs(agreed - rate) <= tolerance, (source, role, agreed, rate)


def test_linked_records_occasionally_disagree(landing, consent_truth):
    people = landing.truth_csv("person_truth.csv")
    truth = consent_truth.merge(people, on=KEYS)
    crm = truth[truth["source_system"] == CRM_CONTACTS.source]
    loyalty = truth[truth["source_system"] == LOYALTY_MEMBERS.source]
    pairs = crm.merge(loyalty, on="person_id", suffixes=("_crm", "_loyalty"))
    assert len(pairs) > 500
    change_rate = PopulationConfig().consent_change_rate
    for role in CONSENT_ROLES:
        both = pairs[(pairs[f"{role}_crm"] != "") & (pairs[f"{role}_loyalty"] != "")]
        differ = (both[f"{role}_crm"] != both[f"{role}_loyalty"]).mean()
        # Only a person who changed their mind (change_rate of people per flag) can disagree,
        # and only when one record predates the change and the other does not.
        assert 0 < differ <= change_rate + 4 * np.sqrt(change_rate / len(both)), (role, differ)


def test_invalid_rate_is_configurable(make_landing, tmp_path):
    small = {"people": 300, "days": 1, "history_days": 10}
    none = make_landing(
        tmp_path / "zero",
        noise=load_noise_config().with_overrides({"consent_invalid": 0.0}),
        **small,
    )
    log = none.truth_csv("noise_log.csv")
    assert not (log["noise_kind"] == "consent_invalid").any()
    for source in CONSENT_SOURCES:
        rows = none.read_all(PERSON_SOURCES[source])
        for role in CONSENT_ROLES:
            assert not rows[role].isin(INVALID_CONSENT_SPELLINGS).any()

    half = make_landing(
        tmp_path / "half",
        noise=load_noise_config().with_overrides({"consent_invalid": 0.5}),
        **small,
    )
    truth = half.truth_csv("consent.csv")
    log = half.truth_csv("noise_log.csv")
    for source in CONSENT_SOURCES:
        for role in CONSENT_ROLES:
            known = int(((truth["source_system"] == source) & (truth[role] != "")).sum())
            applied = log[
                (log["source_system"] == source)
                & (log["field"] == role)
                & (log["noise_kind"] == "consent_invalid")
            ]
            # Exactly round(0.5 * known values) (+-1 for the rounding convention).
            assert abs(len(applied) - 0.5 * known) <= 1, (source, role, len(applied), known)
