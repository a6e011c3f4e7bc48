"""End-to-end scale benchmark of the c360 pipeline (issue 7).

For each size it generates a landing zone with the sample generator (stage ``generate``), then
runs every stage of the pipeline (``pipelines.runner.run_pipeline``: bronze, silver, identity,
features) against a scratch lakehouse, and records per stage the wall seconds and the peak
memory of the whole process tree (this Python process, the Spark JVM and its Python workers),
plus the rows and the match F1 the run reports. Between consecutive sizes it prints the growth
exponent of each stage's time, log(t2/t1) / log(n2/n1): 1.0 is linear, 2.0 quadratic.

Each size runs in its own subprocess (its own Spark session, its own memory figures), stopped
after ``--max-minutes``. Before a size starts, its memory and disk needs are estimated (see
``estimate_needs``); a size that does not fit the machine runs with a warning (``--skip-unfit``:
recorded as skipped with the reason instead). Results merge by size into
benchmarks/results/pipeline.json: a new run of a size replaces the earlier one.

Usage::

    .venv/bin/python benchmarks/bench_pipeline.py --people 10000,100000,1000000
    .venv/bin/python benchmarks/bench_pipeline.py --people 2000 --keep --work-dir /tmp/bench
"""

# ruff: noqa: E402  (the path line below must run before the package imports)
from __future__ import annotations

import sys
from pathlib import Path

# Import the packages of this checkout (not another editable install of c360).
_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))
sys.path.insert(0, str(_HERE))  # the shared benchmark helpers (synthetic.py)

import argparse
import json
import logging
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from itertools import pairwise
from typing import Any

import psutil
from synthetic import PeakMemory

from c360.config import load_settings
from c360.console import quiet_console
from pipelines.stages import STAGES

RESULTS = _HERE / "results" / "pipeline.json"
START_DAY = date(2025, 10, 1)
STAGE_ORDER = ("generate", *(stage.name for stage in STAGES))  # generate, then the pipeline's
MB = 2**20

# Rough needs per size, used until the results file holds two measured sizes (then the two
# largest measured sizes are extrapolated instead). Measured on the 2-core, 23 GiB machine
# with --days 2 at 2,000 and 5,000 people (2026-11-23; see benchmarks/results/pipeline.json):
# - the JVM is budgeted at its full heap (spark.driver_memory) plus JVM_OVERHEAD_MB whatever the
#   size, since its resident memory grows towards the heap before it collects garbage (4.7 GB
#   with the 4g heap at 5,000 people);
# - the Python process peaked at 1.08 GB (2,000) and 1.53 GB (5,000) people, in the features
#   stage: delta-rs writes the collected feature table, ~2,800 columns per customer, from Arrow
#   on the driver; about 150 KB per person over a base of 800 MB;
# - disk (landing zone, truth, lakehouse) was 19 MB and 33 MB: about 5 KB per person over a
#   base of 10 MB, left behind; Spark's temporary files and older Delta versions come on top
#   (DISK_SPILL_FACTOR, applied to measured and constant figures alike).
PYTHON_BASE_MB = 800
PYTHON_KB_PER_PERSON = 150
JVM_OVERHEAD_MB = 1024
DISK_BASE_MB = 10
DISK_KB_PER_PERSON = 5
DISK_SPILL_FACTOR = 2
SAFETY_FACTOR = 1.3  # margin over the estimate before a size counts as fitting

log = logging.getLogger("benchmarks.pipeline")


# ---------------------------------------------------------------------------------------------
# Memory sampling (runs in the per-size subprocess)


# ---------------------------------------------------------------------------------------------
# One size (the subprocess)

# The runner's progress lines: "[2/4] silver: running" ... "[2/4] silver: done in 3.1 s, ..."
STAGE_LINE = re.compile(r"^\[\d+/\d+\] (?P<stage>\w+): (?P<state>running|done)")


