"""The generator's interaction sources (pure pandas): realistic rates, phone-only callers,
dirty rows, and the same bytes for the same seed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from c360.contract import ENGAGEMENT_MESSAGES, SERVICE_CONTACTS, day_folder
from c360.interactions import load_vocabularies
from c360.sample import GeneratorConfig, generate_landing_zone, load_noise_config

START = date(2026, 5, 4)


def _generate(root: Path, seed: int = 3) -> Path:
    config = GeneratorConfig(
        people=3000, days=3, start=START, seed=seed, noise=load_noise_config(), history_days=30
    )
    generate_landing_zone(config, root / "raw", root / "truth")
    return root / "raw"


def _read(raw: Path, entity) -> pd.DataFrame:
    frames = [
        pd.read_csv(path, dtype=str, keep_default_na=False)
        for folder in sorted((raw / entity.source).iterdir())
        for path in sorted(folder.glob(entity.file_globs[0]))
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("interactions_sample"))


def test_message_event_rates_and_vocabulary(raw):
    messages = _read(raw, ENGAGEMENT_MESSAGES)
    assert tuple(messages.columns) == ENGAGEMENT_MESSAGES.required_columns
    counts = messages["event"].value_counts()
    assert counts["sent"] > counts["delivered"] > counts["opened"] > counts["clicked"] > 0
    assert counts["sent"] > 3 * counts["opened"]
    assert counts["bounced"] > 0 and counts["unsubscribed"] > 0 and counts["replied"] > 0
    # one send per message (a few sends are made dirty)
    assert 0.99 * messages["message_id"].nunique() <= counts["sent"]
    vocab = load_vocabularies().engagement
    known = set(vocab.events) | set(vocab.aliases["event"])
    unknown = messages.loc[~messages["event"].isin(known), "event"]
    assert 0 < len(unknown) < 0.01 * len(messages)  # dirty rows, few
    assert (messages["event_ts"] == "not a time").sum() > 0
    journeys = messages.loc[messages["journey_id"] != "", "journey_id"]
    assert {"welcome", "winback"} <= set(journeys)
    assert messages["campaign_id"].nunique() > 5


def test_contacts_kinds_phone_only_callers_and_dirty_rows(raw):
    contacts = _read(raw, SERVICE_CONTACTS)
    assert tuple(contacts.columns) == SERVICE_CONTACTS.required_columns
    assert set(contacts["kind"]) == {"call", "chat", "ticket"}
    phone_only = contacts[(contacts["customer_ref"] == "") & (contacts["phone"] != "")]
    assert len(phone_only) > 0 and set(phone_only["kind"]) == {"call"}
    tickets = contacts[contacts["kind"] == "ticket"]
    assert {"open", "pending", "resolved"} <= set(tickets["outcome"])
    assert (tickets["duration_s"] == "").all()
    rated = contacts.loc[contacts["satisfaction"] != "", "satisfaction"]
    assert "7" in set(rated) or "-5" in set(contacts["duration_s"])  # a dirty row lands
    assert set(rated) - {"7"} <= {"1", "2", "3", "4", "5"}


def test_same_seed_same_bytes(raw, tmp_path):
    again = _generate(tmp_path)
    for entity in (ENGAGEMENT_MESSAGES, SERVICE_CONTACTS):
        for offset in range(3):
            day = date.fromordinal(START.toordinal() + offset)
            (first,) = day_folder(raw, entity.source, day).glob(entity.file_globs[0])
            (second,) = day_folder(again, entity.source, day).glob(entity.file_globs[0])
            assert first.read_bytes() == second.read_bytes()
