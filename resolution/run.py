"""One identity-resolution run over the lakehouse: match -> stable IDs -> tables to write.

The Dagster assets and the benchmark call these; they know nothing of Dagster.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from c360.lakehouse import Lakehouse
from c360.tables import (
    GOLD_IDENTITY_HISTORY,
    GOLD_IDENTITY_HISTORY_SCHEMA,
    GOLD_IDENTITY_MAP,
    GOLD_IDENTITY_MAP_SCHEMA,
)
from resolution.charts import save_charts
from resolution.evaluation import MatchMetrics, evaluate_identity_map, read_truth
from resolution.linker import MatchingBackend
from resolution.pipeline import MatchResult, match_records
from resolution.settings import MatchingConfig
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
    config: MatchingConfig,
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
        config: the matching configuration.
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
    metrics = truth = None
    if truth_root is not None:
        truth = read_truth(truth_root)
        metrics = evaluate_identity_map(ids.identity_map, truth)
        log.info(
            "pairwise precision %.4f recall %.4f F1 %.4f",
            metrics.precision,
            metrics.recall,
            metrics.f1,
        )
    charts = (
        save_charts(match, reports_dir, threshold=threshold, truth=truth)
        if reports_dir is not None
        else {}
    )
    return IdentityRun(identity_map, history, match, ids, metrics, charts)