def quiet_logs() -> None:
    """The same log and warning filters as ``c360 run``: one progress line per stage."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_console()


def directory_mb(path: Path) -> float:
    """Bytes under ``path``, in MB."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / MB


def run_generate(people: int, days: int, seed: int, work: Path) -> dict[str, Any]:
    """Write the landing zone and truth under ``work``; rows per entity and landed MB."""
    from c360.sample import GeneratorConfig, generate_landing_zone, load_noise_config

    config = GeneratorConfig(
        people=people, days=days, start=START_DAY, seed=seed, noise=load_noise_config()
    )
    summary = generate_landing_zone(config, work / "raw", work / "truth", overwrite=True)
    return {
        "landing_rows": summary.total_rows,
        "landing_rows_per_entity": summary.rows,
        "landed_mb": round(directory_mb(work / "raw"), 1),
    }


def stage_progress(
    memory: PeakMemory, figures: dict[str, dict], on_stage_done: Callable[[], None]
) -> Callable[[str], None]:
    """A ``run_pipeline`` progress callback: prints each line, resets memory per stage."""

    def progress(line: str) -> None:
        print(line, flush=True)
        if match := STAGE_LINE.match(line):
            if match["state"] == "running":
                memory.reset()
            else:
                seconds = re.search(r"done in ([\d.]+) s", line)
                figures[match["stage"]] = {
                    **({"seconds": float(seconds[1])} if seconds else {}),
                    **memory.peaks_mb(),
                }
                on_stage_done()

    return progress


def asset_metadata(summary: Any) -> dict[str, dict[str, Any]]:
    """Metadata of every asset the run materialised, by asset key (``silver/transactions``)."""
    return {asset.asset: asset.metadata for stage in summary.stages for asset in stage.assets}


def run_figures(summary: Any) -> dict[str, Any]:
    """Rows and match quality from the run summary's asset metadata."""
    metadata = asset_metadata(summary)

    def figure(asset: str, *keys: str) -> Any:
        values = metadata.get(asset, {})
        return next((values[k] for k in keys if k in values), None)

    return {
        "rows": {
            "records": figure("silver/person_records", "table_rows_total", "rows"),
            "customers": figure("gold/identity_map", "customers"),
            "transactions": figure("silver/transactions", "table_rows_total", "rows"),
            "features": figure("gold/customer_features", "features"),
            "feature_rows": figure("gold/customer_features", "rows"),
        },
        "match_f1": figure("gold/identity_map", "match_f1"),
        "match_precision": figure("gold/identity_map", "match_precision"),
        "match_recall": figure("gold/identity_map", "match_recall"),
        "identity_pairs_kept": figure("gold/identity_map", "pairs_scored"),
        # Where the identity stage's time goes: prepare, train or load_model, predict, cluster.
        "identity_step_seconds": {
            key.removeprefix("seconds_"): value
            for key, value in metadata.get("gold/identity_map", {}).items()
            if key.startswith("seconds_")
        }
        or None,
    }


