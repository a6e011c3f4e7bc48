"""Daily drops: day one is the full master data; later days carry new and changed records."""

from __future__ import annotations

import pytest

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS, PERSON_SOURCES
from c360.sample.noise import SOURCE_FIELDS

# (entity, the column that moves when a record changes)
UPDATED = [
    (CRM_CONTACTS, "updated_at"),
    (ERP_CUSTOMERS, "modified_date"),
    (LOYALTY_MEMBERS, "updated_at"),
]


@pytest.mark.parametrize(("entity", "updated"), UPDATED, ids=lambda v: getattr(v, "name", v))
def test_later_days_carry_new_and_changed_records(landing, entity, updated):
    rows = landing.read_all(entity)
    key = entity.key_column
    seen: dict[str, str] = dict(
        zip(rows.loc[rows["_day"] == 0, key], rows.loc[rows["_day"] == 0, updated], strict=True)
    )
    assert len(seen) == (rows["_day"] == 0).sum()
    for i, day in enumerate(landing.days[1:], start=1):
        todays = rows[rows["_day"] == i]
        is_new = ~todays[key].isin(list(seen))
        assert is_new.sum() > 0 and (~is_new).sum() > 0, f"{entity.name} day {day}: need both"
        # Every row of a later day was updated that day (ISO timestamps sort as text).
        assert (todays[updated].str[:10] == day.isoformat()).all()
        previous = todays.loc[~is_new, key].map(seen)
        assert (todays.loc[~is_new, updated] > previous).all()
        seen.update(zip(todays[key], todays[updated], strict=True))


def test_new_records_on_later_days_were_created_that_day(landing):
    rows = landing.read_all(CRM_CONTACTS)
    first = rows.sort_values("_day").drop_duplicates("contact_id")
    late = first[first["_day"] > 0]
    expected = late["_day"].map(lambda i: landing.days[i].isoformat())
    assert len(late) > 0
    assert (late["created_at"].str[:10] == expected).all()
    day_one = first[first["_day"] == 0]
    assert (day_one["created_at"].str[:10] <= landing.days[0].isoformat()).all()


@pytest.mark.parametrize("source", [CRM_CONTACTS.source, ERP_CUSTOMERS.source])
def test_address_changes_land_with_a_new_address(landing, source):
    entity = PERSON_SOURCES[source]
    column = SOURCE_FIELDS[source]["address"]
    log = landing.truth_csv("noise_log.csv")
    moves = log[(log["source_system"] == source) & (log["noise_kind"] == "address_change")]
    rows = landing.read_all(entity)
    assert len(moves) > 0
    for record_id, day in zip(moves["source_record_id"], moves["day"], strict=True):
        history = rows[rows[entity.key_column] == record_id].sort_values("_day")
        day_index = [d.isoformat() for d in landing.days].index(day)
        before = history.loc[history["_day"] < day_index, column].iloc[-1]
        after = history.loc[history["_day"] == day_index, column].iloc[0]
        assert after != before


def test_day_one_is_the_full_master_data(landing):
    truth = landing.truth_csv("person_truth.csv")
    for source, entity in PERSON_SOURCES.items():
        rows = landing.read_all(entity)
        first_day = rows.groupby(entity.key_column)["_day"].min()
        expected_late = round(
            landing.config.population.late_record_rate * (truth["source_system"] == source).sum()
        )
        # Exactly round(late_record_rate * records) records first land after day one.
        assert (first_day > 0).sum() == expected_late
