"""No PII where it does not belong (issue 17, Done when): a `c360 run` (with an erasure) prints
none of the generated people's identifiers or names on stdout or stderr, and neither the
persisted Dagster event log (DAGSTER_HOME) nor the lakehouse's _reports/ holds one."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from c360.sample import GeneratorConfig, generate_landing_zone, load_noise_config

pytestmark = [pytest.mark.spark, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
IDENTIFYING = ("full_name", "phone", "email", "cccd", "cmnd")  # truth/persons.csv columns


def _identifiers(truth: Path) -> set[str]:
    with (truth / "persons.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {row[c] for row in rows for c in IDENTIFYING if row[c] and len(row[c]) >= 6}


def _found(data: bytes, needles: set[str]) -> list[str]:
    return sorted(n for n in needles if n.encode("utf-8") in data)


def test_a_run_leaks_no_identifier_to_output_event_log_or_reports(tmp_path):
    raw, truth, lake = tmp_path / "raw", tmp_path / "truth", tmp_path / "lake"
    config = GeneratorConfig(
        people=80, days=2, start=date(2026, 11, 1), seed=23, noise=load_noise_config(),
        history_days=30,
    )  # fmt: skip
    generate_landing_zone(config, raw, truth)
    needles = _identifiers(truth)
    assert len(needles) > 200
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    env = os.environ | {
        "PYTHONPATH": str(REPO),
        "DAGSTER_HOME": str(dagster_home),
        "C360_PRIVACY_SALT": "pii-scan-salt",
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    person = next(csv.DictReader((truth / "persons.csv").open(encoding="utf-8")))
    cli = [sys.executable, "-m", "pipelines.cli"]
    forget = subprocess.run(
        [*cli, "forget", "--raw", str(raw), "--phone", person["phone"]],
        cwd=REPO, env=env, capture_output=True, check=True,
    )  # fmt: skip
    run = subprocess.run(
        [*cli, "run", "--raw", str(raw), "--lakehouse", str(lake)],
        cwd=REPO, env=env, capture_output=True, timeout=1500,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    assert b"privacy: done" in run.stdout
    for name, data in (("forget stdout", forget.stdout), ("stdout", run.stdout),
                       ("stderr", run.stderr + forget.stderr)):  # fmt: skip
        assert _found(data, needles) == [], name
    stored = [p for p in dagster_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in stored)  # the persisted event log (SQLite)
    reports = [p for p in (lake / "_reports").rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in reports)
    leaks = {
        str(p.relative_to(tmp_path)): _found(p.read_bytes(), needles) for p in stored + reports
    }
    assert {path: found for path, found in leaks.items() if found} == {}
