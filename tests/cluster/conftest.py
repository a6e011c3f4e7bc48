"""The cluster tests' fixture: a Spark standalone cluster for the module (spark_standalone.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from spark_standalone import StandaloneCluster, standalone_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    with standalone_cluster(tmp_path_factory.mktemp("standalone")) as running:
        yield running
