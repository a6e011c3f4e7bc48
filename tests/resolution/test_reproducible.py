"""Identical inputs give identical outputs: two identity runs on the same person records write
the same gold/identity_map and gold/golden_records, to the last bit of every probability.

DuckDB sums in parallel, in an order that varies from run to run; before training pinned its
sums to one thread, two trainings on these records gave m-probabilities differing in the last
bits and so match probabilities differing in their last digits.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa

from c360.tables import GOLD_IDENTITY_MAP_SCHEMA
from resolution.golden import build_golden_records
from resolution.linker import DuckDBBackend
from resolution.pipeline import match_records
from resolution.stable_ids import assign_customer_ids

AT = datetime(2026, 12, 1, tzinfo=UTC)


def _one_run(records: pa.Table, identity_config) -> tuple[dict, pa.Table, pa.Table]:
    """A first identity run from scratch (train, predict, cluster, IDs, golden records)."""
    backend = DuckDBBackend("2GB")
    backend._connection.execute("SET threads = 4")  # more threads than cores: varied orders
    match = match_records(records, backend, identity_config, threshold=0.9)
    ids = assign_customer_ids(None, match.clusters.to_pandas(), "run", AT)
    identity_map = pa.Table.from_pandas(
        ids.identity_map, schema=GOLD_IDENTITY_MAP_SCHEMA, preserve_index=False
    )
    golden = build_golden_records(records, identity_map, backend)
    return match.model.splink_model, identity_map, golden


def test_two_runs_on_identical_records_write_identical_identity_map_and_golden_records(
    thousands_of_records, identity_config
):
    records = thousands_of_records[0]
    model_a, map_a, golden_a = _one_run(records, identity_config)
    model_b, map_b, golden_b = _one_run(records, identity_config)
    params = ("comparisons", "probability_two_random_records_match")
    assert json.dumps({k: model_a[k] for k in params}, sort_keys=True) == json.dumps(
        {k: model_b[k] for k in params}, sort_keys=True
    )
    assert map_a.num_rows == records.num_rows
    assert map_a.equals(map_b)
    assert golden_a.num_rows > 0
    assert golden_a.equals(golden_b)
