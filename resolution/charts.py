"""Splink's charts for a run, saved as self-contained HTML under ``_reports/<run_id>/``.

Charts embed vega / vega-lite / vega-embed from the Splink wheel (``save_offline_chart``) and the
cluster studio inlines its own scripts, so every file opens without network access. Sample
waterfalls show scored pairs with personal data removed (match weights only). The cluster
studio (record values) is opt-in: ``save_charts(..., clusters=N)``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
from splink.internals.charts import chart_html

from resolution import threshold as threshold_chart
from resolution.pipeline import MatchResult

log = logging.getLogger(__name__)

CHART_FILES = {
    "match_weights": "match_weights.html",
    "m_u_parameters": "m_u_parameters.html",
    "waterfall": "waterfall_sample.html",
    "cluster_studio": "cluster_studio.html",
    "threshold": "threshold.html",
    "threshold_table": "threshold.json",
}


def save_threshold_chart(
    result: MatchResult, reports_dir: Path, threshold: float, truth: pd.DataFrame | None = None
) -> dict[str, Path]:
    """``threshold.html`` and ``threshold.json``: match weights, with truth P / R / F1 too."""
    if result.predictions is None or result.backend is None:
        return {}
    truth_table = true_pairs = None
    if truth is not None:
        truth_table = result.backend.register(
            pa.Table.from_pandas(truth[["record_id", "person_id"]], preserve_index=False), "truth"
        )
        sizes = truth["person_id"].value_counts().to_numpy(dtype="int64")
        true_pairs = int((sizes * (sizes - 1) // 2).sum())
    # Counted in the database: the pairs (tens of millions at 1M people) never reach pandas.
    counted = result.predictions.query_sql(
        threshold_chart.weight_counts_sql(
            "{this}", truth_table.physical_name if truth_table is not None else None
        )
    )
    counts = result.backend.to_arrow(counted).to_pandas()
    counted.drop_table_from_database_and_remove_from_cache()
    if truth_table is not None:  # registered by us, not created by Splink
        truth_table.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
    table, bins = threshold_chart.from_counts(counts, true_pairs)
    scored = int(counts["pairs"].sum()) if len(counts) else 0
    spec = threshold_chart.chart_spec(bins, table, threshold, f"{scored:,} scored pairs")
    html_path = reports_dir / CHART_FILES["threshold"]
    html_path.write_text(chart_html(spec, inline=True, fullhtml=True), encoding="utf-8")
    json_path = reports_dir / CHART_FILES["threshold_table"]
    json_path.write_text(
        json.dumps(
            {"threshold": threshold, "true_pairs": true_pairs, "rows": table.to_dict("records")},
            indent=1,
        ),
        encoding="utf-8",
    )
    return {"threshold": html_path, "threshold_table": json_path}


def save_charts(
    result: MatchResult,
    reports_dir: Path,
    waterfall_pairs: int = 20,
    clusters: int = 0,
    threshold: float | None = None,
    truth: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write the run's charts; returns ``{chart: path}`` of the files written.

    With ``threshold`` the threshold chart is written too (with P / R / F1 when ``truth``,
    ``record_id`` / ``person_id``, is given).

    The cluster studio shows the clustered records' values (names, phones, e-mails): PII in a
    report (issue 17), so it is drawn only when ``clusters`` > 0 is asked for (a debugging
    session on a non-production lakehouse).

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
    if threshold is not None:
        written.update(save_threshold_chart(result, reports_dir, threshold, truth))

    # LIMIT in the query: a top-N the engine keeps in bounded memory (sorting every scored pair
    # to take a few ran DuckDB out of its memory limit at 1M people).
    sample = result.predictions.query_sql(
        "SELECT * FROM {this} ORDER BY abs(match_weight), record_key_l, record_key_r "
        f"LIMIT {int(waterfall_pairs)}"
    )
    pairs = sample.as_record_list()
    sample.drop_table_from_database_and_remove_from_cache()
    if pairs:
        linker.visualisations.waterfall_chart(pairs, remove_sensitive_data=True).save_offline_chart(
            str(path("waterfall")), overwrite=True, print_msg=False
        )
        written["waterfall"] = path("waterfall")
    else:
        log.warning("no scored pair: waterfall chart left out")

    if clusters and result.splink_clusters is not None and result.clustering.edges_above_threshold:
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
