"""Shared fixtures: one SparkSession per test run, temporary lakehouse roots."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A real local SparkSession, built the way the pipeline builds it, shared by all tests."""
    from c360.config import SparkSettings, load_settings
    from c360.spark import build_spark_session

    # The profile's extra_conf is kept, so a profile that puts the Delta jars on the classpath
    # also exercises the delta-spark writer in the tests.
    profile_conf = load_settings().spark.extra_conf
    settings = SparkSettings(
        master="local[2]",
        app_name="c360-tests",
        driver_memory="2g",
        shuffle_partitions=2,
        extra_conf={
            **profile_conf,
            "spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("warehouse")),
            "spark.local.dir": str(tmp_path_factory.mktemp("spark-local")),
        },
    )
    session = build_spark_session(settings)
    session.sparkContext.setCheckpointDir(str(tmp_path_factory.mktemp("checkpoints")))
    yield session
    session.stop()


@pytest.fixture
def lake(spark, tmp_path: Path):
    """An empty lakehouse in a temporary folder, on the backend the session supports."""
    from c360.lakehouse import Lakehouse

    return Lakehouse(tmp_path / "lakehouse", spark)


@pytest.fixture
def rs_lake(spark, tmp_path: Path):
    """An empty lakehouse forced onto the delta-rs writer (the embedded default)."""
    from c360.lakehouse import Lakehouse

    return Lakehouse(tmp_path / "lakehouse-rs", spark, writer="delta-rs")


@pytest.fixture
def land(tmp_path: Path):
    """Write one source's files for one day into a temporary landing zone.

    ``land("crm", "2026-11-01", {"contacts.csv": "..."})`` returns the raw root; bytes are
    written as is, text as UTF-8; ``complete=False`` leaves out the ``_SUCCESS`` marker.
    """
    raw_root = tmp_path / "raw"

    def _land(source: str, day: str, files: dict[str, str | bytes], complete: bool = True) -> Path:
        folder = raw_root / source / day
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            (folder / name).write_bytes(data)
        if complete:
            (folder / "_SUCCESS").touch()
        return raw_root

    return _land


@dataclass(frozen=True)
class PipelineRun:
    """A landing zone of 300 generated people over 2 days, run through every stage once."""

    raw: Path
    truth: Path
    lake_root: Path
    summary: object  # pipelines.runner.RunSummary

    def copy_lake(self, target: Path) -> Path:
        """A private copy of the lakehouse (Delta logs hold relative paths) for a test to change."""
        shutil.copytree(self.lake_root, target)
        return target


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory, spark) -> PipelineRun:
    """Shared by the end-to-end, notebook and snapshot tests: the full run is minutes long."""
    from datetime import date

    from c360.sample import GeneratorConfig, generate_landing_zone, load_noise_config
    from pipelines.runner import run_pipeline

    root = tmp_path_factory.mktemp("pipeline_run")
    config = GeneratorConfig(
        people=300, days=2, start=date(2026, 11, 1), seed=11, noise=load_noise_config(),
        history_days=60,
    )  # fmt: skip
    generate_landing_zone(config, root / "raw", root / "truth")
    overrides = {
        "raw_root": str(root / "raw"),
        "lakehouse_root": str(root / "lake"),
        "truth_root": str(root / "truth"),
    }
    summary = run_pipeline(overrides)
    return PipelineRun(root / "raw", root / "truth", root / "lake", summary)
