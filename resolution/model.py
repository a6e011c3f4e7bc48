"""The trained model as versioned JSON under ``<lakehouse>/_models/splink/``.

Each version is two files:

- ``<version>.json``: Splink's own saved model (``linker.misc.save_model_to_json``), loadable
  by plain Splink on the dialect it was trained on;
- ``<version>.c360.json``: the identity configuration and populated columns it was compiled
  from, the training dialect and figures.

``latest`` holds the current version's name. Because Splink writes SQL in the training dialect
(DuckDB's ``jaro_winkler_similarity`` is Spark's ``jaro_winkler``),
:meth:`TrainedModel.settings_for` recompiles the settings for the target dialect from the
stored configuration and copies the trained parameters level by level: the same model on
DuckDB and Spark.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from resolution.config import IdentityConfig, config_from_dict
from resolution.settings import build_settings

log = logging.getLogger(__name__)

MODEL_SUBDIR = "splink"
LATEST_POINTER = "latest"


class ModelError(RuntimeError):
    """A saved model is missing or does not fit the configuration it claims."""


@dataclass
class TrainedModel:
    """A Splink model plus what is needed to rebuild it on any backend."""

    version: str
    splink_model: dict[str, Any]  # Splink's settings dict with trained m/u (training dialect)
    config: IdentityConfig
    available_columns: list[str]
    trained_on: str  # dialect
    trained_at: str
    training_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def provisional(self) -> list[str]:
        """Why later runs should train again instead of reusing this model (empty: reuse it)."""
        return list(self.training_summary.get("provisional_because", []))

    def settings_for(self, dialect: str) -> dict[str, Any]:
        """The Splink settings dict for ``dialect`` with this model's trained parameters."""
        if dialect == self.trained_on:
            return json.loads(json.dumps(self.splink_model))
        creator = build_settings(self.config, set(self.available_columns), self.version)
        target = creator.create_settings_dict(dialect)
        source_by_name = {c["output_column_name"]: c for c in self.splink_model["comparisons"]}
        for comparison in target["comparisons"]:
            name = comparison["output_column_name"]
            trained = source_by_name.get(name)
            if trained is None or len(trained["comparison_levels"]) != len(
                comparison["comparison_levels"]
            ):
                raise ModelError(
                    f"model {self.version}: comparison {name!r} does not match its "
                    "configuration; retrain the model"
                )
            for level, trained_level in zip(
                comparison["comparison_levels"], trained["comparison_levels"], strict=True
            ):
                if level.get("label_for_charts") != trained_level.get("label_for_charts"):
                    raise ModelError(
                        f"model {self.version}: level {level.get('label_for_charts')!r} of "
                        f"{name!r} differs from the trained one; retrain the model"
                    )
                for key in ("m_probability", "u_probability"):
                    if key in trained_level:
                        level[key] = trained_level[key]
        target["probability_two_random_records_match"] = self.splink_model[
            "probability_two_random_records_match"
        ]
        return target


def new_version(splink_model: dict[str, Any], at: datetime | None = None) -> str:
    """``<UTC time>-<content hash>``: sortable and unique per content."""
    at = at or datetime.now(UTC)
    digest = hashlib.sha256(json.dumps(splink_model, sort_keys=True).encode()).hexdigest()[:8]
    return f"{at:%Y%m%dT%H%M%SZ}-{digest}"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_model(model: TrainedModel, models_dir: Path) -> Path:
    """Write ``model`` as a new version and point ``latest`` at it; returns the model file."""
    folder = Path(models_dir) / MODEL_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    model_file = folder / f"{model.version}.json"
    meta = {
        "version": model.version,
        "trained_on": model.trained_on,
        "trained_at": model.trained_at,
        "available_columns": sorted(model.available_columns),
        "identity_config": model.config.model_dump(mode="json"),
        "training_summary": model.training_summary,
    }
    _write_atomic(model_file, json.dumps(model.splink_model, indent=2))
    _write_atomic(folder / f"{model.version}.c360.json", json.dumps(meta, indent=2))
    _write_atomic(folder / LATEST_POINTER, model.version + "\n")
    log.info("saved model %s", model_file)
    return model_file


def latest_version(models_dir: Path) -> str | None:
    """The version ``latest`` points at, or None when no model was saved yet."""
    pointer = Path(models_dir) / MODEL_SUBDIR / LATEST_POINTER
    return pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else None


def load_model(models_dir: Path, version: str | None = None) -> TrainedModel:
    """Read a saved version (default: ``latest``).

    Raises:
        ModelError: no such version, or its prior cannot score pairs.
    """
    version = version or latest_version(models_dir)
    folder = Path(models_dir) / MODEL_SUBDIR
    if not version or not (folder / f"{version}.json").is_file():
        raise ModelError(f"no saved model {version or '(latest)'} under {folder}")
    splink_model = json.loads((folder / f"{version}.json").read_text(encoding="utf-8"))
    prior = splink_model.get("probability_two_random_records_match")
    if not isinstance(prior, int | float) or not 0 < prior < 1:
        raise ModelError(f"model {version}: prior {prior!r} is not within (0, 1); retrain")
    meta = json.loads((folder / f"{version}.c360.json").read_text(encoding="utf-8"))
    return TrainedModel(
        version=version,
        splink_model=splink_model,
        # Models saved before the stage was renamed (issue 15) name the key "matching_config".
        config=config_from_dict(meta.get("identity_config") or meta["matching_config"]),
        available_columns=list(meta["available_columns"]),
        trained_on=meta["trained_on"],
        trained_at=meta["trained_at"],
        training_summary=meta.get("training_summary", {}),
    )
