"""Each noise kind hits exactly its configured share of eligible values, visibly, and is logged.

Eligibility is recomputed here from the truth (the clean person behind each record), not taken
from the generator. A rate r over E eligible values means round(r * E) applications, so the
counts are exact (+-1 for the rounding convention).
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from c360.contract import CRM_CONTACTS, PERSON_SOURCES
from c360.reference_data import MOBILE_PREFIX_OLD_FORM, MOBILE_PREFIX_REMAP_2018
from c360.sample import NOISE_TARGETS, SOURCE_FIELDS
from c360.sample.noise import CHANGE_KINDS, DOB_FORMAT

CREATION_KINDS = [k for k in NOISE_TARGETS if k not in CHANGE_KINDS]
CASES = [
    (source, kind, role)
    for kind in CREATION_KINDS
    for role in NOISE_TARGETS[kind]
    for source in PERSON_SOURCES
    if role in SOURCE_FIELDS[source]
]


@pytest.fixture(scope="module")
def first_rows(landing) -> dict[str, pd.DataFrame]:
    """Each record as it first landed, joined to its clean person and, where the source carries
    consent, to its consent truth (both with columns prefixed `true_`)."""
    truth = landing.truth_csv("person_truth.csv")
    persons = landing.truth_csv("persons.csv").add_prefix("true_")
    consent = landing.truth_csv("consent.csv")
    consent = consent.set_index(["source_system", "source_record_id"]).add_prefix("true_")
    out = {}
    for source, entity in PERSON_SOURCES.items():
        rows = landing.read_all(entity).sort_values("_day", kind="stable")
        rows = rows.drop_duplicates(entity.key_column).rename(
            columns={entity.key_column: "source_record_id"}
        )
        rows = rows.merge(truth[truth["source_system"] == source], on="source_record_id")
        rows = rows.merge(persons, left_on="person_id", right_on="true_person_id")
        out[source] = rows.merge(
            consent, how="left", left_on=["source_system", "source_record_id"], right_index=True
        )
    return out


@pytest.fixture(scope="module")
def log(landing) -> pd.DataFrame:
    return landing.truth_csv("noise_log.csv")


def _kinds(log: pd.DataFrame, source: str, column: str) -> pd.Series:
    """Per record: the set of creation-time noise kinds applied to this column."""
    hits = log[(log["source_system"] == source) & (log["field"] == column)]
    hits = hits[hits["noise_kind"].isin(CREATION_KINDS)]
    return hits.groupby("source_record_id")["noise_kind"].agg(frozenset)


def _eligible(kind: str, role: str, rows: pd.DataFrame) -> pd.Series:
    everyone = pd.Series(True, index=rows.index)
    if kind == "phone_old_prefix":
        return rows["true_phone"].str[:3].isin(list(MOBILE_PREFIX_OLD_FORM))
    if kind == "email_upper" or (kind == "empty_field" and role == "email"):
        return rows["true_email"] != ""
    if kind == "legacy_cmnd":
        return rows["true_cmnd"] != ""
    if kind == "dob_day_month_swap":
        dob = pd.to_datetime(rows["true_date_of_birth"])
        return (dob.dt.day <= 12) & (dob.dt.day != dob.dt.month)
    if kind == "province_new_name":
        return rows["true_province"] != rows["true_province_2025"]
    if kind == "consent_invalid":  # known answers (true / false), not blanks
        return rows[f"true_{role}"] != ""
    return everyone


@pytest.mark.parametrize(("source", "kind", "role"), CASES, ids=lambda v: str(v))
def test_noise_rate_is_exact_over_eligible_values(landing, first_rows, log, source, kind, role):
    rows = first_rows[source]
    column = SOURCE_FIELDS[source][role]
    eligible = int(_eligible(kind, role, rows).sum())
    rate = getattr(landing.config.noise, kind)
    applied = log[
        (log["source_system"] == source) & (log["field"] == column) & (log["noise_kind"] == kind)
    ]
    assert applied["source_record_id"].is_unique
    assert rate * eligible >= 10, "too few eligible values for a meaningful test"
    assert abs(len(applied) - rate * eligible) <= 1, (len(applied), rate, eligible)


@pytest.mark.parametrize("kind", CHANGE_KINDS)
def test_change_rate_is_exact_per_later_day(landing, log, kind):
    rate = getattr(landing.config.noise, kind)
    for source, entity in PERSON_SOURCES.items():
        role = NOISE_TARGETS[kind][0]
        if role not in SOURCE_FIELDS[source]:
            continue
        rows = landing.read_all(entity)
        first_day = rows.groupby(entity.key_column)["_day"].min()
        for day_index in range(1, landing.config.days):
            day = landing.days[day_index].isoformat()
            existing = int((first_day < day_index).sum())
            applied = log[
                (log["source_system"] == source) & (log["noise_kind"] == kind) & (log["day"] == day)
            ]
            assert rate * existing >= 10
            assert abs(len(applied) - rate * existing) <= 1, (source, day, len(applied))


def test_log_names_only_known_kinds_fields_and_records(landing, log):
    truth = landing.truth_csv("person_truth.csv")
    for (source, column), kinds in log.groupby(["source_system", "field"])["noise_kind"]:
        role = {c: r for r, c in SOURCE_FIELDS[source].items()}[column]
        assert all(role in NOISE_TARGETS[k] for k in kinds.unique()), (source, column)
    keys = log[["source_system", "source_record_id"]].drop_duplicates()
    assert len(keys.merge(truth, on=["source_system", "source_record_id"])) == len(keys)
    assert set(log["noise_kind"]) == set(NOISE_TARGETS)


@pytest.mark.parametrize("source", list(PERSON_SOURCES))
def test_names_show_exactly_their_logged_noise(first_rows, log, source):
    rows = first_rows[source]
    column = SOURCE_FIELDS[source]["name"]
    kinds = rows["source_record_id"].map(_kinds(log, source, column))
    kinds = kinds.apply(lambda k: k if isinstance(k, frozenset) else frozenset())
    landed, true = rows[column], rows["true_full_name"]
    family, middle, given = (
        rows["true_family_name"],
        rows["true_middle_name"],
        rows["true_given_name"],
    )

    clean = kinds.apply(len) == 0
    assert (landed[clean] == true[clean]).all()
    folded = kinds.apply(lambda k: "drop_diacritics" in k)
    assert landed[folded].apply(str.isascii).all()
    only = kinds.apply(lambda k: k == {"missing_middle_name"})
    assert (landed[only] == family[only] + " " + given[only]).all()
    only = kinds.apply(lambda k: k == {"swapped_name_order"})
    assert (landed[only] == given[only] + " " + middle[only] + " " + family[only]).all()
    only = kinds.apply(lambda k: k == {"typo"})
    assert (landed[only] != true[only]).all()
    assert ((landed[only].str.len() - true[only].str.len()).abs() <= 1).all()
    assert only.sum() > 0 and folded.sum() > 0


def _national_phone(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "0" + digits[2:] if digits.startswith("84") else digits


@pytest.mark.parametrize("source", list(PERSON_SOURCES))
def test_phones_show_exactly_their_logged_noise(first_rows, log, source):
    rows = first_rows[source]
    kinds = rows["source_record_id"].map(_kinds(log, source, "phone"))
    kinds = kinds.apply(lambda k: k if isinstance(k, frozenset) else frozenset())
    landed, true = rows["phone"], rows["true_phone"]
    assert (landed[kinds.apply(len) == 0] == true[kinds.apply(len) == 0]).all()
    assert (landed[kinds.apply(lambda k: "empty_field" in k)] == "").all()
    shown = kinds.apply(lambda k: "empty_field" not in k)
    intl = kinds.apply(lambda k: "phone_intl_format" in k) & shown
    assert landed[intl].str.match(r"^(\+84|84|\(\+84\) )[1-9]").all()
    old = kinds.apply(lambda k: "phone_old_prefix" in k) & shown
    national = landed[old].map(_national_phone)
    assert national.str.fullmatch(r"01\d{9}").all()
    # The old 11-digit form keeps the last seven digits.
    assert (national.str[-7:] == true[old].str[-7:]).all()
    # ... and its prefix is the one the 2018 remapping turned into today's prefix.
    assert (national.str[:4].map(MOBILE_PREFIX_REMAP_2018) == true[old].str[:3]).all()
    assert old.sum() > 0 and intl.sum() > 0


def test_other_fields_show_their_logged_noise(first_rows, log):
    crm = first_rows[CRM_CONTACTS.source]
    kinds = {
        c: crm["source_record_id"].map(_kinds(log, CRM_CONTACTS.source, c)) for c in crm.columns
    }
    has = lambda column, kind: kinds[column].apply(  # noqa: E731
        lambda k: isinstance(k, frozenset) and kind in k
    )
    clean = lambda column: kinds[column].isna()  # noqa: E731

    upper = has("email", "email_upper") & ~has("email", "empty_field")
    assert (crm.loc[upper, "email"] == crm.loc[upper, "true_email"].str.upper()).all()
    assert (crm.loc[clean("email"), "email"] == crm.loc[clean("email"), "true_email"]).all()

    cmnd = has("national_id", "legacy_cmnd") & ~has("national_id", "empty_field")
    assert (crm.loc[cmnd, "national_id"] == crm.loc[cmnd, "true_cmnd"]).all()
    ok = clean("national_id")
    assert (crm.loc[ok, "national_id"] == crm.loc[ok, "true_cccd"]).all()

    swapped = has("date_of_birth", "dob_day_month_swap") & ~has("date_of_birth", "empty_field")
    fmt = DOB_FORMAT[CRM_CONTACTS.source]
    for landed, true in zip(
        crm.loc[swapped, "date_of_birth"], crm.loc[swapped, "true_date_of_birth"], strict=True
    ):
        parsed = datetime.strptime(landed, fmt)
        expected = datetime.strptime(true, "%Y-%m-%d")
        assert (parsed.year, parsed.month, parsed.day) == (
            expected.year,
            expected.day,
            expected.month,
        )
    ok = clean("date_of_birth")
    as_iso = pd.to_datetime(crm.loc[ok, "date_of_birth"], format=fmt).dt.strftime("%Y-%m-%d")
    assert (as_iso == crm.loc[ok, "true_date_of_birth"]).all()

    renamed = has("province", "province_new_name")
    assert (crm.loc[renamed, "province"] == crm.loc[renamed, "true_province_2025"]).all()
    assert (
        crm.loc[clean("province"), "province"] == crm.loc[clean("province"), "true_province"]
    ).all()

    short = has("address", "address_abbreviation") & ~has("address", "empty_field")
    assert crm.loc[short, "address"].str.contains(r"\b(?:P|X)\. ").all()
    ok = clean("address")
    assert (crm.loc[ok, "address"] == crm.loc[ok, "true_address"]).all()
    assert np.count_nonzero(upper) and np.count_nonzero(cmnd) and np.count_nonzero(swapped)
