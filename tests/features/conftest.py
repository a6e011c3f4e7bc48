"""Fixtures of the feature tests; the table builders live in feature_tables.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from feature_tables import write_tables


@pytest.fixture
def write_inputs(lake) -> Callable:
    """Write the five feature inputs into the test lakehouse: ``write_inputs(tx, ids, golden,
    points, members)`` returns the lakehouse."""

    def _write(*tables, **named):
        return write_tables(lake, *tables, **named)

    return _write
