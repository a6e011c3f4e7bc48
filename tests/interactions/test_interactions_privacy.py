"""Erasure reaches service contacts known only by phone: the bronze row carrying the person's
phone is selected for deletion, and a re-landed one goes to quarantine as erased."""

from __future__ import annotations

import pyarrow as pa
import pytest
from interaction_rows import CONTACTS_CSV, DAY, LANDING_DAY

from c360.bronze.ingest import ingest_days
from c360.contract import SERVICE_CONTACTS
from c360.privacy.resolve import Person
from c360.privacy.tables import person_predicate
from c360.privacy_rules import identifier_hash, split_erased
from c360.tables import BRONZE_TABLES

pytestmark = pytest.mark.spark
BRONZE = BRONZE_TABLES[SERVICE_CONTACTS.name]


def test_a_callers_phone_selects_their_bronze_rows(lake, land):
    raw = land(SERVICE_CONTACTS.source, DAY, {"contacts_1.csv": CONTACTS_CSV})
    ingest_days(lake, raw, SERVICE_CONTACTS, [LANDING_DAY])
    person = Person(record_keys={"crm:CT1"})
    person.identifiers["phone"].add("+84912345678")  # landed as "091 234 5678" by S2
    assert lake.delete_where(BRONZE, person_predicate(lake, BRONZE, person)) == 6
    # S2 went by phone only; S1, S6-S9 by the reference crm:CT1
    left = lake.read_arrow(BRONZE).column("contact_id").to_pylist()
    assert sorted(left) == ["S3", "S4", "S5"]
    nobody = Person(record_keys={"crm:NOPE"})
    nobody.identifiers["phone"].add("+84900000000")
    assert person_predicate(lake, BRONZE, nobody) is None


def test_a_suppressed_phone_sends_a_relanded_contact_to_quarantine(monkeypatch):
    monkeypatch.setenv("C360_PRIVACY_SALT", "test-salt")
    rows = pa.table(
        {c: ["" for _ in range(2)] for c in SERVICE_CONTACTS.required_columns}
    ).set_column(3, "phone", pa.array(["0912.345.678", "0987000111"]))
    suppressed = frozenset({identifier_hash("phone", "+84912345678", b"test-salt")})
    kept, erased = split_erased(SERVICE_CONTACTS, rows, suppressed)
    assert erased.column("phone").to_pylist() == ["0912.345.678"]
    assert kept.column("phone").to_pylist() == ["0987000111"]
