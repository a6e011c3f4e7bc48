"""`c360 run` with the `cluster` profile on a real Spark standalone cluster (master + worker on
127.0.0.1, see spark_standalone.py) writes the same tables as the local-profile run of the same
landing zone: the suite's shared run (tests/conftest.py ``pipeline_run``: 300 people, two days,
with truth), so the local half costs this test nothing.

The cluster half is the real CLI in a subprocess, Splink on Spark for identity (DuckDB locally).
Keys, strings, integers, decimals, dates and timestamps must be equal; doubles agree to 1e-9
relative: executors add partial sums and averages in another order than the local threads
(floating-point addition is not associative). One exception: ``match_probability`` of
gold/identity_map. Each run trains its own Splink model, and Splink estimates u-probabilities
from a random sample of pairs that DuckDB and Spark draw differently for the same seed (u of
one level: 0.083 on DuckDB, 0.093 on Spark), so probabilities agree to 0.05 only (largest gap
seen: 0.011, 0.983 locally vs 0.972 on Spark), while every record gets the same customer_id.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable
from spark_standalone import REPO, WORKER_CORES, StandaloneCluster

import c360.tables as tables

pytestmark = [pytest.mark.slow, pytest.mark.spark]

RELATIVE_TOLERANCE = 1e-9
RUN_TIMEOUT_SECONDS = 1500
# Columns that differ between any two runs by design: when and by which run a row was written.
RUN_SCOPED = {
    "gold/identity_map": ("first_seen", "last_seen"),
    "gold/identity_history": ("run_id", "at"),
    "quarantine/rejects": ("detected_at",),
    "gold/identity_links": ("run_id",),
}
LINEAGE_RUN_SCOPED = ("_ingested_at", "_run_id")
# Doubles compared to an absolute tolerance instead (module docstring: a model per engine).
ENGINE_TRAINED = {("gold/identity_map", "match_probability"): 0.05}
# gold/identity_links carries the model's weights (match_weight, the per-comparison Bayes factors)
# and refused pairs ranked by them: engine-trained throughout. What must agree is which pairs hold
# each customer together and at which comparison levels (levels come from the records alone).
LINK_STRUCTURE = ("customer_id", "link", "record_key_l", "record_key_r", "customer_id_l",
                  "customer_id_r")  # fmt: skip


def _link_structure(frame: pd.DataFrame) -> pd.DataFrame:
    """Accepted links of gold/identity_links with their comparison levels, weights left out."""
    accepted = frame[frame["link"] == "accepted"].copy()
    accepted["levels"] = accepted["comparisons"].map(
        lambda comparisons: repr([(c["name"], c["level"], c["gamma"]) for c in comparisons])
    )
    columns = [*LINK_STRUCTURE, "levels"]
    return accepted[columns].sort_values(columns, kind="stable").reset_index(drop=True)


CORE_TABLES = {
    "bronze/crm_contacts", "bronze/transactions", "silver/person_records",
    "silver/transactions", "gold/identity_map", "gold/identity_history", "gold/golden_records",
    "gold/customer_features", "gold/feature_catalog",
}  # fmt: skip


def _c360_run(raw: Path, lake: Path, truth: Path, env: dict[str, str], log: Path) -> float:
    """Run `c360 run` in a subprocess; its wall time in seconds. Fails with the output's tail."""
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run",
         "--raw", str(raw), "--lakehouse", str(lake), "--truth", str(truth)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS,
    )  # fmt: skip
    log.write_text(completed.stdout + completed.stderr)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    return time.monotonic() - started


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("C360_")}
    return env | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "C360_SPARK_DRIVER_MEMORY": "4g",  # 2g ran out of heap in serve-Arrow after the merge
    }


def _delta_tables(root: Path) -> dict[str, Path]:
    """``layer/name`` of every Delta table under a lakehouse root."""
    return {
        log.parent.relative_to(root).as_posix(): log.parent
        for log in root.rglob("_delta_log")
        if not any(part.startswith("_") for part in log.parent.relative_to(root).parts)
    }


def _keys(name: str) -> tuple[str, ...]:
    """The table's declared keys (c360/tables.py), empty for a table it does not declare."""
    declared: list[tables.Table] = []
    for value in vars(tables).values():
        declared += value.values() if isinstance(value, dict) else [value]
    for table in declared:
        if isinstance(table, tables.Table) and table.qualified_name.replace(".", "/") == name:
            return tuple(table.keys)
    return ()


