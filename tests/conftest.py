"""Shared fixtures: one SparkSession per test run, temporary lakehouse roots."""

from __future__ import annotations

import os
from collections.abc import Iterator
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
