"""gold/segment_members: snapshots per as-of date, entered / left, idempotent re-runs, the asset."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import yaml
from small_lake import AS_OF, FEATURES, features_table

from c360.config import load_settings
from c360.segments.membership import write_segment_members
from c360.segments.model import load_segments_config
from c360.tables import GOLD_CUSTOMER_FEATURES, GOLD_SEGMENT_MEMBERS

CONF = {
    "channel_consent": {"email": "consent_email", "sms": "consent_sms", "zalo": None,
                        "call": None},
    "segments": {
        "active": {"description": {"en": "a", "vi": "a"}, "owner": "sales", "channel": "email",
                   "filter": {"field": "tx_count_d90", "op": ">=", "value": 3}},
        "zalo_south": {"description": {"en": "z", "vi": "z"}, "owner": "marketing",
                       "channel": "zalo", "filter": {"field": "region", "op": "=",
                                                     "value": "south"}},
    },
}  # fmt: skip


def _config(tmp_path: Path):
    path = tmp_path / "segments.yaml"
    path.write_text(yaml.safe_dump(CONF, allow_unicode=True), encoding="utf-8")
    return load_segments_config(path), path


def _members(lake, as_of: date) -> dict[str, tuple[bool, ...]]:
    rows = lake.read_arrow(GOLD_SEGMENT_MEMBERS).to_pylist()
    return {
        f"{r['segment']}:{r['customer_id']}": r["entered"] for r in rows if r["as_of_date"] == as_of
    }


def test_snapshots_entered_left_and_idempotent(small_lake, tmp_path):
    config, _ = _config(tmp_path)
    first = write_segment_members(small_lake, config, AS_OF)
    # active: tx >= 3 -> C1, C3, C6; C3 has no email consent
    assert _members(small_lake, AS_OF) == {"active:C1": True, "active:C6": True}
    figures = {f.segment: f for f in first}
    assert (figures["active"].members, figures["active"].excluded_for_consent) == (2, 1)
    assert (figures["zalo_south"].members, figures["zalo_south"].excluded_for_consent) == (0, 3)
    # re-running the same date replaces the snapshot: same rows
    write_segment_members(small_lake, config, AS_OF)
    assert small_lake.count(GOLD_SEGMENT_MEMBERS) == 2
    # a later snapshot: C6 stops buying, C4 buys more
    later = date(2026, 11, 11)
    changed = dict(FEATURES) | {"C6": (0, 300.0, "gold"), "C4": (4, 99.9, "member")}
    small_lake.replace_where(features_table(later, changed), GOLD_CUSTOMER_FEATURES,
                             {"as_of_date": [later]})  # fmt: skip
    [active, _] = write_segment_members(small_lake, config, later)
    assert _members(small_lake, later) == {"active:C1": False, "active:C4": True}
    assert (active.members, active.entered, active.left) == (2, 1, 1)
    assert _members(small_lake, AS_OF) == {"active:C1": True, "active:C6": True}  # kept


def test_the_dagster_asset_materialises_with_per_segment_metadata(small_lake, tmp_path):
    from assets.resources import build_resources
    from assets.segments import segment_members

    _, path = _config(tmp_path)
    settings = load_settings(overrides={"lakehouse_root": str(small_lake.root),
                                        "raw_root": str(tmp_path / "raw")})  # fmt: skip
    resources = build_resources(settings)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("as_of_date", [AS_OF.isoformat()])
    result = dg.materialize(
        [segment_members],
        partition_key=AS_OF.isoformat(),
        resources={"lakehouse": resources["lakehouse"]},
        instance=instance,
        run_config={"ops": {"gold__segment_members": {"config": {"segments_path": str(path)}}}},
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["segment_members"].value == {"active": 2, "zalo_south": 0}
    assert metadata["per_segment"].value["active"] == {
        "channel": "email", "members": 2, "excluded_for_consent": 1, "entered": 2, "left": 0,
    }  # fmt: skip
    assert small_lake.count(GOLD_SEGMENT_MEMBERS) == 2
