"""Past feature snapshots (`c360 features`): built next to the daily one, point in time, and
refused with a clear reason when the lakehouse or the dates cannot give one."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from c360.tables import GOLD_CUSTOMER_FEATURES, GOLD_IDENTITY_MAP, SILVER_TRANSACTIONS
from features.checks import snapshot_head
from pipelines.cli import main
from pipelines.runner import RunFailure, build_feature_snapshots

DAY_1 = date(2026, 11, 1)
LATEST = date(2026, 11, 3)  # the daily snapshot: the day after the last of the two landing days
PAST = date(2026, 10, 15)  # inside the 60 days of history the generator writes before DAY_1


def _overrides(raw: Path, lake: Path) -> dict:
    return {"raw_root": str(raw), "lakehouse_root": str(lake)}


def _features(lake_root: Path, as_of: date, columns: list[str]) -> pd.DataFrame:
    """One snapshot of gold/customer_features (a few columns), read with delta-rs."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    table = DeltaTable(str(lake_root / GOLD_CUSTOMER_FEATURES.layer / GOLD_CUSTOMER_FEATURES.name))
    dataset = table.to_pyarrow_dataset()
    return dataset.to_table(filter=pc.field("as_of_date") == as_of, columns=columns).to_pandas()


@pytest.fixture(scope="module")
def landing(pipeline_run) -> Path:
    return pipeline_run.raw


@pytest.fixture(scope="module")
def past_snapshot(pipeline_run, tmp_path_factory, spark):
    """A copy of the shared run's lakehouse (daily snapshot as of LATEST), plus PAST."""
    lake_root = pipeline_run.copy_lake(tmp_path_factory.mktemp("snapshots") / "lake")
    lines: list[str] = []
    summary = build_feature_snapshots(_overrides(pipeline_run.raw, lake_root), [PAST], lines.append)
    return summary, lake_root, lines


@pytest.mark.spark
@pytest.mark.slow
def test_past_snapshot_is_built_next_to_the_latest(past_snapshot):
    summary, lake_root, lines = past_snapshot
    assert summary.days == [PAST]
    assert [s.stage for s in summary.stages] == [f"as of {PAST}"]
    (stage,) = summary.stages
    assert stage.checks_failed == 0 and stage.checks_passed == 1
    metadata = {a.asset: a.metadata for a in stage.assets}
    assert metadata["gold/customer_features"]["as_of_date"] == PAST.isoformat()
    assert lines[0] == f"[1/1] features: running (as of {PAST})"
    assert lines[1].startswith("[1/1] features: done in ")

    # the daily snapshot written by run_pipeline is still there, next to the past one
    from deltalake import DeltaTable

    table = DeltaTable(str(lake_root / GOLD_CUSTOMER_FEATURES.layer / GOLD_CUSTOMER_FEATURES.name))
    assert sorted({p["as_of_date"] for p in table.partitions()}) == [str(PAST), str(LATEST)]
    past_rows = len(_features(lake_root, PAST, ["customer_id"]))
    latest_rows = len(_features(lake_root, LATEST, ["customer_id"]))
    assert past_rows == metadata["gold/customer_features"]["customers"] > 0
    assert latest_rows >= past_rows  # customers known before PAST are still known later

    # the asset's preview: a few rows and columns of this snapshot, not of the daily one
    dataset = table.to_pyarrow_dataset()
    head = snapshot_head(dataset, PAST, rows=5, columns=12)
    assert head.num_rows == 5 and head.schema.names == dataset.schema.names[:12]
    assert "customer_id" in head.schema.names
    assert (
        head.column("customer_id").to_pylist()[0] in metadata["gold/customer_features"]["preview"]
    )


@pytest.mark.spark
@pytest.mark.slow
def test_past_snapshot_counts_only_purchases_before_its_date(past_snapshot):
    _, lake_root, _ = past_snapshot
    columns = ["customer_id", "tx_count_life"]
    past = _features(lake_root, PAST, columns).set_index("customer_id")["tx_count_life"]
    latest = _features(lake_root, LATEST, columns).set_index("customer_id")["tx_count_life"]
    assert set(past.index) <= set(latest.index)
    grown = latest.loc[past.index] - past
    assert (grown >= 0).all()
    assert (grown > 0).sum() > 0  # purchases between PAST and LATEST reached the latest one

    # recomputed from silver: completed purchases dated before PAST, per customer
    from deltalake import DeltaTable

    def read(table):
        return DeltaTable(str(lake_root / table.layer / table.name)).to_pandas()

    identity = read(GOLD_IDENTITY_MAP)
    identity["record_key"] = identity.source_system + ":" + identity.source_record_id
    sales = read(SILVER_TRANSACTIONS)
    before = sales[(sales.status.str.lower() == "completed") & (sales.transaction_date < PAST)]
    expected = before.merge(identity[["record_key", "customer_id"]], on="record_key")
    expected_counts = expected.groupby("customer_id").size()
    assert past.sum() == expected_counts.sum() > 0
    assert past[past > 0].sort_index().to_dict() == expected_counts.sort_index().to_dict()


def test_missing_inputs_name_the_stages_to_run_first(landing, tmp_path, capsys):
    lake_root = tmp_path / "lake"
    code = main(
        ["features", "--as-of", "2026-10-15", "--raw", str(landing), "--lakehouse", str(lake_root)]
    )
    assert code == 1
    error = capsys.readouterr().err
    assert error.startswith("c360 features failed: features need silver.transactions")
    assert "gold.identity_map" in error and "(written by the silver and identity stages)" in error
    assert "run `c360 run --stages bronze,silver,identity`" in error


def test_dates_after_the_landed_days_are_refused(landing, tmp_path):
    # LATEST + 1 day would count 2026-11-03 as a day without events, though it never landed
    with pytest.raises(RunFailure, match=r"\['2026-11-04'\] are after 2026-11-03"):
        build_feature_snapshots(_overrides(landing, tmp_path / "lake"), [date(2026, 11, 4)])
    with pytest.raises(RunFailure, match="no as-of date given"):
        build_feature_snapshots(_overrides(landing, tmp_path / "lake"), [])


def test_cli_refuses_a_malformed_date(capsys):
    assert main(["features", "--as-of", "2026-10-32"]) == 2
    assert "--as-of '2026-10-32'" in capsys.readouterr().err


def test_closing_summary_has_one_line_per_snapshot():
    from pipelines.cli import format_snapshots
    from pipelines.runner import AssetOutcome, RunSummary, StageOutcome

    figures = {"customers": 1290, "features": 2784, "non_constant_features": 2378}
    stage = StageOutcome(
        f"as of {PAST}",
        12.34,
        [
            AssetOutcome("gold/feature_catalog", {"rows": 2784}),
            AssetOutcome("gold/customer_features", figures),
        ],
        checks_passed=1,
    )
    assert format_snapshots(RunSummary([PAST], [stage])).splitlines() == [
        "c360 features: 1 snapshot (as of 2026-10-15 .. 2026-10-15)",
        "as_of_date    customers      varying features   seconds   checks",
        "2026-10-15        1,290        2,378 of 2,784      12.3   1 passed / 0 failed",
        "total 12.3 s",
    ]