def _frame(path: Path, keys: tuple[str, ...], run_scoped: tuple[str, ...]) -> pd.DataFrame:
    """The live rows of a Delta table without run-scoped columns, in key order (then by every
    other non-double column, for tables whose keys are not unique)."""
    frame = DeltaTable(str(path)).to_pyarrow_table().to_pandas()
    frame = frame.drop(columns=[c for c in (*run_scoped, *LINEAGE_RUN_SCOPED) if c in frame])
    exact = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    order = [*[k for k in keys if k in frame], *[c for c in exact if c not in keys]]
    unique = [k for k in keys if k in frame]
    if unique and not frame.duplicated(unique).any():
        order = unique
    sort_text = pd.DataFrame({c: frame[c].map(repr) for c in order})
    position = sort_text.sort_values(order, kind="stable").index
    return frame.loc[position].reset_index(drop=True)


def _assert_same_table(name: str, local: pd.DataFrame, cluster: pd.DataFrame) -> None:
    assert list(cluster.columns) == list(local.columns), name
    assert len(cluster) == len(local), f"{name}: {len(cluster)} rows on the cluster, {len(local)}"
    for column in local.columns:
        expected, actual = local[column], cluster[column]
        if pd.api.types.is_float_dtype(expected):
            rtol, atol = RELATIVE_TOLERANCE, ENGINE_TRAINED.get((name, column), 0.0)
            close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
            assert close.all(), f"{name}.{column}: {int((~close).sum())} doubles differ"
        else:
            same = [repr(a) == repr(b) for a, b in zip(actual, expected, strict=True)]
            assert all(same), f"{name}.{column}: {same.count(False)} values differ"


# Its own timeout: it may be the test that sets up the suite's shared run (minutes) first.
@pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 900)
def test_cluster_profile_on_a_standalone_cluster_matches_the_local_run(
    cluster: StandaloneCluster, pipeline_run, tmp_path: Path
):
    env = _base_env() | {
        "C360_PROFILE": "cluster",
        "C360_SPARK_MASTER": cluster.master_url,
        # the profile's 64 partitions are sized for a real cluster; the test worker has 2 cores
        "C360_SPARK_SHUFFLE_PARTITIONS": str(WORKER_CORES),
    }
    lake = tmp_path / "lake-cluster"
    seconds = _c360_run(pipeline_run.raw, lake, pipeline_run.truth, env, tmp_path / "run.log")
    print(f"c360 run on the standalone cluster: {seconds:.0f} s")

    # It was the cluster's run: one finished application that held the worker's cores.
    apps = [app for app in cluster.state()["completedapps"] if app["name"] == "c360"]
    assert [app["cores"] for app in apps] == [WORKER_CORES], apps

    local_tables = _delta_tables(pipeline_run.lake_root)
    cluster_tables = _delta_tables(lake)
    assert set(cluster_tables) == set(local_tables)
    assert set(local_tables) >= CORE_TABLES
    for name in sorted(local_tables):
        keys = _keys(name)
        on_local = _frame(local_tables[name], keys, RUN_SCOPED.get(name, ()))
        on_cluster = _frame(cluster_tables[name], keys, RUN_SCOPED.get(name, ()))
        if name == "gold/identity_links":
            on_local, on_cluster = _link_structure(on_local), _link_structure(on_cluster)
            assert len(on_local) > 0, "no accepted links to compare"
        _assert_same_table(name, on_local, on_cluster)

    # Identity trained Splink on the cluster's Spark (the similarity jar reached the executors).
    models = lake / "_models" / "splink"
    version = (models / "latest").read_text().strip()
    assert json.loads((models / f"{version}.c360.json").read_text())["trained_on"] == "spark"


PROBE = """
import sys
from c360.config import SparkSettings
from c360.spark import build_spark_session, check_executor_python

spark = build_spark_session(SparkSettings(master=sys.argv[1], app_name="c360-probe",
                                          driver_memory="1g", shuffle_partitions=2))
print("|".join(check_executor_python(spark)))
spark.stop()
"""


def test_executors_run_the_drivers_interpreter_and_this_checkout(cluster: StandaloneCluster):
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, cluster.master_url],
        cwd=REPO, env=_base_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    executable, _, package = completed.stdout.strip().splitlines()[-1].split("|")
    assert executable == sys.executable  # spark.pyspark.python: the driver's virtualenv
    assert Path(package) == REPO / "c360"  # the worker's PYTHONPATH: this checkout, not another
