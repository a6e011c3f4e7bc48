"""Fixtures for identity resolution: small synthetic person records with known truth.

The records follow SILVER_PERSON_RECORDS_SCHEMA and carry the hard cases the matcher must get
right: typos, swapped name order, missing middle names, legacy 9-digit IDs, missing fields,
day/month-swapped birth dates, households sharing a phone and an address, and twins.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from c360.tables import SILVER_PERSON_RECORDS_SCHEMA

FAMILY = ["nguyen", "tran", "le", "pham", "hoang", "vu", "dang", "bui", "do", "ho"]
FAMILY_WEIGHTS = [38, 11, 9, 7, 5, 4, 3, 3, 2, 2]
MIDDLE = {"male": ["van", "duc", "minh", "huu", "quang"], "female": ["thi", "ngoc", "thu", "my"]}
GIVEN = {
    "male": ["an", "binh", "cuong", "dung", "hai", "hung", "khang", "long", "nam", "phong",
             "quan", "son", "tuan", "vinh", "thang", "toan", "trung", "duy", "hieu", "kien"],
    "female": ["anh", "chi", "dao", "giang", "ha", "hoa", "huong", "lan", "linh", "mai",
               "nga", "nhung", "phuong", "quynh", "thao", "trang", "uyen", "van", "yen", "hang"],
}  # fmt: skip
PROVINCES = ["Hà Nội", "Hồ Chí Minh", "Đà Nẵng", "Cần Thơ", "Hải Phòng", "Huế"]
REGION = {"Hà Nội": "north", "Hải Phòng": "north", "Đà Nẵng": "centre", "Huế": "centre",
          "Hồ Chí Minh": "south", "Cần Thơ": "south"}  # fmt: skip
STREETS = ["le loi", "tran hung dao", "nguyen hue", "hai ba trung", "ly thuong kiet", "le duan"]


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _person(rng: random.Random, pid: int, family: str, household: dict | None) -> dict:
    gender = rng.choice(["male", "female"])
    dob = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    phone = f"+849{pid:08d}"
    person = {
        "person_id": f"P{pid:04d}",
        "family": family,
        "middle": rng.choice(MIDDLE[gender]),
        "given": rng.choice(GIVEN[gender]),
        "gender": gender,
        "dob": dob,
        "phone": phone,
        "email": f"user{pid}@mail.vn",
        "cccd": f"0{pid:05d}{rng.randrange(10**6):06d}",
        "cmnd": f"{pid:04d}{rng.randrange(10**5):05d}",
        "address": f"{rng.randrange(1, 400)} {rng.choice(STREETS)}, phuong {rng.randrange(1, 15)}",
        "province": rng.choice(PROVINCES),
    }
    if household is not None:  # same family name, address; often the household's phone
        person["address"] = household["address"]
        person["province"] = household["province"]
        if rng.random() < 0.6:
            person["phone"] = household["phone"]
    return person


def _records(rng: random.Random, person: dict, counter: dict[str, int]) -> list[dict]:
    sources = rng.choice([["crm"], ["crm", "loyalty"], ["crm", "erp"], ["crm", "erp", "loyalty"],
                          ["erp", "loyalty"], ["loyalty", "loyalty"], ["crm", "crm"]])  # fmt: skip
    rows = []
    for source in sources:
        counter[source] += 1
        family, middle, given = person["family"], person["middle"], person["given"]
        noise = rng.random()
        if noise < 0.08:
            given = _typo(rng, given)
        elif noise < 0.14:
            family, given = given, family  # swapped name order
        elif noise < 0.20:
            middle = None
        dob = person["dob"]
        if rng.random() < 0.05 and dob.day <= 12 and dob.day != dob.month:
            dob = date(dob.year, dob.day, dob.month)
        national_id = person["cccd"] if rng.random() < 0.8 else person["cmnd"]
        row = {
            "record_key": f"{source}:{source[0].upper()}{counter[source]:05d}",
            "source_system": source,
            "source_record_id": f"{source[0].upper()}{counter[source]:05d}",
            "full_name_folded": " ".join(p for p in (family, middle, given) if p),
            "family_name": family,
            "middle_name": middle,
            "given_name": given,
            "gender": person["gender"],
            "date_of_birth": dob,
            "phone_e164": person["phone"] if rng.random() > 0.07 else None,
            "email": person["email"] if rng.random() > 0.15 else None,
            "national_id": national_id if rng.random() > 0.1 else None,
            "address": person["address"],
            "address_folded": person["address"],
            "province": person["province"],
            "consent_email": rng.choice([True, False, None]),
            "consent_sms": None,
            "consent_data_use": True,
            "created_at": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(300)),
            "updated_at": datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(300)),
            "person_id": person["person_id"],
        }
        if source == "erp":  # as the contract: no birth date, no gender
            row["date_of_birth"] = None
            row["gender"] = None
        if source == "loyalty":  # no national ID, no address
            row["national_id"] = row["address"] = row["address_folded"] = row["province"] = None
        row["full_name"] = row["full_name_folded"].title()
        row["national_id_type"] = {9: "cmnd", 12: "cccd"}.get(len(row["national_id"] or ""))
        row["region"] = REGION.get(row["province"])
        rows.append(row)
    return rows


def synthetic_people(people: int, seed: int = 7) -> tuple[pa.Table, dict[str, str]]:
    """``people`` synthetic people as person records, and the truth {record_key: person_id}.

    About a third of the people live in households of 2-3 (same family name and address, most
    sharing one phone); one household in ten has twins (same birth date too).
    """
    rng = random.Random(seed)
    persons: list[dict] = []
    while len(persons) < people:
        family = rng.choices(FAMILY, FAMILY_WEIGHTS)[0]
        head = _person(rng, len(persons), family, None)
        persons.append(head)
        if rng.random() < 0.35:
            for _ in range(rng.choice([1, 2])):
                member = _person(rng, len(persons), family, head)
                if rng.random() < 0.1:
                    member["dob"] = head["dob"]  # twins
                persons.append(member)
    counter = {"crm": 0, "erp": 0, "loyalty": 0}
    rows = [row for person in persons[:people] for row in _records(rng, person, counter)]
    truth = {row["record_key"]: row.pop("person_id") for row in rows}
    table = pa.Table.from_pylist(rows, schema=SILVER_PERSON_RECORDS_SCHEMA)
    return table, truth


@pytest.fixture(scope="session")
def synthetic_records() -> tuple[pa.Table, dict[str, str]]:
    """About 500 records of 300 people, with the truth."""
    return synthetic_people(300)


@pytest.fixture(scope="session")
def identity_config():
    from resolution.config import load_identity_config

    return load_identity_config()


@pytest.fixture(scope="session")
def trained_model(synthetic_records, identity_config):
    """A model trained once on DuckDB over the synthetic records (shared by the tests)."""
    from resolution.linker import DuckDBBackend
    from resolution.prepare import prepare_records
    from resolution.training import train_model

    records, _ = synthetic_records
    prepared = prepare_records(records, identity_config.prepare)
    return train_model(prepared, DuckDBBackend(), identity_config)


@pytest.fixture(scope="session")
def thousands_of_records() -> tuple[pa.Table, dict[str, str]]:
    """About 5,000 records of 3,000 people: enough pairs for DuckDB to sum in parallel."""
    return synthetic_people(3000, seed=5)


@pytest.fixture(scope="session")
def small_records() -> tuple[pa.Table, dict[str, str]]:
    """About 120 records of 60 people (for the slower Spark backend)."""
    return synthetic_people(60, seed=11)
