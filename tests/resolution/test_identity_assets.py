"""Dagster materialize() of the identity assets over a person_records Delta table in tmp_path."""

import json

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from assets.identity import golden_records, identity_definitions, identity_map
from assets.resources import build_resources
from c360.config import load_settings
from c360.tables import (
    GOLD_GOLDEN_RECORDS,
    GOLD_GOLDEN_RECORDS_SCHEMA,
    GOLD_IDENTITY_HISTORY,
    GOLD_IDENTITY_MAP,
    SILVER_PERSON_RECORDS,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def resources(lake) -> dict:
    """The profile's resources on the test lakehouse (Spark getOrCreate reuses the session)."""
    settings = load_settings(
        overrides={"lakehouse_root": str(lake.root), "identity": {"backend": "duckdb"}}
    )
    return build_resources(settings)


def test_identity_job_resolves():
    defs = dg.Definitions.merge(
        identity_definitions(), dg.Definitions(resources=build_resources(load_settings()))
    )
    job = defs.resolve_job_def("identity_job")
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == {
        "gold/identity_map", "gold/identity_history", "gold/golden_records",
    }  # fmt: skip


def test_materialize_two_days(lake, synthetic_records, tmp_path):
    records, truth = synthetic_records
    truth_dir = tmp_path / "truth"
    truth_dir.mkdir()
    pd.DataFrame(
        {
            "source_system": [k.split(":")[0] for k in truth],
            "source_record_id": [k.split(":")[1] for k in truth],
            "person_id": list(truth.values()),
        }
    ).to_csv(truth_dir / "person_truth.csv", index=False)
    # Day 1: all but the last 20 records.
    lake.overwrite(records.slice(0, records.num_rows - 20), SILVER_PERSON_RECORDS)
    config = {"ops": {"identity_map": {"config": {"truth_root": str(truth_dir)}}}}
    day1 = dg.materialize(
        [identity_map, golden_records], resources=resources(lake), run_config=config
    )
    assert day1.success
    metadata = day1.asset_materializations_for_node("identity_map")[0].metadata
    assert metadata["records"].value == records.num_rows - 20
    assert metadata["model_trained_this_run"].value is True
    assert metadata["match_f1"].value >= 0.97
    assert metadata["customers_new"].value == metadata["customers"].value
    assert (lake.reports_dir(day1.run_id) / "match_weights.html").is_file()
    # The threshold chart: with truth, precision and recall against the threshold.
    assert (lake.reports_dir(day1.run_id) / "threshold.html").is_file()
    table = json.loads((lake.reports_dir(day1.run_id) / "threshold.json").read_text())
    assert table["true_pairs"] > 0 and {"precision", "recall", "f1"} <= set(table["rows"][0])
    assert max(row["f1"] for row in table["rows"]) >= 0.9
    map1 = lake.read_arrow(GOLD_IDENTITY_MAP).to_pandas()
    assert len(map1) == records.num_rows - 20 and map1["customer_id"].notna().all()
    golden = lake.read_arrow(GOLD_GOLDEN_RECORDS)
    assert set(GOLD_GOLDEN_RECORDS_SCHEMA.names) <= set(golden.schema.names)
    assert golden.num_rows == map1["customer_id"].nunique()
    assert pc.count_distinct(golden.column("customer_id")).as_py() == golden.num_rows

    # Day 2: the 20 new records land and one known record changes its phone.
    changed = records.to_pandas()
    changed.loc[0, "phone_e164"] = "+84999999999"
    lake.overwrite(pa.Table.from_pandas(changed, schema=records.schema), SILVER_PERSON_RECORDS)
    day2 = dg.materialize([identity_map, golden_records], resources=resources(lake))
    assert day2.success
    metadata2 = day2.asset_materializations_for_node("identity_map")[0].metadata
    assert metadata2["model_trained_this_run"].value is False  # the saved model is reused
    map2 = lake.read_arrow(GOLD_IDENTITY_MAP).to_pandas()
    assert len(map2) == records.num_rows
    before = map1.set_index(["source_system", "source_record_id"])["customer_id"]
    after = map2.set_index(["source_system", "source_record_id"])["customer_id"]
    kept = (after.loc[before.index] == before).mean()
    # Only customers touched by a merge or split may change ID; with 20 new records of 300
    # people almost every ID is unchanged.
    assert kept >= 0.97
    history = lake.read_arrow(GOLD_IDENTITY_HISTORY).to_pandas()
    assert set(history["run_id"]) == {day1.run_id, day2.run_id}
    assert (history.loc[history["run_id"] == day1.run_id, "event"] == "new").all()
    changed_ids = set(before[before != after.loc[before.index]])
    retired = set(history.loc[history["event"] == "merge", "customer_id"])
    assert changed_ids <= retired  # every changed ID was merged away, and recorded
