"""`c360 sql`: beeline (from the pip pyspark) counts gold.golden_records through the Thrift server,
before and after a re-run changes the table (and vacuum removes the old files)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyspark
import pytest

from c360.lakehouse import Lakehouse
from c360.sql_endpoint import control
from c360.sql_endpoint.settings import SqlEndpointSettings
from c360.sql_endpoint.views import snapshot_table
from c360.tables import GOLD_GOLDEN_RECORDS, GOLD_GOLDEN_RECORDS_SCHEMA

BEELINE = Path(pyspark.__file__).parent / "bin" / "beeline"


def _golden(count: int) -> pa.Table:
    data = {f.name: pa.nulls(count, f.type) for f in GOLD_GOLDEN_RECORDS_SCHEMA}
    data["customer_id"] = pa.array([f"C{i}" for i in range(count)], pa.string())
    return pa.table(data, schema=GOLD_GOLDEN_RECORDS_SCHEMA)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _beeline_count(port: int) -> int:
    completed = subprocess.run(
        [str(BEELINE), "-u", f"jdbc:hive2://127.0.0.1:{port}/gold", "--silent=true",
         "--outputformat=csv2", "--showHeader=false",
         "-e", "SELECT count(*) FROM gold.golden_records"],
        capture_output=True, text=True, timeout=180,
        env=os.environ | {"HADOOP_CLIENT_OPTS": "-Xmx256m"},
    )  # fmt: skip
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]
    # csv2 prints the bare count, possibly after the prompt ("...:10000/gold> 3")
    numbers = re.findall(r"(?:^|> )(\d+)[ \t]*$", completed.stdout, flags=re.MULTILINE)
    assert numbers, completed.stdout[-2000:]
    return int(numbers[-1])


def test_snapshot_folder_holds_only_the_live_files(tmp_path):
    lake = Lakehouse(tmp_path / "lake", spark=None, writer="delta-rs")
    lake.overwrite(_golden(3), GOLD_GOLDEN_RECORDS)
    lake.overwrite(_golden(5), GOLD_GOLDEN_RECORDS)  # the 3-row file stays on disk
    snapshot = snapshot_table(lake.root, "gold", "golden_records")
    assert snapshot.version == 1
    assert pads.dataset(snapshot.folder).count_rows() == 5
    lake.vacuum(GOLD_GOLDEN_RECORDS, retention_hours=0)
    assert pads.dataset(snapshot.folder).count_rows() == 5  # hard links outlive vacuum


@pytest.mark.slow
def test_beeline_counts_golden_records_before_and_after_a_rerun(tmp_path):
    lake = Lakehouse(tmp_path / "lake", spark=None, writer="delta-rs")
    lake.overwrite(_golden(3), GOLD_GOLDEN_RECORDS)
    settings = SqlEndpointSettings(
        port=_free_port(), driver_memory="512m", poll_seconds=1, start_timeout_seconds=240
    )
    try:
        info = control.start(lake.root, settings)
        assert control.running(lake.root)["pid"] == info["pid"]
        assert _beeline_count(settings.port) == lake.count(GOLD_GOLDEN_RECORDS) == 3
        # a re-run replaces the table; vacuum deletes the files the old view read
        lake.overwrite(_golden(7), GOLD_GOLDEN_RECORDS)
        lake.vacuum(GOLD_GOLDEN_RECORDS, retention_hours=0)
        deadline = time.monotonic() + 120
        count = _beeline_count(settings.port)
        while count != 7 and time.monotonic() < deadline:
            time.sleep(2)
            count = _beeline_count(settings.port)
        assert count == lake.count(GOLD_GOLDEN_RECORDS) == 7
    finally:
        stopped = control.stop(lake.root)
    assert stopped and control.running(lake.root) is None
    assert not control._port_open(settings.port)
