"""One identity-resolution run over the lakehouse: match -> stable IDs -> tables to write.

The Dagster assets and the benchmark call these; they know nothing of Dagster.

Crash safety of the two identity commits (``gold/identity_map`` overwrite, then the
``gold/identity_history`` append): Delta commits one table at a time, so
:func:`commit_identity` first stages the run's history rows under ``_pending/identity/<run_id>/``
(with the run's time), then commits the map, appends the history and drops the staged copy.
:func:`repair_identity`, called by the next identity run before it reads the previous map,
finishes what a killed run left: when the current map is that run's (every row it saw carries
its ``last_seen``) and the history has no row of it, the staged rows are appended; when the map
was never committed, the staged rows are dropped (the run had no effect). Either way the tables
end as a clean run would have left them, and repairing twice changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from c360.lakehouse import Lakehouse
from c360.tables import (
    GOLD_IDENTITY_HISTORY,
    GOLD_IDENTITY_HISTORY_SCHEMA,
    GOLD_IDENTITY_MAP,
    GOLD_IDENTITY_MAP_SCHEMA,
)
from resolution.charts import save_charts
from resolution.config import IdentityConfig
from resolution.evaluation import (
    MatchMetrics,
    evaluate_identity_map,
    read_truth,
    truth_coverage,
    truth_of_present_records,
    truth_warning,
)
from resolution.linker import MatchingBackend
from resolution.pipeline import MatchResult, match_records
from resolution.stable_ids import StableIdResult, assign_customer_ids

log = logging.getLogger(__name__)


@dataclass
class IdentityRun:
    """What one run produced: the tables to write and the figures to show."""

    identity_map: pa.Table
    history: pa.Table
    match: MatchResult
    ids: StableIdResult
    metrics: MatchMetrics | None = None
    charts: dict[str, Path] = field(default_factory=dict)
    truth_coverage: float | None = None  # share of the run's records the truth knows
    warnings: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        """Flat figures for Dagster metadata and the CLI."""
        figures: dict[str, Any] = {
            **{k: v for k, v in self.match.summary().items() if k != "stage_seconds"},
            "customers": self.ids.customers,
            "customers_new": self.ids.customers_new,
            "customers_merged": self.ids.customers_merged,
            "customers_split": self.ids.customers_split,
        }
        figures.update({f"seconds_{k}": v for k, v in self.match.stage_seconds.items()})
        if self.metrics is not None:
            figures.update({f"match_{k}": v for k, v in self.metrics.as_dict().items()})
        if self.truth_coverage is not None:
            figures["match_truth_coverage"] = round(self.truth_coverage, 6)
        if self.warnings:
            figures["warnings"] = "; ".join(self.warnings)
        return figures


def previous_identity(lake: Lakehouse) -> tuple[pd.DataFrame | None, pd.Series | None]:
    """The current identity map and every ID the history ever mentioned (None on a first run)."""
    previous = (
        lake.read_arrow(GOLD_IDENTITY_MAP).to_pandas() if lake.exists(GOLD_IDENTITY_MAP) else None
    )
    issued = None
    if lake.exists(GOLD_IDENTITY_HISTORY):
        history = (
            lake.read_arrow(GOLD_IDENTITY_HISTORY)
            .select(["customer_id", "related_customer_id"])
            .to_pandas()
        )
        issued = pd.concat([history["customer_id"], history["related_customer_id"]])
    return previous, issued


def resolve_identities(
    records: pa.Table,
    previous_map: pd.DataFrame | None,
    issued_ids: pd.Series | None,
    backend: MatchingBackend,
    config: IdentityConfig,
    threshold: float,
    run_id: str,
    at: datetime,
    models_dir: Path | None = None,
    reports_dir: Path | None = None,
    retrain: bool = False,
    truth_root: Path | None = None,
) -> IdentityRun:
    """Match ``records``, give the clusters stable IDs, evaluate and chart the run.

    Args:
        records: silver/person_records as Arrow.
        previous_map: the current gold/identity_map (None on the first run).
        issued_ids: IDs the history mentions (never re-issued).
        backend: where Splink runs.
        config: the identity configuration.
        threshold: clustering match-probability threshold.
        run_id: this run's id (history rows, report folder).
        at: this run's time (tz-aware UTC).
        models_dir: versioned models (``lake.models_dir()``).
        reports_dir: where charts go (``lake.reports_dir(run_id)``); None: no charts.
        retrain: train a new model even if one is saved.
        truth_root: folder holding ``person_truth.csv``; when given, the run is evaluated.
    """
    match = match_records(records, backend, config, threshold, models_dir, retrain)
    ids = assign_customer_ids(previous_map, match.clusters.to_pandas(), run_id, at, issued_ids)
    identity_map = pa.Table.from_pandas(
        ids.identity_map, schema=GOLD_IDENTITY_MAP_SCHEMA, preserve_index=False
    )
    history = pa.Table.from_pandas(
        ids.history, schema=GOLD_IDENTITY_HISTORY_SCHEMA, preserve_index=False
    )
    metrics = coverage = truth = None
    warnings: list[str] = []
    if truth_root is not None:
        truth = read_truth(truth_root)
        metrics = evaluate_identity_map(ids.identity_map, truth)
        coverage = truth_coverage(ids.identity_map, truth)
        if warning := truth_warning(coverage):
            log.warning(warning)
            warnings.append(warning)
        log.info(
            "pairwise precision %.4f recall %.4f F1 %.4f",
            metrics.precision,
            metrics.recall,
            metrics.f1,
        )
    charts = (
        save_charts(
            match,
            reports_dir,
            threshold=threshold,
            truth=None if truth is None else truth_of_present_records(ids.identity_map, truth),
        )
        if reports_dir is not None
        else {}
    )
    return IdentityRun(identity_map, history, match, ids, metrics, charts, coverage, warnings)


PENDING_STAGE = "identity"
PENDING_HISTORY = "history.parquet"
PENDING_MANIFEST = "manifest.json"


def commit_identity(lake: Lakehouse, run: IdentityRun, run_id: str, at: datetime) -> None:
    """Commit the map and the history of one run so that a crash between them is repairable.

    Args:
        lake: the lakehouse (the caller holds its lock).
        run: what :func:`resolve_identities` produced.
        run_id: the run's id (its history rows carry it).
        at: the run's time, as given to :func:`resolve_identities` (the map's ``last_seen``).
    """
    pending = lake.pending_dir(PENDING_STAGE)
    staging = pending / f".{run_id}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    pq.write_table(run.history, staging / PENDING_HISTORY)
    manifest = {"run_id": run_id, "at": pd.Timestamp(at).tz_convert("UTC").isoformat()}
    (staging / PENDING_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    os.replace(staging, pending / run_id)  # staged as a whole or not at all
    lake.overwrite(run.identity_map, GOLD_IDENTITY_MAP)
    lake.append(run.history, GOLD_IDENTITY_HISTORY)
    shutil.rmtree(pending / run_id)


def _map_written_at(lake: Lakehouse, at: pd.Timestamp) -> bool:
    """True when the current map is the one of the run at ``at`` (a later run would move
    ``last_seen`` on; an earlier map holds no row seen at ``at``)."""
    if not lake.exists(GOLD_IDENTITY_MAP):
        return False
    last_seen = (
        lake.arrow_dataset(GOLD_IDENTITY_MAP).to_table(columns=["last_seen"]).column(0).to_pandas()
    )
    return bool(len(last_seen)) and pd.Timestamp(last_seen.max()) == at


def _history_has_run(lake: Lakehouse, run_id: str) -> bool:
    if not lake.exists(GOLD_IDENTITY_HISTORY):
        return False
    run_ids = lake.arrow_dataset(GOLD_IDENTITY_HISTORY).to_table(columns=["run_id"]).column(0)
    return run_id in set(run_ids.unique().to_pylist())


def repair_identity(lake: Lakehouse) -> list[str]:
    """Finish the identity commits of runs killed between them; returns the repaired run ids.

    Idempotent: a second call finds nothing staged. Call it before reading the previous map.
    """
    pending = lake.pending_dir(PENDING_STAGE)
    if not pending.is_dir():
        return []
    repaired = []
    for folder in sorted(pending.iterdir()):
        if folder.name.startswith("."):  # staging of a run killed before its first commit
            shutil.rmtree(folder, ignore_errors=True)
            continue
        manifest = json.loads((folder / PENDING_MANIFEST).read_text(encoding="utf-8"))
        run_id, at = manifest["run_id"], pd.Timestamp(manifest["at"])
        if _map_written_at(lake, at) and not _history_has_run(lake, run_id):
            history = pq.read_table(folder / PENDING_HISTORY, schema=GOLD_IDENTITY_HISTORY_SCHEMA)
            lake.append(history, GOLD_IDENTITY_HISTORY)
            log.warning(
                "repaired gold/identity_history: appended the %d events of run %s, which was "
                "stopped after committing gold/identity_map",
                history.num_rows,
                run_id,
            )
            repaired.append(run_id)
        shutil.rmtree(folder)
    return repaired
