"""Fixtures of the segment tests: the small lakehouse and the repository's segment config."""

from __future__ import annotations

import pytest
from small_lake import build_small_lake

from c360.segments.engine import field_catalog
from c360.segments.model import load_segments_config


@pytest.fixture
def small_lake(tmp_path):
    return build_small_lake(tmp_path / "lake")


@pytest.fixture
def config():
    return load_segments_config()


@pytest.fixture
def catalog(small_lake, config):
    return field_catalog(small_lake, config)
