"""The consent ledger's rules (c360/consent.py): latest explicit decision wins, withdrawn wins a
same-time tie, no decision is no consent; and the segments read the per-purpose columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from c360.consent import consent_history, current_consent
from c360.tables import GOLD_CONSENT_HISTORY_SCHEMA, SILVER_CONSENT_EVENTS_SCHEMA

T1, T2, T3 = (datetime(2026, 11, d, 9, tzinfo=UTC) for d in (1, 2, 3))
IDENTITY_MAP = pa.table(
    {
        "source_system": ["crm", "loyalty", "crm"],
        "source_record_id": ["1", "1", "2"],
        "customer_id": ["C1", "C1", "C2"],
    }
)


def _records(rows: list[dict]) -> pa.Table:
    base = {"consent_email": None, "consent_sms": None, "consent_data_use": None}
    full = [
        base | row | {"source_system": row["record_key"].split(":")[0],
                      "source_record_id": row["record_key"].split(":")[1]}
        for row in rows
    ]  # fmt: skip
    schema = pa.schema(
        [
            ("record_key", pa.string()), ("source_system", pa.string()),
            ("source_record_id", pa.string()), ("consent_email", pa.bool_()),
            ("consent_sms", pa.bool_()), ("consent_data_use", pa.bool_()),
            ("created_at", pa.timestamp("us", tz="UTC")),
            ("updated_at", pa.timestamp("us", tz="UTC")),
        ]
    )  # fmt: skip
    return pa.Table.from_pylist(full, schema=schema)


def _events(rows: list[tuple]) -> pa.Table:
    names = ["event_id", "source_system", "source_record_id", "purpose", "decision", "decided_at"]
    data = [dict(zip(names, row, strict=True)) | {"channel": "web"} for row in rows]
    return pa.Table.from_pylist(data, schema=SILVER_CONSENT_EVENTS_SCHEMA)


def _current(records: pa.Table, events: pa.Table | None = None) -> dict[str, dict]:
    history = consent_history(records, IDENTITY_MAP, events)
    rows = current_consent(history, ["C1", "C2"]).to_pylist()
    return {row["customer_id"]: row for row in rows}


def test_a_withdrawal_after_a_grant_wins():
    current = _current(
        _records(
            [
                {"record_key": "crm:1", "consent_email": True, "updated_at": T1},
                {"record_key": "loyalty:1", "consent_email": False, "updated_at": T2},
            ]
        )
    )
    assert current["C1"]["consent_email"] is False
    assert current["C1"]["consent_email_source"] == "loyalty:1"
    assert current["C1"]["consent_email_at"] == T2


def test_a_grant_after_a_withdrawal_wins():
    current = _current(
        _records(
            [
                {"record_key": "crm:1", "consent_sms": False, "updated_at": T1},
                {"record_key": "loyalty:1", "consent_sms": True, "updated_at": T3},
            ]
        )
    )
    assert (current["C1"]["consent_sms"], current["C1"]["consent_sms_source"]) == (
        True,
        "loyalty:1",
    )


@pytest.mark.parametrize("order", [("crm:1", "loyalty:1"), ("loyalty:1", "crm:1")])
def test_two_sources_disagreeing_at_the_same_time_resolve_to_withdrawn(order):
    decisions = {order[0]: True, order[1]: False}
    current = _current(
        _records(
            [
                {"record_key": key, "consent_email": value, "updated_at": T2}
                for key, value in decisions.items()
            ]
        )
    )
    assert current["C1"]["consent_email"] is False
    assert current["C1"]["consent_email_source"] == order[1]


def test_no_decision_is_null_and_a_decision_without_time_loses_to_a_timed_one():
    current = _current(
        _records(
            [
                {"record_key": "crm:1", "consent_email": False},  # no updated_at / created_at
                {"record_key": "loyalty:1", "consent_email": True, "updated_at": T1},
                {"record_key": "crm:2", "updated_at": T1},  # states nothing
            ]
        )
    )
    assert current["C1"]["consent_email"] is True
    for purpose in ("email", "sms", "zalo", "call", "profiling", "third_party_sharing"):
        assert current["C2"][f"consent_{purpose}"] is None
        assert current["C2"][f"consent_{purpose}_source"] is None


def test_consent_events_join_the_ledger_and_data_use_is_profiling():
    records = _records([{"record_key": "crm:1", "consent_data_use": True, "updated_at": T1}])
    events = _events(
        [
            ("E1", "crm", "1", "zalo", "granted", T1),
            ("E2", "loyalty", "1", "profiling", "withdrawn", T3),
            ("E3", "crm", "9", "call", "granted", T1),  # no such record: no customer, dropped
        ]
    )
    current = _current(records, events)
    assert current["C1"]["consent_zalo"] is True
    assert current["C1"]["consent_zalo_source"] == "consent:E1"
    assert current["C1"]["consent_profiling"] is False  # the later withdrawal
    assert current["C1"]["consent_call"] is None
    history = consent_history(records, IDENTITY_MAP, events)
    assert history.schema == GOLD_CONSENT_HISTORY_SCHEMA
    assert sorted(history.column("event_id").to_pylist()) == [
        "consent:E1", "consent:E2", "crm:1:consent_data_use",
    ]  # fmt: skip


def test_golden_records_carry_the_ledger_columns():
    from resolution.golden import build_golden_records
    from resolution.linker import DuckDBBackend

    records = _records(
        [
            {"record_key": "crm:1", "consent_email": True, "updated_at": T1},
            {"record_key": "loyalty:1", "consent_email": False, "updated_at": T2},
            {"record_key": "crm:2", "consent_data_use": False, "updated_at": T2},
        ]
    )
    events = _events([("E1", "crm", "2", "call", "granted", T3)])
    golden = build_golden_records(records, IDENTITY_MAP, DuckDBBackend(), consent_events=events)
    rows = {r["customer_id"]: r for r in golden.to_pylist()}
    assert (rows["C1"]["consent_email"], rows["C1"]["consent_email_source"]) == (False, "loyalty:1")
    assert rows["C2"]["consent_call"] is True
    assert rows["C2"]["consent_profiling"] is False
    assert rows["C2"]["consent_data_use"] is False  # = consent_profiling


def test_the_shipped_segments_use_the_zalo_and_call_consent(tmp_path):
    from c360.segments.engine import evaluate, field_catalog
    from c360.segments.model import load_segments_config, parse_filter
    from c360.tables import GOLD_GOLDEN_RECORDS
    from tests.segments.small_lake import build_small_lake, golden_table

    config = load_segments_config()
    assert (config.channel_consent["zalo"], config.channel_consent["call"]) == (
        "consent_zalo",
        "consent_call",
    )
    lake = build_small_lake(tmp_path / "lake")
    golden = golden_table()
    zalo = [True, False, None, None, None, None]  # C1 granted, C2 withdrew, the rest: none
    golden = golden.set_column(
        golden.column_names.index("consent_zalo"), "consent_zalo", pa.array(zalo, pa.bool_())
    )
    lake.overwrite(golden, GOLD_GOLDEN_RECORDS)
    everyone = parse_filter({"field": "customer_id", "op": "is_not_null"}, "t")
    result = evaluate(lake, config, field_catalog(lake, config), everyone, "zalo")
    assert set(result.members["customer_id"].to_pylist()) == {"C1"}
    assert result.excluded_for_consent == 5
