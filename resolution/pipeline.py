"""The identity stage's matching end to end: prepare -> (train | load model) -> predict -> cluster.

:func:`match_records` is what the Dagster asset and the benchmark call; it knows nothing of
Dagster. The model is trained on the first run (or when retraining is asked for), saved as a new
version under ``models_dir`` and reused by later runs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from splink import Linker
from splink.internals.splink_dataframe import SplinkDataFrame

from resolution.blocking import without_generic_blocks
from resolution.clustering import ClusteringCounts, cluster_records
from resolution.config import IdentityConfig, IdentityConfigError
from resolution.linker import MatchingBackend
from resolution.model import ModelError, TrainedModel, latest_version, load_model, save_model
from resolution.prepare import prepare_records
from resolution.settings import populated_columns, prediction_rule_dicts
from resolution.training import train_model

log = logging.getLogger(__name__)


@dataclass
class MatchResult:
    """Clusters of one run, with the Splink objects the charts need."""

    clusters: pa.Table  # record_key, source_system, source_record_id, cluster_id, match_probability
    model: TrainedModel
    trained: bool
    pairs_scored: int
    clustering: ClusteringCounts
    generic_blocks: int = 0  # blocks no rule scored (resolution.blocking)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    linker: Linker | None = None
    predictions: SplinkDataFrame | None = None
    splink_clusters: SplinkDataFrame | None = None
    backend: MatchingBackend | None = None  # where predictions and splink_clusters live

    @property
    def cluster_count(self) -> int:
        return pc.count_distinct(self.clusters.column("cluster_id")).as_py()

    def summary(self) -> dict[str, Any]:
        """Figures for run metadata and the benchmark."""
        return {
            "records": self.clusters.num_rows,
            "pairs_scored": self.pairs_scored,  # kept: at or above the pair floor
            "generic_blocks_left_out": self.generic_blocks,
            "edges_above_threshold": self.clustering.edges_above_threshold,
            "edges_refused_by_guard": self.clustering.edges_refused_by_guard,
            "conflicting_clusters_split": self.clustering.conflicting_clusters,
            "clusters": self.cluster_count,
            "model_version": self.model.version,
            "model_trained_this_run": self.trained,
            "stage_seconds": self.stage_seconds,
        }


def obtain_model(
    prepared: pa.Table,
    backend: MatchingBackend,
    config: IdentityConfig,
    models_dir: Path | None,
    retrain: bool,
) -> tuple[TrainedModel, bool]:
    """The latest saved model, or a newly trained (and saved) one; ``(model, trained)``.

    A saved model is reused unless retraining is asked for, it cannot be read, it is
    provisional (trained on too little data, see :func:`resolution.training.provisional_reasons`)
    or the configured comparisons differ from those it was trained with (the guard reads its
    levels).
    """
    if not retrain and models_dir is not None and latest_version(models_dir):
        try:
            saved = load_model(models_dir)
        except ModelError as exc:
            log.warning("cannot reuse the saved model (%s); training a new one", exc)
        else:
            if saved.provisional:
                log.info(
                    "model %s is provisional (%s); training a new one",
                    saved.version,
                    "; ".join(saved.provisional),
                )
            elif saved.config.comparisons == config.comparisons:
                return saved, False
            else:
                log.warning(
                    "comparisons in conf/identity.yaml changed since model %s was trained; "
                    "training a new one",
                    saved.version,
                )
    model = train_model(prepared, backend, config)
    if models_dir is not None:
        save_model(model, models_dir)
    return model, True


def match_records(
    records: pa.Table,
    backend: MatchingBackend,
    config: IdentityConfig,
    threshold: float,
    models_dir: Path | None = None,
    retrain: bool = False,
    model: TrainedModel | None = None,
) -> MatchResult:
    """Resolve ``records`` (silver/person_records rows as Arrow) into clusters.

    Long because each stage (prepare, model, predict, cluster) is timed in place.

    Args:
        records: person records (any contract column may be missing or empty).
        backend: where Splink runs (DuckDB or Spark).
        config: the identity configuration.
        threshold: match probability at which a guarded pair becomes an edge.
        models_dir: where versioned models live (``lake.models_dir()``); None keeps the model
            in memory only.
        retrain: train a new model even if one is saved.
        model: use this model (overrides ``models_dir`` / ``retrain``).

    Returns:
        One cluster row per record and the run's figures.
    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    prepared = prepare_records(records, config.prepare)
    seconds["prepare"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    trained = False
    if model is None:
        model, trained = obtain_model(prepared, backend, config, models_dir, retrain)
    seconds["train" if trained else "load_model"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    prepared, blocking_rules, generic = without_generic_blocks(prepared, config)
    settings = model.settings_for(backend.dialect)
    # The run's rules, not the training run's: block sizes are this population's.
    settings["blocking_rules_to_generate_predictions"] = prediction_rule_dicts(
        blocking_rules,
        populated_columns(prepared, config.training.min_populated_share),
        backend.dialect,
    )
    seconds["block_keys"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    registered = backend.register(prepared, "person_records")
    linker = backend.linker(registered, settings)
    predictions = linker.inference.predict(
        threshold_match_probability=pair_floor(config, threshold)
    )
    pairs_scored = int(backend.scalar(predictions, "SELECT count(*) AS n FROM {this}"))
    seconds["predict"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    comparisons = {c["output_column_name"] for c in model.splink_model["comparisons"]}
    splink_clusters, _edges, counts = cluster_records(
        backend, registered, predictions, config, comparisons, threshold
    )
    clusters = backend.to_arrow(splink_clusters)
    keys = prepared.select(["record_key", "source_system", "source_record_id"])
    clusters = keys.join(clusters, "record_key", join_type="left outer").sort_by("record_key")
    seconds["cluster"] = round(time.perf_counter() - started, 3)
    log.info(
        "matched %d records: %d pairs scored, %d clusters",
        records.num_rows,
        pairs_scored,
        pc.count_distinct(clusters.column("cluster_id")).as_py(),
    )
    return MatchResult(
        clusters=clusters,
        model=model,
        trained=trained,
        pairs_scored=pairs_scored,
        generic_blocks=sum(g.blocks_left_out for g in generic),
        clustering=counts,
        stage_seconds=seconds,
        linker=linker,
        predictions=predictions,
        splink_clusters=splink_clusters,
        backend=backend,
    )


def pair_floor(config: IdentityConfig, threshold: float) -> float | None:
    """The match probability below which scored pairs are not kept (None: all are kept).

    Raises:
        IdentityConfigError: the floor is not below the clustering threshold.
    """
    floor = config.prediction.keep_pairs_from_match_probability
    if floor is not None and floor >= threshold:
        raise IdentityConfigError(
            f"prediction.keep_pairs_from_match_probability ({floor}) must be below the "
            f"clustering threshold identity.match_probability_threshold ({threshold}): "
            "clustering needs every pair at the threshold"
        )
    return floor


def scored_pairs(match: MatchResult) -> SplinkDataFrame | None:
    """Every pair the run scored and kept (at or above :func:`pair_floor`), as a table in the
    matching backend (never pulled whole into Python): Splink's predictions,
    ``record_key_l`` / ``record_key_r``, ``match_weight``, ``match_probability`` and, per
    comparison, ``gamma_<name>`` (its level) and ``bf_<name>`` (its Bayes factor), plus the
    matching columns. Query it with ``query_sql("... FROM {this} WHERE ...")`` and bring back
    only what is written (``match.backend.to_arrow``). None for a match result built without
    predictions.
    """
    return match.predictions