def merged_figures(earlier: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    """``figures`` with the gaps (stages a resumed run did not run) filled from ``earlier``."""
    rows = {k: v if v is not None else earlier.get("rows", {}).get(k)
            for k, v in figures["rows"].items()}  # fmt: skip
    kept = {k: v if v is not None else earlier.get(k) for k, v in figures.items() if k != "rows"}
    return {"rows": rows, **kept}


def landing_days(days: int) -> list[date]:
    """The first ``days`` landing days the generator writes (from START_DAY)."""
    return [START_DAY + timedelta(days=offset) for offset in range(days)]


def run_next_day(
    memory: PeakMemory, overrides: dict[str, str], day: date, stages: list[str] | None
) -> dict[str, Any]:
    """Land and run one more day on the lakehouse day one left; its figures.

    The generator wrote the day with the others (late records, records re-sent with a new
    ``updated_at``, one day of transactions and points): bronze appends it, silver and identity
    rebuild from all of bronze, features build the snapshot as of the next day.
    """
    from pipelines.runner import run_pipeline

    peaks: dict[str, dict] = {}
    started = time.perf_counter()
    summary = run_pipeline(
        overrides, days=[day], progress=stage_progress(memory, peaks, lambda: None), stages=stages
    )
    return {
        "day": day.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
        "pipeline_seconds": round(sum(stage.seconds for stage in summary.stages), 2),
        "peak_rss_mb": max((p.get("peak_rss_mb", 0) for p in peaks.values()), default=0),
        "stages": {
            stage.stage: {"seconds": round(stage.seconds, 2), **peaks.get(stage.stage, {})}
            for stage in summary.stages
        },
        **run_figures(summary),
    }


def measure_one_size(
    people: int,
    days: int,
    seed: int,
    work: Path,
    result_file: Path,
    stages: list[str] | None = None,
    next_day: bool = False,
    resume: bool = False,
) -> int:
    """Generate and run the pipeline for one size; write figures to ``result_file`` as it goes.

    The result file is rewritten after every stage, so a size stopped by the watchdog still
    reports the stages it finished. ``stages`` limits the run to those stages; ``next_day``
    generates one more landing day and runs it after the first run (figures under
    ``next_day``). ``resume`` keeps the work dir and the finished stages of an earlier,
    failed or stopped run of the size and runs only the stages it did not finish. Returns the
    process exit code.
    """
    from pipelines.runner import RunFailure, run_pipeline

    quiet_logs()
    os.environ.pop("DAGSTER_HOME", None)  # an ephemeral instance: keep benchmark runs out of the UI
    result: dict[str, Any] = {"status": "running", "stages": {}}
    day_one_stages = stages
    if resume:
        result, day_one_stages = resumed_result(result_file, work, stages)
    else:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)

    def save() -> None:
        result_file.write_text(json.dumps(result, indent=2, default=str))

    if resume:
        save()  # the earlier run's failure is no longer this run's status

    with PeakMemory() as memory:
        if not resume:
            generated = days + (1 if next_day else 0)
            print(f"[generate] {people:,} people, {generated} days: running", flush=True)
            started = time.perf_counter()
            result.update(run_generate(people, generated, seed, work))
            seconds = time.perf_counter() - started
            result["stages"]["generate"] = {"seconds": round(seconds, 2), **memory.peaks_mb()}
            print(
                f"[generate] done in {seconds:.1f} s, {result['landing_rows']:,} rows", flush=True
            )
            save()
        peaks: dict[str, dict] = {}
        overrides = {
            "raw_root": str(work / "raw"),
            "lakehouse_root": str(work / "lake"),
            "truth_root": str(work / "truth"),
        }

        def stage_done() -> None:
            result["stages"].update(peaks)  # finished stages survive a later failure or timeout
            save()

        if day_one_stages != []:  # [] on a resume whose first run finished: the next day only
            try:
                summary = run_pipeline(
                    overrides,
                    days=landing_days(days),
                    progress=stage_progress(memory, peaks, stage_done),
                    stages=day_one_stages,
                )
            except RunFailure as exc:
                result.update(status="failed", reason=str(exc))
                save()
                print(f"failed: {exc}", file=sys.stderr)
                return 1
            for stage in summary.stages:
                result["stages"][stage.stage] = {
                    "seconds": round(stage.seconds, 2),
                    **peaks.get(stage.stage, {}),
                    "checks_passed": stage.checks_passed,
                    "checks_failed": stage.checks_failed,
                }
            result.update(merged_figures(result, run_figures(summary)))
            result["disk_mb"] = round(directory_mb(work), 1)
            if stages is not None and not resume:
                result["stages_run"] = list(stages)
            save()
        if next_day:
            try:
                result["next_day"] = run_next_day(
                    memory, overrides, START_DAY + timedelta(days=days), stages
                )
            except RunFailure as exc:
                result.update(status="failed", reason=f"next day: {exc}")
                save()
                print(f"failed: next day: {exc}", file=sys.stderr)
                return 1
    result["status"] = "ok"
    save()
    return 0


