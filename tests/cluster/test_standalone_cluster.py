"""`c360 run` with the `cluster` profile on a real Spark standalone cluster (master + worker on
127.0.0.1, see spark_standalone.py) writes the same tables as the local-profile run of the same
landing zone: the suite's shared run (tests/conftest.py ``pipeline_run``: 300 people, two days,
with truth), so the local half costs this test nothing.

The cluster half is the real CLI in a subprocess, Splink on Spark for identity (DuckDB locally).
Keys, strings, integers, decimals, dates and timestamps must be equal; doubles agree to 1e-9
relative: executors add partial sums and averages in another order than the local threads
(floating-point addition is not associative), and Splink's EM runs on another engine.
"""

from __future__ import annotations

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
}
LINEAGE_RUN_SCOPED = ("_ingested_at", "_run_id")
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
        "C360_SPARK_DRIVER_MEMORY": "2g",  # tests keep the driver small
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
    for value in vars(tables).values():
        if isinstance(value, tables.Table) and value.qualified_name.replace(".", "/") == name:
            return tuple(value.keys)
    return ()


def _frame(path: Path, keys: tuple[str, ...], run_scoped: tuple[str, ...]) -> pd.DataFrame:
    """The live rows of a Delta table without run-scoped columns, in key order (then by every
    other non-double column, for tables whose keys are not unique)."""
    frame = DeltaTable(str(path)).to_pyarrow_table().to_pandas()
    frame = frame.drop(columns=[c for c in (*run_scoped, *LINEAGE_RUN_SCOPED) if c in frame])
    exact = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    order = [*[k for k in keys if k in frame], *[c for c in exact if c not in keys]]
    if keys and not frame.duplicated(list(keys)).any():
        order = list(keys)
    sort_text = pd.DataFrame({c: frame[c].map(repr) for c in order})
    position = sort_text.sort_values(order, kind="stable").index
    return frame.loc[position].reset_index(drop=True)


def _assert_same_table(name: str, local: pd.DataFrame, cluster: pd.DataFrame) -> None:
    assert list(cluster.columns) == list(local.columns), name
    assert len(cluster) == len(local), f"{name}: {len(cluster)} rows on the cluster, {len(local)}"
    for column in local.columns:
        expected, actual = local[column], cluster[column]
        if pd.api.types.is_float_dtype(expected):
            close = np.isclose(actual, expected, rtol=RELATIVE_TOLERANCE, atol=0, equal_nan=True)
            assert close.all(), f"{name}.{column}: {int((~close).sum())} doubles differ"
        else:
            same = [repr(a) == repr(b) for a, b in zip(actual, expected, strict=True)]
            assert all(same), f"{name}.{column}: {same.count(False)} values differ"


def test_cluster_profile_on_a_standalone_cluster_matches_the_local_run(
    cluster: StandaloneCluster, pipeline_run, tmp_path: Path
):
    env = _base_env() | {
        "C360_PROFILE": "cluster",
        "C360_SPARK_MASTER": cluster.master_url,
        # the profile's 64 partitions are sized for a real cluster; the test worker has 2 cores
        "C360_SPARK_SHUFFLE_PARTITIONS": "4",
    }
    lake = tmp_path / "lake-cluster"
    seconds = _c360_run(pipeline_run.raw, lake, pipeline_run.truth, env, tmp_path / "run.log")
    print(f"c360 run on the standalone cluster: {seconds:.0f} s")

    # It was the cluster's run: one finished application that held the worker's cores.
    apps = cluster.state()["completedapps"]
    assert [app["name"] for app in apps] == ["c360"], apps
    assert apps[0]["cores"] == WORKER_CORES, apps

    local_tables = _delta_tables(pipeline_run.lake_root)
    cluster_tables = _delta_tables(lake)
    assert set(cluster_tables) == set(local_tables)
    assert set(local_tables) >= CORE_TABLES
    for name in sorted(local_tables):
        keys = _keys(name)
        on_local = _frame(local_tables[name], keys, RUN_SCOPED.get(name, ()))
        on_cluster = _frame(cluster_tables[name], keys, RUN_SCOPED.get(name, ()))
        _assert_same_table(name, on_local, on_cluster)
