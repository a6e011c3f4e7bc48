"""Crash and overlap safety: the lakehouse lock, and identity commits repaired after a SIGKILL.

Lock tests are pure (lease files in tmp_path, a thread or a dead process as the other holder).
The end-to-end cases start real ``c360 run`` processes on a copy of the shared pipeline run's
lakehouse (tests/conftest.py) with its identity tables dropped, so the identity stage issues
every customer ID again (and its saved Splink model is reused: no retraining).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from assets.resources import LakehouseResource, SparkResource
from c360.lakehouse import Lakehouse
from c360.lock import (
    LEASE_FILE,
    LakehouseLock,
    LakehouseLockedError,
    Lease,
    hold_lakehouse,
    lock_dir,
    read_lease,
)
from c360.tables import GOLD_GOLDEN_RECORDS, GOLD_IDENTITY_HISTORY, GOLD_IDENTITY_MAP
from pipelines.runner import run_pipeline

REPO = Path(__file__).resolve().parents[2]


def _write_lease(root: Path, **changes) -> Lease:
    now = datetime.now(UTC)
    lease = Lease(
        owner="c360 run (user test)", host=os.uname().nodename, pid=os.getpid(), run_id="other",
        acquired_at=now.isoformat(), expires_at=(now + timedelta(minutes=5)).isoformat(),
        token="t-other",
    )  # fmt: skip
    lease = Lease(**{**lease.__dict__, **changes})
    lock_dir(root).mkdir(parents=True, exist_ok=True)
    (lock_dir(root) / LEASE_FILE).write_text(json.dumps(lease.__dict__))
    return lease


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# ---- the lease ---------------------------------------------------------------------------


def test_a_second_holder_fails_at_once_naming_the_holder(tmp_path):
    with LakehouseLock(tmp_path, "run-a", "c360 run"):
        lease = read_lease(tmp_path)
        assert (lease.run_id, lease.pid, lease.host) == ("run-a", os.getpid(), os.uname().nodename)
        assert lease.owner.startswith("c360 run (user ")
        with pytest.raises(LakehouseLockedError) as caught:
            LakehouseLock(tmp_path, "run-b", "c360 features").acquire()
    message = str(caught.value)
    assert "locked by run run-a (c360 run" in message and f"pid {os.getpid()}" in message
    assert "lock.timeout_seconds" in message
    assert read_lease(tmp_path) is None  # released on exit


def test_a_second_holder_waits_for_the_first_to_release(tmp_path):
    first = LakehouseLock(tmp_path, "run-a", "c360 run")
    first.acquire()
    threading.Timer(1.0, first.release).start()
    started = time.monotonic()
    with LakehouseLock(tmp_path, "run-b", "c360 run", timeout_seconds=30, poll_seconds=0.1):
        assert read_lease(tmp_path).run_id == "run-b"
    assert 0.9 < time.monotonic() - started < 10


def test_waiting_gives_up_after_the_timeout(tmp_path):
    _write_lease(tmp_path)
    started = time.monotonic()
    with pytest.raises(LakehouseLockedError, match=r"waited 0.5 s"):
        LakehouseLock(
            tmp_path, "run-b", "c360 run", timeout_seconds=0.5, poll_seconds=0.1
        ).acquire()
    assert time.monotonic() - started >= 0.5


def test_the_lease_of_a_dead_process_is_taken_over_with_a_warning(tmp_path, caplog):
    _write_lease(tmp_path, pid=_dead_pid(), run_id="killed")
    with (
        caplog.at_level(logging.WARNING, logger="c360.lock"),
        LakehouseLock(tmp_path, "run-b", "c360 run"),
    ):
        assert read_lease(tmp_path).run_id == "run-b"
    assert "taking over the stale lakehouse lock of run killed" in caplog.text
    assert "its process is gone" in caplog.text


def test_an_expired_lease_is_taken_over_even_from_another_host(tmp_path, caplog):
    past = datetime.now(UTC) - timedelta(seconds=1)
    _write_lease(tmp_path, host="elsewhere", expires_at=past.isoformat())
    with (
        caplog.at_level(logging.WARNING, logger="c360.lock"),
        LakehouseLock(tmp_path, "run-b", "c360 run"),
    ):
        pass
    assert "its lease expired" in caplog.text


def test_a_live_lease_of_another_host_is_respected(tmp_path):
    _write_lease(tmp_path, host="elsewhere", pid=_dead_pid())  # pid means nothing there
    with pytest.raises(LakehouseLockedError, match="on elsewhere"):
        LakehouseLock(tmp_path, "run-b", "c360 run").acquire()


def test_the_holder_renews_its_lease_while_it_runs(tmp_path):
    with LakehouseLock(tmp_path, "run-a", "c360 run", lease_seconds=0.6) as lock:
        first_expiry = datetime.fromisoformat(read_lease(tmp_path).expires_at)
        time.sleep(1.0)  # renewed every 0.2 s
        lease = read_lease(tmp_path)
        assert datetime.fromisoformat(lease.expires_at) > first_expiry
        assert lease.token == lock.token and lease.acquired_at == lock.lease.acquired_at


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    with hold_lakehouse(tmp_path, "outer", "c360 run") as outer:
        with hold_lakehouse(tmp_path, "inner", "dagster run") as inner:
            assert inner == outer
        assert read_lease(tmp_path).run_id == "outer"  # the inner exit kept it
    assert read_lease(tmp_path) is None


def test_releasing_never_removes_a_lease_taken_over_by_another_run(tmp_path):
    lock = LakehouseLock(tmp_path, "run-a", "c360 run")
    lock.acquire()
    _write_lease(tmp_path, run_id="run-b", token="t-b")  # e.g. run-a stalled past its expiry
    assert lock.renew() is False
    lock.release()
    assert read_lease(tmp_path).run_id == "run-b"


# ---- end to end: real processes on a real lakehouse -------------------------------------

IDENTITY_TABLES = (GOLD_IDENTITY_MAP, GOLD_IDENTITY_HISTORY, GOLD_GOLDEN_RECORDS)
# Runs only the identity stage and dies by SIGKILL the moment it would append the history,
# i.e. right after gold/identity_map was committed.
KILLED_BETWEEN_COMMITS = textwrap.dedent(
    """
    import os, signal, sys
    from c360.lakehouse import Lakehouse
    from c360.tables import GOLD_IDENTITY_HISTORY
    from pipelines.runner import run_pipeline

    append = Lakehouse.append

    def killed_before_history(self, data, table):
        if table == GOLD_IDENTITY_HISTORY:
            os.kill(os.getpid(), signal.SIGKILL)
        return append(self, data, table)

    Lakehouse.append = killed_before_history
    run_pipeline({"raw_root": sys.argv[1], "lakehouse_root": sys.argv[2]}, stages=["identity"])
    """
)


def _env() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(REPO), "SPARK_LOCAL_IP": "127.0.0.1"}


def _fresh_identity_lake(pipeline_run, target: Path, spark, keep_model: bool) -> Path:
    """The shared run's lakehouse with bronze and silver only: the next identity run issues
    every customer ID again."""
    import shutil

    root = pipeline_run.copy_lake(target)
    lake = Lakehouse(root, spark)
    for table in IDENTITY_TABLES:
        lake.drop(table)
    if not keep_model:
        shutil.rmtree(lake.models_dir())
    return root


def _map_view(lake: Lakehouse) -> list[tuple]:
    frame = lake.read_arrow(GOLD_IDENTITY_MAP).to_pandas()
    return sorted(
        frame[["source_system", "source_record_id", "customer_id"]].itertuples(index=False)
    )


def _history_view(lake: Lakehouse) -> list[tuple]:
    columns = ["event", "customer_id", "related_customer_id", "records_moved", "customer_records"]
    frame = lake.read_arrow(GOLD_IDENTITY_HISTORY).to_pandas()[columns]
    return sorted(frame.astype(str).itertuples(index=False))


def _golden_view(lake: Lakehouse) -> list[str]:
    return sorted(map(repr, lake.read_arrow(GOLD_GOLDEN_RECORDS).to_pylist()))


@pytest.mark.spark
@pytest.mark.slow
def test_a_run_killed_between_the_identity_commits_is_repaired_by_the_next(
    pipeline_run, spark, tmp_path, caplog
):
    crashed = _fresh_identity_lake(pipeline_run, tmp_path / "crashed", spark, keep_model=True)
    clean = _fresh_identity_lake(pipeline_run, tmp_path / "clean", spark, keep_model=True)
    raw = str(pipeline_run.raw)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_COMMITS, raw, str(crashed)],
        env=_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    lake = Lakehouse(crashed, spark)
    assert lake.exists(GOLD_IDENTITY_MAP) and not lake.exists(GOLD_IDENTITY_HISTORY)
    assert read_lease(crashed) is not None  # the killed run's lease is left behind

    with caplog.at_level(logging.WARNING):
        rerun = run_pipeline({"raw_root": raw, "lakehouse_root": str(crashed)}, stages=["identity"])
    run_pipeline({"raw_root": raw, "lakehouse_root": str(clean)}, stages=["identity"])

    clean_lake = Lakehouse(clean, spark)
    assert _map_view(lake) == _map_view(clean_lake)
    assert _history_view(lake) == _history_view(clean_lake)
    assert len(_history_view(lake)) > 0  # the killed run's events, recovered
    assert _golden_view(lake) == _golden_view(clean_lake)
    repaired = {a.asset: a.metadata for a in rerun.stages[0].assets}["gold/identity_history"]
    assert len(repaired["runs_repaired"]) == 1
    history = lake.read_arrow(GOLD_IDENTITY_HISTORY).to_pandas()
    assert set(history["run_id"]) == set(repaired["runs_repaired"])  # under the killed run's id
    assert "taking over the stale lakehouse lock" in caplog.text
    assert "repaired gold/identity_history" in caplog.text
    assert read_lease(crashed) is None
    assert not any(lake.pending_dir("identity").iterdir())


def _c360_run(raw: Path, lake: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "pipelines.cli", "run", "--raw", str(raw)]
    return subprocess.Popen(
        [*command, "--lakehouse", str(lake), "--stages", "identity", *extra],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for_lease(root: Path, process: subprocess.Popen, seconds: float = 300) -> Lease:
    deadline = time.monotonic() + seconds
    while (lease := read_lease(root)) is None:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the first run never took the lock"
        time.sleep(0.2)
    return lease


@pytest.mark.spark
@pytest.mark.slow
def test_two_concurrent_runs_never_both_write(pipeline_run, spark, tmp_path):
    root = _fresh_identity_lake(pipeline_run, tmp_path / "lake", spark, keep_model=False)
    first = _c360_run(pipeline_run.raw, root)
    lease = _wait_for_lease(root, first)
    refused = _c360_run(pipeline_run.raw, root)
    waiting = _c360_run(pipeline_run.raw, root, "--wait", "900")
    _, refused_err = refused.communicate(timeout=600)
    first_out, first_err = first.communicate(timeout=900)
    waiting_out, waiting_err = waiting.communicate(timeout=900)

    assert first.returncode == 0, first_err[-3000:]
    assert refused.returncode == 1
    assert f"is locked by run {lease.run_id} (c360 run" in refused_err
    assert f"pid {first.pid}" in refused_err and "Traceback" not in refused_err
    assert waiting.returncode == 0, waiting_err[-3000:]  # ran after the first, on its tables
    assert "customers_new=0" in waiting_out and "customers_new=0" not in first_out

    lake = Lakehouse(root, spark)
    history = lake.read_arrow(GOLD_IDENTITY_HISTORY).to_pandas()
    new = history[history["event"] == "new"]
    assert len(new) > 0 and new["customer_id"].is_unique
    assert history["run_id"].nunique() == 1
    models = list((lake.models_dir() / "splink").glob("*.c360.json"))
    assert len(models) == 1  # trained once; the waiting run reused it
    assert read_lease(root) is None


# ---- the Dagster path (sensor-, schedule- and UI-launched runs) --------------------------


def _lakehouse_resource(root: Path, timeout: float = 0) -> LakehouseResource:
    spark = SparkResource(
        master="local[1]", app_name="unused", driver_memory="1g", shuffle_partitions=1,
        log_level="ERROR", extra_conf={},
    )  # fmt: skip  # never started: the asset below does not ask for a session
    return LakehouseResource(
        root=str(root), writer="delta-rs", spark=spark,
        lock_timeout_seconds=timeout, lock_poll_seconds=0.1,
    )  # fmt: skip


def _lease_reader(seen: list) -> dg.AssetsDefinition:
    @dg.asset
    def reads_the_lease(context, lakehouse: LakehouseResource) -> None:
        seen.append((read_lease(Path(lakehouse.root)), context.run_id))

    return reads_the_lease


def test_a_dagster_run_holds_the_lock_from_setup_to_teardown(tmp_path):
    seen: list = []
    result = dg.materialize(
        [_lease_reader(seen)], resources={"lakehouse": _lakehouse_resource(tmp_path)}
    )
    assert result.success
    lease, run_id = seen[0]
    assert lease.run_id == run_id and lease.owner.startswith("dagster run of ")
    assert read_lease(tmp_path) is None  # released at teardown


def test_a_dagster_run_on_a_locked_lakehouse_fails_naming_the_holder(tmp_path):
    seen: list = []
    with LakehouseLock(tmp_path, "c360-run-1", "c360 run"):
        result = dg.materialize(
            [_lease_reader(seen)],
            resources={"lakehouse": _lakehouse_resource(tmp_path, timeout=0.3)},
            raise_on_error=False,
        )
    assert not result.success and seen == []
    failure = next(e for e in result.all_events if e.is_failure)
    assert "locked by run c360-run-1 (c360 run" in str(failure.event_specific_data)


# ---- the repair, on tiny tables (delta-rs only, no JVM) ----------------------------------


def _identity_run(previous, records: list[str], run_id: str, at: datetime):
    """Map and history of one run where every record is its own customer."""
    from types import SimpleNamespace

    import pandas as pd
    import pyarrow as pa

    from c360.tables import GOLD_IDENTITY_HISTORY_SCHEMA, GOLD_IDENTITY_MAP_SCHEMA
    from resolution.stable_ids import assign_customer_ids

    clusters = pd.DataFrame(
        {"source_system": "crm", "source_record_id": records, "cluster_id": records,
         "match_probability": 1.0}
    )  # fmt: skip
    ids = assign_customer_ids(previous, clusters, run_id, at)
    return SimpleNamespace(
        identity_map=pa.Table.from_pandas(
            ids.identity_map, schema=GOLD_IDENTITY_MAP_SCHEMA, preserve_index=False
        ),
        history=pa.Table.from_pandas(
            ids.history, schema=GOLD_IDENTITY_HISTORY_SCHEMA, preserve_index=False
        ),
    )


def _kill_before(lake: Lakehouse, table, monkeypatch) -> type[BaseException]:
    class Killed(BaseException):
        pass

    def dies(self, data, target, *args, **kwargs):
        if target == table:
            raise Killed  # stands for SIGKILL: nothing after this point runs
        return write(self, data, target, *args, **kwargs)

    write = Lakehouse.overwrite if table == GOLD_IDENTITY_MAP else Lakehouse.append
    name = "overwrite" if table == GOLD_IDENTITY_MAP else "append"
    monkeypatch.setattr(Lakehouse, name, dies)
    return Killed


def test_repair_appends_a_missing_history_once_and_drops_a_run_that_never_committed(
    tmp_path, monkeypatch
):
    from resolution.run import commit_identity, repair_identity

    lake = Lakehouse(tmp_path, spark=None, writer="delta-rs")
    at1 = datetime(2026, 11, 2, 1, tzinfo=UTC)
    first = _identity_run(None, ["1", "2"], "run-1", at1)
    with monkeypatch.context() as patch:
        killed = _kill_before(lake, GOLD_IDENTITY_HISTORY, patch)
        with pytest.raises(killed):
            commit_identity(lake, first, "run-1", at1)
    assert lake.exists(GOLD_IDENTITY_MAP) and not lake.exists(GOLD_IDENTITY_HISTORY)

    assert repair_identity(lake) == ["run-1"]
    assert repair_identity(lake) == []  # idempotent
    history = lake.read_arrow(GOLD_IDENTITY_HISTORY).to_pandas()
    assert sorted(history["customer_id"]) == ["C0000000001", "C0000000002"]
    assert set(history["run_id"]) == {"run-1"}

    # a second run killed before its map commit had no effect: its staged rows are dropped
    previous = lake.read_arrow(GOLD_IDENTITY_MAP).to_pandas()
    at2 = datetime(2026, 11, 3, 1, tzinfo=UTC)
    second = _identity_run(previous, ["1", "2", "3"], "run-2", at2)
    with monkeypatch.context() as patch:
        killed = _kill_before(lake, GOLD_IDENTITY_MAP, patch)
        with pytest.raises(killed):
            commit_identity(lake, second, "run-2", at2)
    assert repair_identity(lake) == []
    assert lake.count(GOLD_IDENTITY_HISTORY) == 2 and lake.count(GOLD_IDENTITY_MAP) == 2
    assert not any(lake.pending_dir("identity").iterdir())

    # a clean commit leaves nothing staged and nothing to repair
    commit_identity(lake, second, "run-2", at2)
    assert repair_identity(lake) == [] and lake.count(GOLD_IDENTITY_HISTORY) == 3
