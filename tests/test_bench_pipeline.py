"""The pipeline benchmark's own logic (benchmarks/bench_pipeline.py): sizes that may not fit
run with a warning, a run limited to some stages keeps its exponents honest, day two's days."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from datetime import date
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_pipeline.py"
_SPEC = importlib.util.spec_from_file_location("bench_pipeline", _PATH)
bench = importlib.util.module_from_spec(_SPEC)
sys.modules["bench_pipeline"] = bench  # its dataclasses look their module up
_SPEC.loader.exec_module(bench)


def _run(people: int, seconds: dict[str, float]) -> dict:
    stages = {stage: {"seconds": value} for stage, value in seconds.items()}
    return {
        "people": people,
        "status": "ok",
        "stages": stages,
        "total_seconds": sum(seconds.values()),
        "pipeline_seconds": sum(v for k, v in seconds.items() if k != "generate"),
    }


def test_a_size_the_estimate_says_does_not_fit_runs_with_a_warning_unless_asked_to_skip(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(bench, "why_it_does_not_fit", lambda *a: "does not fit this machine")
    stages = {"bronze": {"peak_rss_mb": 900}, "silver": {"peak_rss_mb": 1200}}
    monkeypatch.setattr(bench, "run_size", lambda *a: {"status": "ok", "stages": stages})
    results = {"machine": {"spark_driver_memory": "8g"}, "runs": {}}
    args = argparse.Namespace(days=2, seed=7, keep=True, skip_unfit=False)
    ran = bench.benchmark_size(1_000_000, args, tmp_path, results)
    assert ran["status"] == "ok"
    assert ran["estimate"]["warning"] == "does not fit this machine"
    assert ran["estimate"]["measured_peak_mb"] == 1200  # the estimate beside what the run took
    skipped = bench.benchmark_size(
        1_000_000, argparse.Namespace(**{**vars(args), "skip_unfit": True}), tmp_path, results
    )
    assert skipped["status"] == "skipped"


def test_exponents_cover_the_stages_both_sizes_ran_and_totals_only_over_the_same_stages():
    full = _run(
        100_000, {"generate": 10, "bronze": 15, "silver": 50, "identity": 100, "features": 25}
    )
    partial = _run(1_000_000, {"generate": 100, "bronze": 150, "silver": 500, "identity": 1000})
    [step] = bench.growth_exponents({"100000": full, "1000000": partial})
    assert step["seconds"] == {
        "generate": 1.0, "bronze": 1.0, "silver": 1.0, "identity": 1.0
    }  # fmt: skip
    again = _run(1_000_000, {**{k: v["seconds"] * 10 for k, v in full["stages"].items()}})
    [step] = bench.growth_exponents({"100000": full, "1000000": again})
    assert step["seconds"]["features"] == 1.0 and step["seconds"]["pipeline"] == 1.0


def test_stages_parse_and_the_first_run_lands_the_first_days_only():
    assert bench.parse_stages("bronze, silver,identity") == ["bronze", "silver", "identity"]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown stages"):
        bench.parse_stages("bronze,gold")
    assert bench.landing_days(2) == [date(2025, 10, 1), date(2025, 10, 2)]


def test_resume_keeps_finished_stages_and_runs_the_rest(tmp_path):
    work = tmp_path / "people_1000"
    (work / "raw").mkdir(parents=True)
    result_file = work.with_suffix(".json")
    finished = {"generate": {"seconds": 1.0}, "bronze": {"seconds": 2.0}}
    result_file.write_text(
        bench.json.dumps({"status": "failed", "reason": "killed", "stages": finished})
    )
    result, remaining = bench.resumed_result(result_file, work, None)
    assert result["stages"] == finished and result["status"] == "running"
    assert "reason" not in result
    assert remaining[0] == "privacy" and "bronze" not in remaining and "identity" in remaining
    _, only = bench.resumed_result(result_file, work, ["bronze", "identity"])
    assert only == ["identity"]
    with pytest.raises(SystemExit, match="--resume: no earlier run"):
        bench.resumed_result(tmp_path / "missing.json", work, None)


def test_a_resumed_run_keeps_the_figures_of_stages_it_did_not_run():
    earlier = {
        "rows": {"records": 1200, "customers": None, "transactions": 900},
        "match_f1": None,
    }
    resumed = {
        "rows": {"records": None, "customers": 1000, "transactions": None},
        "match_f1": 0.99,
        "match_recall": None,
    }
    merged = bench.merged_figures(earlier, resumed)
    assert merged["rows"] == {"records": 1200, "customers": 1000, "transactions": 900}
    assert merged["match_f1"] == 0.99 and merged["match_recall"] is None


def test_a_resume_with_every_first_day_stage_done_runs_the_next_day_only(tmp_path):
    from pipelines.stages import STAGES

    work = tmp_path / "people_1000"
    (work / "raw").mkdir(parents=True)
    result_file = work.with_suffix(".json")
    finished = {"generate": {"seconds": 1.0}} | {s.name: {"seconds": 1.0} for s in STAGES}
    result_file.write_text(bench.json.dumps({"status": "ok", "stages": finished}))
    _, remaining = bench.resumed_result(result_file, work, None)
    assert remaining == []  # measure_one_size then skips day one and runs --next-day alone