def resumed_result(
    result_file: Path, work: Path, stages: list[str] | None
) -> tuple[dict[str, Any], list[str]]:
    """An earlier run's figures (its finished stages kept) and the stages still to run."""
    if not result_file.exists() or not (work / "raw").exists():
        raise SystemExit(f"--resume: no earlier run in {work} ({result_file.name} or raw/ missing)")
    result = json.loads(result_file.read_text())
    done = set(result.get("stages", {}))
    remaining = [s.name for s in STAGES if s.name not in done and (not stages or s.name in stages)]
    result.pop("reason", None)
    result.update(status="running", resumed_stages=remaining)
    print(f"[resume] kept {', '.join(result['stages'])}; running {', '.join(remaining)}")
    return result, remaining


# ---------------------------------------------------------------------------------------------
# Fit: estimate needs and compare with the machine (the parent)


@dataclass(frozen=True)
class Needs:
    """Estimated peak memory and disk of one size, and what the estimate rests on."""

    memory_mb: float
    disk_mb: float
    basis: str


def memory_setting_mb(setting: str) -> float:
    """A JVM memory setting such as ``4g`` or ``512m`` in MB."""
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024**2}
    text = setting.strip().lower()
    if text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text) / MB  # bytes


def linear_fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Intercept and slope through the two largest sizes (slope at least 0)."""
    (n1, y1), (n2, y2) = sorted(points)[-2:]
    slope = max(0.0, (y2 - y1) / (n2 - n1))
    return y2 - slope * n2, slope


def measured_runs(runs: dict[str, dict]) -> list[dict]:
    """Runs that finished, smallest first."""
    return sorted((r for r in runs.values() if r.get("status") == "ok"), key=lambda r: r["people"])


def estimate_needs(people: int, runs: dict[str, dict], driver_memory: str) -> Needs:
    """Peak memory and disk ``people`` needs, before the safety factor.

    Memory is the Spark driver's heap (``spark.driver_memory``) plus JVM overhead, which the
    JVM may take at any size, plus the Python process, which grows with the data. The Python
    and disk figures are extrapolated linearly from the two largest measured sizes in the
    results file when it holds two, else from the per-person constants at the top of this file.
    """
    jvm_mb = memory_setting_mb(driver_memory) + JVM_OVERHEAD_MB
    measured = measured_runs(runs)
    if len(measured) >= 2:
        python = [
            (r["people"], max(s.get("peak_rss_python_mb", 0) for s in r["stages"].values()))
            for r in measured
        ]
        disk = [(r["people"], r["disk_mb"]) for r in measured]
        (python_base, python_slope), (disk_base, disk_slope) = linear_fit(python), linear_fit(disk)
        basis = "extrapolated from measured sizes " + ", ".join(
            f"{r['people']:,}" for r in measured[-2:]
        )
    else:
        python_base, python_slope = PYTHON_BASE_MB, PYTHON_KB_PER_PERSON / 1024
        disk_base, disk_slope = DISK_BASE_MB, DISK_KB_PER_PERSON / 1024
        basis = "per-person constants in benchmarks/bench_pipeline.py"
    return Needs(
        memory_mb=jvm_mb + python_base + python_slope * people,
        disk_mb=(disk_base + disk_slope * people) * DISK_SPILL_FACTOR,
        basis=basis,
    )


def why_it_does_not_fit(needs: Needs, work_root: Path) -> str | None:
    """The reason a size would not fit in available memory or free disk, or None if it fits."""
    have = {
        "memory": ("available", psutil.virtual_memory().available / MB),
        f"disk in {work_root}": ("free", psutil.disk_usage(str(work_root)).free / MB),
    }
    need = {"memory": needs.memory_mb, f"disk in {work_root}": needs.disk_mb}
    problems = [
        f"{what} needs about {need[what] / 1024:,.1f} GB "
        f"({need[what] * SAFETY_FACTOR / 1024:,.1f} GB with the {SAFETY_FACTOR:g}x margin), "
        f"{have_mb / 1024:,.1f} GB {state}"
        for what, (state, have_mb) in have.items()
        if need[what] * SAFETY_FACTOR > have_mb
    ]
    if not problems:
        return None
    return "does not fit this machine: " + "; ".join(problems) + f" ({needs.basis})"


# ---------------------------------------------------------------------------------------------
# Run sizes in subprocesses with a watchdog (the parent)


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop the size's subprocess and everything it started (the JVM, Python workers)."""
    for sig, grace_seconds in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace_seconds)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log file, on one line."""
    if not path.exists():
        return ""
    return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])


def exit_reason(return_code: int, stderr_log: Path) -> str:
    """Why a size's subprocess ended badly, from its exit code and stderr."""
    if return_code == -signal.SIGKILL:
        return "killed (SIGKILL; most likely out of memory: see `dmesg`)"
    return f"exit code {return_code}: {tail(stderr_log) or 'no error output'}"


