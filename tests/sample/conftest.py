"""Shared generated landing zones for the sample-data tests (pure pandas, no Spark)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from c360.contract import SourceEntity, day_folder
from c360.sample import GenerationSummary, GeneratorConfig, generate_landing_zone, load_noise_config


@dataclass
class Landing:
    """A generated landing zone, its truth, and readers that keep every value as landed text."""

    raw: Path
    truth: Path
    config: GeneratorConfig
    summary: GenerationSummary

    @property
    def days(self) -> list[date]:
        return [self.config.start + timedelta(days=i) for i in range(self.config.days)]

    def files(self, entity: SourceEntity, day: date) -> list[Path]:
        folder = day_folder(self.raw, entity.source, day)
        return sorted({p for glob in entity.file_globs for p in folder.glob(glob)})

    def read(self, entity: SourceEntity, day: date) -> pd.DataFrame:
        frames = [read_extract(path) for path in self.files(entity, day)]
        return pd.concat(frames, ignore_index=True)

    def read_all(self, entity: SourceEntity) -> pd.DataFrame:
        """Every day's rows, with the day index in `_day` (0 is the start date)."""
        frames = [self.read(entity, day).assign(_day=i) for i, day in enumerate(self.days)]
        return pd.concat(frames, ignore_index=True)

    def truth_csv(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.truth / name, dtype=str, keep_default_na=False)


def read_extract(path: Path) -> pd.DataFrame:
    """Read one extract as strings; JSON null and CSV blanks both become ""."""
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        frame = pd.DataFrame(rows)
        return frame.map(lambda v: "" if v is None else str(v))
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype(str)
    raise ValueError(f"unexpected extract {path}")


def generate(tmp: Path, **overrides) -> Landing:
    settings = {
        "people": 3000,
        "days": 3,
        "start": date(2025, 10, 1),
        "seed": 11,
        "noise": load_noise_config(),
        "history_days": 365,
    }
    settings.update(overrides)
    config = GeneratorConfig(**settings)
    summary = generate_landing_zone(config, tmp / "raw", tmp / "truth")
    return Landing(raw=tmp / "raw", truth=tmp / "truth", config=config, summary=summary)


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    """3,000 people, a year of history and three landing days (about a second to build)."""
    return generate(tmp_path_factory.mktemp("landing"))


@pytest.fixture(scope="session")
def make_landing():
    """Build another landing zone: ``make_landing(tmp_dir, people=500, seed=3, ...)``."""
    return generate


@pytest.fixture(scope="session")
def read():
    """Read one extract file as strings."""
    return read_extract
