"""A table whose columns change with conf (a custom field added or removed) is overwritten whole:
the new schema replaces the old one (delta-rs, as delta-spark's overwriteSchema)."""

from __future__ import annotations

import pyarrow as pa

from c360.lakehouse import Lakehouse
from c360.tables import GOLD_GOLDEN_RECORDS


def test_overwrite_replaces_the_schema(tmp_path):
    lake = Lakehouse(tmp_path / "lake", spark=None, writer="delta-rs")
    lake.overwrite(pa.table({"customer_id": ["C1"], "old_field": [1]}), GOLD_GOLDEN_RECORDS)
    wider = pa.table({"customer_id": ["C1"], "vip_since_source": ["erp:1"]})
    lake.overwrite(wider, GOLD_GOLDEN_RECORDS)
    assert lake.read_arrow(GOLD_GOLDEN_RECORDS).to_pylist() == wider.to_pylist()