def run_size(people: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run one size in a subprocess, stopped after ``args.max_minutes``; its figures."""
    work.mkdir(parents=True, exist_ok=True)
    result_file, stderr_log = work.with_suffix(".json"), work.with_suffix(".stderr.log")
    if not args.resume:
        result_file.unlink(missing_ok=True)
    command = [
        sys.executable, str(Path(__file__).resolve()), "--one-size", str(people),
        "--days", str(args.days), "--seed", str(args.seed),
        "--work-dir", str(work), "--result-file", str(result_file),
        *(["--stages", ",".join(args.stages)] if args.stages else []),
        *(["--next-day"] if args.next_day else []),
        *(["--resume"] if args.resume else []),
    ]  # fmt: skip
    started = time.perf_counter()
    with stderr_log.open("w") as stderr:
        process = subprocess.Popen(command, stderr=stderr, start_new_session=True)
        try:
            return_code = process.wait(timeout=args.max_minutes * 60)
        except subprocess.TimeoutExpired:
            stop_process_group(process)
            return_code = None
        except BaseException:  # Ctrl-C: the subprocess has its own session, stop it too
            stop_process_group(process)
            raise
    wall_seconds = time.perf_counter() - started
    result = json.loads(result_file.read_text()) if result_file.exists() else {"stages": {}}
    result["wall_seconds"] = round(wall_seconds, 1)
    if return_code is None:
        finished = ", ".join(result["stages"]) or "no stage"
        result.update(
            status="timed_out",
            reason=f"stopped after {args.max_minutes:g} min (--max-minutes) with {finished} "
            "finished; raise --max-minutes or pick a smaller size",
        )
    elif return_code != 0 and result.get("status") != "failed":
        result.update(status="failed", reason=exit_reason(return_code, stderr_log))
    if result.get("status") == "ok":
        stage_seconds = [
            result["stages"][s]["seconds"] for s in STAGE_ORDER if s in result["stages"]
        ]
        result["total_seconds"] = round(sum(stage_seconds), 2)
        result["pipeline_seconds"] = round(sum(stage_seconds[1:]), 2)
    return result


# ---------------------------------------------------------------------------------------------
# Results: exponents, JSON, printed tables (the parent)


def exponent(t1: float, t2: float, n1: int, n2: int) -> float | None:
    """Growth exponent of a time between two sizes: log(t2/t1) / log(n2/n1)."""
    if t1 <= 0 or t2 <= 0 or n1 == n2:
        return None
    return round(math.log(t2 / t1) / math.log(n2 / n1), 2)


def growth_exponents(runs: dict[str, dict]) -> list[dict[str, Any]]:
    """Exponent of every stage's seconds, the pipeline's and the total's, between consecutive
    measured sizes."""
    exponents = []
    for small, large in pairwise(measured_runs(runs)):
        seconds = {
            stage: exponent(
                small["stages"][stage]["seconds"],
                large["stages"][stage]["seconds"],
                small["people"],
                large["people"],
            )
            for stage in STAGE_ORDER
            if stage in small["stages"] and stage in large["stages"]
        }
        if set(small["stages"]) == set(large["stages"]):  # totals only over the same stages
            for key in ("pipeline", "total"):
                seconds[key] = exponent(
                    small[f"{key}_seconds"],
                    large[f"{key}_seconds"],
                    small["people"],
                    large["people"],
                )
        exponents.append(
            {"from_people": small["people"], "to_people": large["people"], "seconds": seconds}
        )
    return exponents


def machine_info() -> dict[str, Any]:
    """Cores, memory, Python and Spark settings of the machine and profile measured."""
    settings = load_settings()
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "pyspark": version("pyspark"),
        "platform": platform.platform(),
        "profile": settings.profile,
        "spark_master": settings.spark.master,
        "spark_driver_memory": settings.spark.driver_memory,
        "matching_backend": settings.identity.backend,
    }


def load_results(path: Path) -> dict[str, Any]:
    """Earlier results, so a run of one size keeps the others."""
    if not path.exists():
        return {"runs": {}}
    return json.loads(path.read_text())


def save_results(path: Path, results: dict[str, Any]) -> None:
    """Write the results, runs ordered by size."""
    results["runs"] = dict(sorted(results["runs"].items(), key=lambda item: int(item[0])))
    results["exponents"] = growth_exponents(results["runs"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def format_size(run: dict[str, Any]) -> str:
    """A size's figures as a small table."""
    lines = [f"{'stage':<10}{'seconds':>10}{'peak RSS MB':>13}{'of which JVM etc.':>19}"]
    for stage in STAGE_ORDER:
        if figures := run["stages"].get(stage):
            lines.append(
                f"{stage:<10}{figures['seconds']:>10.1f}{figures.get('peak_rss_mb', 0):>13,}"
                f"{figures.get('peak_rss_children_mb', 0):>19,}"
            )
    if run["status"] == "ok":
        lines.append(f"{'total':<10}{run['total_seconds']:>10.1f}")
        rows = ", ".join(f"{k} {v:,}" for k, v in run["rows"].items() if v is not None)
        f1 = run.get("match_f1")
        lines.append(f"rows: {rows}" + (f"; match F1 {f1:.4f}" if f1 is not None else ""))
    if next_day := run.get("next_day"):
        lines.append(
            f"next day {next_day['day']}: {next_day['pipeline_seconds']:.1f} s "
            f"(peak {next_day['peak_rss_mb']:,} MB)"
        )
    return "\n".join(lines)


def format_exponents(exponents: list[dict[str, Any]]) -> str:
    """Growth exponents between consecutive sizes, one line each."""
    lines = []
    for step in exponents:
        figures = ", ".join(
            f"{stage} {value:.2f}" for stage, value in step["seconds"].items() if value is not None
        )
        lines.append(f"growth {step['from_people']:,} -> {step['to_people']:,} people: {figures}")
    return "\n".join(lines)


def benchmark_size(
    people: int, args: argparse.Namespace, work_root: Path, results: dict[str, Any]
) -> dict[str, Any]:
    """Check the size fits, then run it (or record why not); the run's entry for the JSON."""
    driver_memory = results["machine"]["spark_driver_memory"]
    needs = estimate_needs(people, results["runs"], driver_memory)
    entry: dict[str, Any] = {
        "people": people,
        "days": args.days,
        "seed": args.seed,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": results["machine"],
        "estimate": {
            "memory_mb": round(needs.memory_mb),
            "disk_mb": round(needs.disk_mb),
            "basis": needs.basis,
        },
    }
    if reason := why_it_does_not_fit(needs, work_root):
        if args.skip_unfit:
            return entry | {"status": "skipped", "reason": reason, "stages": {}}
        print(f"warning, running anyway (--skip-unfit skips): {reason}")
        entry["estimate"]["warning"] = reason
    work = work_root / f"people_{people}"
    run = entry | run_size(people, args, work)
    stderr_log = work.with_suffix(".stderr.log")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
        work.with_suffix(".json").unlink(missing_ok=True)
        if run["status"] == "ok" or stderr_log.stat().st_size == 0:
            stderr_log.unlink()
    if stderr_log.exists() and run["status"] != "ok":
        run["stderr_log"] = str(stderr_log)
    peaks = [s["peak_rss_mb"] for s in run["stages"].values() if "peak_rss_mb" in s]
    if run["status"] == "ok" and peaks:
        # the estimate is made before the run: say how it compared with what was measured
        run["estimate"]["measured_peak_mb"] = max(peaks)
    return run


def run_sizes(args: argparse.Namespace) -> None:
    """Benchmark every requested size in order, saving the results after each."""
    results = load_results(args.out)
    results["machine"] = machine_info()
    own_work_root = args.work_dir is None
    work_root = Path(args.work_dir or tempfile.mkdtemp(prefix="c360-pipeline-bench-"))
    work_root.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {results['machine']['cores']} cores, {results['machine']['memory_gb']} GB, "
        f"Spark {results['machine']['spark_master']} with a "
        f"{results['machine']['spark_driver_memory']} driver; work dir {work_root}"
    )
    for people in args.people:
        print(f"\n== {people:,} people, {args.days} days ==")
        run = benchmark_size(people, args, work_root, results)
        results["runs"][str(people)] = run
        results["updated"] = run["date"]
        save_results(args.out, results)
        if run["status"] != "ok":
            print(f"{people:,} people {run['status']}: {run['reason']}")
        if run["stages"]:
            print(format_size(run))
    if own_work_root and not args.keep and not any(work_root.glob("*.stderr.log")):
        shutil.rmtree(work_root, ignore_errors=True)
    if exponents := format_exponents(results["exponents"]):
        print(f"\n{exponents}\n(1.0 = linear; over every measured size in {args.out})")
    print(f"wrote {args.out}")


