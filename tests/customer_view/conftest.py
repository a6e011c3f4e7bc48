"""Fixtures of the customer-view tests: the hand-made lakehouse and the view's configuration."""

from __future__ import annotations

import pytest
from view_lake import build_view_lake

from c360.customer_view.config import load_customer_view_config
from c360.customer_view.store import ViewStore


@pytest.fixture
def view_root(tmp_path):
    return build_view_lake(tmp_path / "lake")


@pytest.fixture
def store(view_root):
    return ViewStore(view_root)


@pytest.fixture(scope="session")
def view_config():
    return load_customer_view_config()
