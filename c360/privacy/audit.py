"""``gold/privacy_requests``: one row per erasure request (no identifier values), and the
deadline check (``conf/privacy.yaml`` erasure.deadline_hours)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from c360.lakehouse import Lakehouse
from c360.privacy.requests import ErasureRequest, read_requests
from c360.tables import GOLD_PRIVACY_REQUESTS, GOLD_PRIVACY_REQUESTS_SCHEMA


def completed_request_ids(lake: Lakehouse) -> set[str]:
    """Requests ``gold/privacy_requests`` records as done (a re-run skips them)."""
    if not lake.exists(GOLD_PRIVACY_REQUESTS):
        return set()
    table = lake.arrow_dataset(GOLD_PRIVACY_REQUESTS).to_table(columns=["request_id"])
    return set(table.column(0).to_pylist())


def audit_rows(rows: list[dict]) -> pa.Table:
    """Rows (dicts in GOLD_PRIVACY_REQUESTS_SCHEMA order) as an Arrow table."""
    return pa.Table.from_pylist(rows, schema=GOLD_PRIVACY_REQUESTS_SCHEMA)


def overdue_requests(
    lake: Lakehouse, raw_root: Path, deadline_hours: float, now: datetime
) -> list[ErasureRequest]:
    """Landed requests not completed within the deadline of their ``received_at``."""
    done = completed_request_ids(lake)
    limit = timedelta(hours=deadline_hours)
    return [
        r
        for r in read_requests(raw_root)
        if r.request_id not in done and now - r.received_at > limit
    ]