def parse_sizes(text: str) -> list[int]:
    """``10000,100000`` -> [10000, 100000]."""
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive comma-separated sizes, got {text!r}")
    return sizes


def parse_stages(text: str) -> list[str]:
    """``bronze,silver,identity`` -> the pipeline stages to run (generate always runs)."""
    stages = [part.strip() for part in text.split(",") if part.strip()]
    if unknown := sorted(set(stages) - set(STAGE_ORDER[1:])):
        raise argparse.ArgumentTypeError(
            f"unknown stages {unknown}; the stages are {list(STAGE_ORDER[1:])}"
        )
    return stages


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=parse_sizes, default=[10_000], help="e.g. 10000,100000")
    parser.add_argument("--days", type=int, default=2, help="landing days (default 2)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON (merged by size)")
    parser.add_argument("--work-dir", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data and lake")
    parser.add_argument(
        "--max-minutes", type=float, default=60, help="stop a size after this long (default 60)"
    )
    parser.add_argument(
        "--skip-unfit",
        action="store_true",
        help="skip sizes the memory / disk estimate says do not fit (default: warn and run)",
    )
    parser.add_argument(
        "--stages",
        type=parse_stages,
        help="run only these pipeline stages, e.g. bronze,silver,identity (default: all)",
    )
    parser.add_argument(
        "--next-day",
        action="store_true",
        help="generate one more landing day and run it after the first run (figures: next_day)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="with --work-dir: keep an earlier failed or stopped run's data and finished "
        "stages, run the rest",
    )
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)  # the per-size subprocess
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress lines interleave with the subprocess
    if args.one_size:
        return measure_one_size(
            args.one_size,
            args.days,
            args.seed,
            args.work_dir,
            args.result_file,
            args.stages,
            args.next_day,
            args.resume,
        )
    run_sizes(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
