"""The generated landing zone honours the contract in c360/contract.py (ARCHITECTURE.md s3)."""

from __future__ import annotations

import fnmatch
from datetime import date

import pyarrow.parquet as pq
import pytest

from c360.contract import (
    CRM_CONTACTS,
    PERSON_SOURCES,
    SOURCE_ENTITIES,
    SOURCES,
    SUCCESS_MARKER,
    TRANSACTIONS,
    day_folder,
    landed_days,
)
from c360.profile_fields import load_profile_fields
from c360.sample import TRUTH_FILES, GeneratorConfig, generate_landing_zone, load_noise_config
from c360.sample.noise import EXTRA_COLUMNS
from c360.sample.profile_columns import PROFILE_EXTRA_COLUMNS


def declared_optional(entity) -> set[str]:
    """The contract's optional columns and the custom fields conf declares for the source."""
    custom = {c.name for c in load_profile_fields().custom_of(entity.source)}
    return set(entity.optional_columns) | custom


def test_one_complete_folder_per_source_per_day(landing):
    assert landed_days(landing.raw) == landing.days
    for source in SOURCES:
        # exactly the three day folders, each closed by an empty marker
        assert sorted(p.name for p in (landing.raw / source).iterdir()) == [
            d.isoformat() for d in landing.days
        ]
        assert landed_days(landing.raw, source) == landing.days
        for day in landing.days:
            marker = day_folder(landing.raw, source, day) / SUCCESS_MARKER
            assert marker.is_file()
            assert marker.stat().st_size == 0


def test_every_file_matches_a_contract_pattern_and_each_entity_lands_daily(landing):
    entities_by_source = {s: [e for e in SOURCE_ENTITIES if e.source == s] for s in SOURCES}
    for source, entities in entities_by_source.items():
        for day in landing.days:
            names = {p.name for p in day_folder(landing.raw, source, day).iterdir()}
            names.discard(SUCCESS_MARKER)
            for entity in entities:
                assert len(landing.files(entity, day)) == 1, (entity.name, day)
            matched = {
                n for n in names for e in entities for g in e.file_globs if fnmatch.fnmatch(n, g)
            }
            assert names == matched, f"unexpected files in {source}/{day}: {names - matched}"


@pytest.mark.parametrize("entity", SOURCE_ENTITIES, ids=lambda e: e.name)
def test_files_have_exactly_the_required_columns_in_order(landing, entity):
    # Person sources may add optional columns after the contract's (crm and loyalty: consent;
    # then the profile and custom columns of issue 20).
    extra = ()
    if entity in PERSON_SOURCES.values():
        extra = EXTRA_COLUMNS[entity.source] + PROFILE_EXTRA_COLUMNS[entity.source]
        assert set(PROFILE_EXTRA_COLUMNS[entity.source]) <= declared_optional(entity)
    for day in landing.days:
        frame = landing.read(entity, day)
        assert tuple(frame.columns) == entity.required_columns + extra


def test_only_crm_and_loyalty_members_carry_consent_columns():
    consent = ("consent_email", "consent_sms", "consent_data_use")
    assert {"crm": consent, "erp": (), "loyalty": consent} == EXTRA_COLUMNS


@pytest.mark.parametrize("entity", SOURCE_ENTITIES, ids=lambda e: e.name)
def test_files_are_utf8_without_bom_and_keys_are_unique(landing, entity):
    for day in landing.days:
        for path in landing.files(entity, day):
            data = path.read_bytes()
            data.decode("utf-8")  # strict: raises on any invalid byte
            assert not data.startswith(b"\xef\xbb\xbf")
        # a message lands one row per event: (message_id, event) is its row key (issue 20)
        frame = landing.read(entity, day)
        keys = frame[list(entity.row_key or (entity.key_column,))].agg("|".join, axis=1)
        assert keys.is_unique
        assert (frame[entity.key_column] != "").all()


@pytest.mark.parametrize("entity", PERSON_SOURCES.values(), ids=lambda e: e.name)
def test_vietnamese_text_is_written_as_utf8_not_escaped(landing, entity):
    path = landing.files(entity, landing.days[0])[0]
    # Nguyễn is about 38 % of family names, so a day-one extract of hundreds of people has it.
    assert "Nguyễn".encode() in path.read_bytes()


def test_truth_sits_outside_the_landing_zone(landing):
    assert sorted(p.name for p in landing.truth.iterdir()) == sorted(TRUTH_FILES)
    landed_names = {p.name for p in landing.raw.rglob("*")}
    assert not landed_names & set(TRUTH_FILES)


def test_parquet_transactions_have_the_contract_columns(make_landing, tmp_path):
    small = make_landing(
        tmp_path, people=300, days=2, history_days=30, transactions_format="parquet"
    )
    for day in small.days:
        (path,) = small.files(TRANSACTIONS, day)
        assert path.suffix == ".parquet"
        assert tuple(pq.read_schema(path).names) == TRANSACTIONS.required_columns
    assert small.summary.rows[TRANSACTIONS.name] == sum(
        len(small.read(TRANSACTIONS, d)) for d in small.days
    )


def _config(**overrides) -> GeneratorConfig:
    settings = {
        "people": 100, "days": 1, "start": date(2025, 1, 6), "seed": 1,
        "noise": load_noise_config(), "history_days": 10,
    }  # fmt: skip
    settings.update(overrides)
    return GeneratorConfig(**settings)


def test_existing_targets_are_refused_unless_overwrite(tmp_path):
    generate_landing_zone(_config(), tmp_path / "raw", tmp_path / "truth")
    with pytest.raises(FileExistsError, match="--overwrite"):
        generate_landing_zone(_config(), tmp_path / "raw", tmp_path / "truth")
    summary = generate_landing_zone(_config(), tmp_path / "raw", tmp_path / "truth", overwrite=True)
    assert summary.rows[CRM_CONTACTS.name] > 0


def test_truth_inside_the_landing_zone_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="outside the landing zone"):
        generate_landing_zone(_config(), tmp_path / "raw", tmp_path / "raw" / "truth")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("people", 0, "people must be at least 1"),
        ("days", 0, "days must be at least 1"),
        ("transactions_format", "xlsx", "transactions_format must be one of"),
    ],
)
def test_invalid_config_names_the_problem(field, value, message):
    with pytest.raises(ValueError, match=message):
        _config(**{field: value})
