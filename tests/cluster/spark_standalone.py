"""A Spark standalone cluster on 127.0.0.1 from the pip pyspark: one master, one worker.

The worker's environment is the "node image" of docs/runbook.md section 6: the c360 checkout on
``PYTHONPATH`` (an installed wheel on a real node); the driver's ``spark.pyspark.python`` (this
interpreter, the virtualenv) tells executors which Python to start.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyspark
import pytest

REPO = Path(__file__).resolve().parents[2]
SPARK_HOME = Path(pyspark.__file__).parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
WORKER_CORES = 2
WORKER_MEMORY = "2g"  # one executor of Spark's default 1g fits
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class StandaloneCluster:
    master_url: str  # spark://127.0.0.1:<port>
    ui_url: str  # the master's web UI; /json/ describes workers and applications
    markers: tuple[str, ...]  # strings in the command line of every JVM this cluster started
    logs: tuple[Path, ...]

    def state(self) -> dict:
        with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=10) as response:
            return json.loads(response.read())

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {log}\n{log.read_text()[-chars:]}" for log in self.logs)


def cluster_jvms(markers: tuple[str, ...]) -> list[str]:
    """Command lines of live processes (master, worker, executors) carrying one of ``markers``."""
    listing = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if any(m in line for m in markers)]


def _daemon_env() -> dict[str, str]:
    return os.environ | {
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": "512m",  # master and worker JVMs themselves
        # no REST submission server (it would take the fixed port 6066)
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        # what a node image provides: c360 importable by the executors' Python workers
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [str(SPARK_CLASS), *args],
            env=_daemon_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group (the worker stops its executors), SIGKILL what stays."""
    for sig, seconds in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=seconds)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_until(ready, processes: list[subprocess.Popen], cluster: StandaloneCluster, what: str):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"{what}: a daemon exited ({process.returncode})\n{cluster.log_tail()}")
        try:
            if ready(cluster.state()):
                return
        except OSError:  # the UI is not listening yet
            pass
        time.sleep(0.5)
    pytest.fail(f"{what}: not ready after {START_SECONDS} s\n{cluster.log_tail()}")


@contextmanager
def standalone_cluster(root: Path) -> Iterator[StandaloneCluster]:
    """Master and worker on free ports, logs and work dir under ``root``; both process groups
    stopped on exit, also when the body fails, and no JVM of theirs may outlive it."""
    master_port, master_ui, worker_port, worker_ui = (free_port() for _ in range(4))
    cluster = StandaloneCluster(
        master_url=f"spark://127.0.0.1:{master_port}",
        ui_url=f"http://127.0.0.1:{master_ui}",
        # master: "--port <p>"; worker: the master URL; executors: "Worker@127.0.0.1:<p>"
        markers=(f"--port {master_port}", f"127.0.0.1:{master_port}", f"127.0.0.1:{worker_port}"),
        logs=(root / "master.log", root / "worker.log"),
    )
    processes: list[subprocess.Popen] = []
    try:
        processes.append(
            _start(
                ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                 "--port", str(master_port), "--webui-port", str(master_ui)],
                cluster.logs[0],
            )
        )  # fmt: skip
        _wait_until(lambda s: s["status"] == "ALIVE", processes, cluster, "master")
        processes.append(
            _start(
                ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                 "--port", str(worker_port), "--webui-port", str(worker_ui),
                 "--cores", str(WORKER_CORES), "--memory", WORKER_MEMORY,
                 "--work-dir", str(root / "work"), cluster.master_url],
                cluster.logs[1],
            )
        )  # fmt: skip
        _wait_until(lambda s: s["aliveworkers"] == 1, processes, cluster, "worker")
        yield cluster
    finally:
        for process in reversed(processes):
            _stop(process)
        leftovers = cluster_jvms(cluster.markers)
        assert not leftovers, f"JVMs left running after the cluster stopped: {leftovers}"
