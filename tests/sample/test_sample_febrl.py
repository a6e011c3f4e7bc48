"""The FEBRL converter: the public benchmark landed as CRM contacts with generator-style truth."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from c360.contract import CRM_CONTACTS, day_folder
from c360.sample.febrl import read_febrl, write_febrl_landing_zone
from c360.sample.generator import TRUTH_FILES
from resolution.evaluation import read_truth

DAY = date(2025, 10, 1)


def test_febrl3_lands_every_record_with_its_person(tmp_path: Path, read) -> None:
    rows = write_febrl_landing_zone("3", tmp_path / "raw", tmp_path / "truth", DAY)
    folder = day_folder(tmp_path / "raw", "crm", DAY)
    assert rows == {"contacts_febrl3_20251001.csv": 5000}
    assert (folder / "_SUCCESS").exists()
    contacts = read(folder / "contacts_febrl3_20251001.csv")
    assert list(contacts.columns) == list(CRM_CONTACTS.required_columns)
    assert contacts["contact_id"].is_unique
    assert (contacts[["phone", "email", "gender"]] == "").all().all()
    for name in TRUTH_FILES:
        assert (tmp_path / "truth" / name).is_file(), name
    truth = read_truth(tmp_path / "truth")  # what `c360 run --truth` reads
    assert len(truth) == 5000 and truth["person_id"].nunique() == 2000
    assert truth["record_id"].str.startswith("crm:rec-").all()


def test_febrl_fields_map_as_documented(tmp_path: Path, read) -> None:
    source = read_febrl("dataset3.csv").set_index("rec_id")
    write_febrl_landing_zone("3", tmp_path / "raw", tmp_path / "truth", DAY)
    contacts = read(day_folder(tmp_path / "raw", "crm", DAY) / "contacts_febrl3_20251001.csv")
    row = contacts.set_index("contact_id").loc["rec-1496-org"]
    original = source.loc["rec-1496-org"]  # mitchell green, 7 wallaby place, delmar, ...
    assert row["full_name"] == f"{original['given_name']} {original['surname']}"
    assert row["date_of_birth"] == original["date_of_birth"] == "19560409"
    assert row["national_id"] == original["soc_sec_id"]
    assert row["address"] == "7 wallaby place, delmar, cleveland 2119"
    assert row["province"] == "sa"


def test_febrl4_is_two_files_of_one_day_and_subsets_keep_whole_persons(
    tmp_path: Path, read
) -> None:
    rows = write_febrl_landing_zone("4", tmp_path / "raw", tmp_path / "truth", DAY, 400)
    assert set(rows) == {"contacts_febrl4a_20251001.csv", "contacts_febrl4b_20251001.csv"}
    truth = pd.read_csv(tmp_path / "truth" / "person_truth.csv", dtype=str)
    sizes = truth.groupby("person_id").size()
    assert (sizes == 2).all() and 380 <= len(truth) <= 420  # each original with its duplicate
    manifest = json.loads((tmp_path / "truth" / "manifest.json").read_text())
    assert manifest["config"]["febrl"] == "4" and manifest["truth_rows"] == len(truth)


def test_febrl_refuses_an_unknown_dataset_and_truth_inside_the_landing_zone(
    tmp_path: Path,
) -> None:
    from c360.sample import GeneratorInputError

    with pytest.raises(GeneratorInputError, match="one of"):
        write_febrl_landing_zone("5", tmp_path / "raw", tmp_path / "truth")
    with pytest.raises(GeneratorInputError, match="outside the landing zone"):
        write_febrl_landing_zone("3", tmp_path / "raw", tmp_path / "raw" / "truth")
