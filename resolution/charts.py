"""Splink's charts for a run, saved as self-contained HTML under ``_reports/<run_id>/``.

Charts embed vega / vega-lite / vega-embed from the Splink wheel (``save_offline_chart``) and the
cluster studio inlines its own scripts, so every file opens without network access. Sample
waterfalls show scored pairs with personal data removed (match weights only).
"""

from __future__ import annotations

import logging
from pathlib import Path

from resolution.pipeline import MatchResult

log = logging.getLogger(__name__)

CHART_FILES = {
    "match_weights": "match_weights.html",
    "m_u_parameters": "m_u_parameters.html",
    "waterfall": "waterfall_sample.html",
    "cluster_studio": "cluster_studio.html",
}


def save_charts(
    result: MatchResult, reports_dir: Path, waterfall_pairs: int = 20, clusters: int = 10
) -> dict[str, Path]:
    """Write the run's charts; returns ``{chart: path}`` of the files written.

    A chart that cannot be drawn (e.g. no pair above the threshold for the waterfall) is
    logged and left out; the run does not fail on a report.
    """
    if result.linker is None or result.predictions is None:
        return {}
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    linker = result.linker
    written: dict[str, Path] = {}

    def path(name: str) -> Path:
        return reports_dir / CHART_FILES[name]

    linker.visualisations.match_weights_chart().save_offline_chart(
        str(path("match_weights")), overwrite=True, print_msg=False
    )
    written["match_weights"] = path("match_weights")
    linker.visualisations.m_u_parameters_chart().save_offline_chart(
        str(path("m_u_parameters")), overwrite=True, print_msg=False
    )
    written["m_u_parameters"] = path("m_u_parameters")

    sample = result.predictions.query_sql(
        "SELECT * FROM {this} ORDER BY abs(match_weight), record_key_l, record_key_r"
    )
    pairs = sample.as_record_list(limit=waterfall_pairs)
    sample.drop_table_from_database_and_remove_from_cache()
    if pairs:
        linker.visualisations.waterfall_chart(pairs, remove_sensitive_data=True).save_offline_chart(
            str(path("waterfall")), overwrite=True, print_msg=False
        )
        written["waterfall"] = path("waterfall")
    else:
        log.warning("no scored pair: waterfall chart left out")

    if result.splink_clusters is not None and result.clustering.edges_above_threshold:
        linker.visualisations.cluster_studio_dashboard(
            result.predictions,
            result.splink_clusters,
            str(path("cluster_studio")),
            sampling_method="by_cluster_size",
            sample_size=clusters,
            overwrite=True,
        )
        written["cluster_studio"] = path("cluster_studio")
    return written
