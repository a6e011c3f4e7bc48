"""The code location loads, every job resolves, and the Dagster UI serves the asset graph."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.definitions import build_definitions
from pipelines.runner import STAGES

REPO = Path(__file__).resolve().parent.parent
DAGSTER = Path(sys.executable).parent / "dagster"


def test_definitions_load_and_every_job_resolves(tmp_path):
    defs = build_definitions({"lakehouse_root": str(tmp_path / "lake")})
    job_names = {job.name for job in defs.resolve_all_job_defs()}
    # every stage `c360 run` executes is a job of the code location
    assert {stage.job_name for stage in STAGES} <= job_names
    for name in job_names:
        assert defs.resolve_job_def(name).name == name
    asset_keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "bronze/crm_contacts" in asset_keys
    assert {"spark", "lakehouse", "landing_zone", "matcher"} <= set(defs.resources)


def test_dagster_definitions_validate_passes():
    completed = subprocess.run(
        [str(DAGSTER), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "All code locations passed validation" in completed.stderr + completed.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reset_signals() -> None:
    # `dagster dev` inherits ignored SIGINT/SIGTERM from a backgrounded parent; restore them
    # so the server can be stopped (see DEPENDENCY_NOTES.md).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_dagster_dev_serves_the_asset_graph(tmp_path):
    port = _free_port()
    env = os.environ | {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "C360_LAKEHOUSE": str(tmp_path / "lake"),
        "C360_RAW": str(tmp_path / "raw"),
    }
    (tmp_path / "dagster_home").mkdir()
    log = (tmp_path / "dagster-dev.log").open("w")
    server = subprocess.Popen(
        [str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_reset_signals,
        start_new_session=True,
    )
    query = (
        "{ assetNodes { assetKey { path } groupName dependencyKeys { path } "
        "assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }"
    )
    try:
        deadline = time.monotonic() + 180
        answer = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answer = _graphql(port, query)
                if answer.get("data", {}).get("assetNodes"):
                    break
            except (OSError, json.JSONDecodeError):
                pass
            time.sleep(1)
        assert answer is not None, (tmp_path / "dagster-dev.log").read_text()[-3000:]
        nodes = {"/".join(n["assetKey"]["path"]): n for n in answer["data"]["assetNodes"]}
        assert nodes["bronze/crm_contacts"]["groupName"] == "bronze"
        assert {f"bronze/{e}" for e in ("erp_customers", "transactions", "loyalty_points")} <= set(
            nodes
        )
        # silver tables carry their Great Expectations suite as a blocking asset check
        checks = nodes["silver/transactions"]["assetChecksOrError"]["checks"]
        assert checks == [{"name": "great_expectations", "blocking": True}]
        assert nodes["gold/golden_records"]["groupName"] == "identity"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
    assert server.poll() is not None
