"""The threshold chart: the match-weight distribution of scored pairs and, with truth, pairwise
precision, recall and F1 against the threshold.

Computed over the scored pairs before the guard and clustering, so it shows what the threshold
alone does. Written by :func:`resolution.charts.save_charts` as ``threshold.html`` (a vega-lite
chart, vega embedded) beside a ``threshold.json`` of the same figures. No personal data: only
match weights and counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

BIN_WIDTH = 1.0  # match-weight units per histogram bar


def probability_to_weight(probability: float) -> float:
    """The match weight (log2 Bayes factor) of a match probability."""
    return math.log2(probability / (1 - probability))


def label_pairs(pairs: pd.DataFrame, truth: pd.DataFrame) -> tuple[pd.Series, int]:
    """Per scored pair, whether both records are one person; and how many true pairs exist.

    Args:
        pairs: ``record_key_l``, ``record_key_r`` (and anything else).
        truth: ``record_id`` (record_key form) and ``person_id``.

    Returns:
        ``(is_true, true_pairs)``: only records present in ``truth`` count as true.
    """
    person = truth.set_index("record_id")["person_id"]
    left, right = pairs["record_key_l"].map(person), pairs["record_key_r"].map(person)
    is_true = left.notna() & (left == right)
    sizes = truth["person_id"].value_counts().to_numpy(dtype="int64")
    return is_true, int((sizes * (sizes - 1) // 2).sum())


def threshold_table(
    weights: pd.Series, is_true: pd.Series | None = None, true_pairs: int | None = None
) -> pd.DataFrame:
    """Pairs at or above each whole match weight; with truth, precision / recall / F1 there.

    Example:
        Weights [-3, 2, 5] labelled [False, True, True], 2 true pairs: at weight 0 two pairs
        are above, both true: precision 1.0, recall 1.0.
    """
    values = weights.to_numpy(dtype="float64")
    if len(values) == 0:
        return pd.DataFrame(columns=["match_weight", "match_probability", "pairs_at_or_above"])
    grid = np.arange(math.floor(values.min()), math.ceil(values.max()) + 1, dtype="float64")
    order = np.sort(values)
    at_or_above = len(order) - np.searchsorted(order, grid, side="left")
    table = pd.DataFrame(
        {
            "match_weight": grid,
            "match_probability": 1 / (1 + np.power(2.0, -grid)),
            "pairs_at_or_above": at_or_above,
        }
    )
    if is_true is not None and true_pairs:
        true_values = np.sort(values[is_true.to_numpy(dtype=bool)])
        hits = len(true_values) - np.searchsorted(true_values, grid, side="left")
        precision = np.divide(hits, at_or_above, out=np.ones(len(grid)), where=at_or_above > 0)
        recall = hits / true_pairs
        total = precision + recall
        f1 = np.divide(2 * precision * recall, total, out=np.zeros(len(grid)), where=total > 0)
        table["precision"], table["recall"], table["f1"] = precision, recall, f1
    return table


def histogram(weights: pd.Series, is_true: pd.Series | None = None) -> pd.DataFrame:
    """Scored pairs per match-weight bin (``BIN_WIDTH`` wide), split by truth when given."""
    bins = np.floor(weights.to_numpy(dtype="float64") / BIN_WIDTH) * BIN_WIDTH
    frame = pd.DataFrame({"bin": bins})
    if is_true is None:
        frame["pairs"] = "scored"
    else:
        frame["pairs"] = np.where(is_true.to_numpy(dtype=bool), "true match", "non-match")
    return frame.groupby(["bin", "pairs"]).size().rename("count").reset_index()


def weight_counts_sql(pairs: str, truth: str | None = None) -> str:
    """SQL counting the scored pairs per whole match weight (and, with truth, true or not).

    ``pairs`` and ``truth`` (``record_id``, ``person_id``) are table names; the pairs never
    leave the database: what comes back is a few hundred rows ``bin, is_true, pairs, lo, hi``
    (``lo`` / ``hi``: the smallest and largest weight in the bin), for :func:`from_counts`.
    """
    if truth is None:
        return f"""
            SELECT floor(match_weight) AS bin, CAST(NULL AS BOOLEAN) AS is_true,
                   count(*) AS pairs, min(match_weight) AS lo, max(match_weight) AS hi
            FROM {pairs} GROUP BY floor(match_weight)
            """
    return f"""
        SELECT floor(p.match_weight) AS bin,
               coalesce(tl.person_id = tr.person_id, FALSE) AS is_true,
               count(*) AS pairs, min(p.match_weight) AS lo, max(p.match_weight) AS hi
        FROM {pairs} p
        LEFT JOIN {truth} tl ON tl.record_id = p.record_key_l
        LEFT JOIN {truth} tr ON tr.record_id = p.record_key_r
        GROUP BY 1, 2
        """


def from_counts(
    counts: pd.DataFrame, true_pairs: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(threshold_table, histogram)`` from the counts of :func:`weight_counts_sql`.

    The same figures :func:`threshold_table` and :func:`histogram` compute from every pair's
    weight: a pair is at or above a whole weight ``g`` exactly when its bin ``floor(w)`` is.
    """
    labelled = counts["is_true"].notna().any()
    if len(counts) == 0:
        return threshold_table(pd.Series([], dtype="float64")), histogram(
            pd.Series([], dtype="float64")
        )
    grid = np.arange(
        math.floor(counts["lo"].min()), math.ceil(counts["hi"].max()) + 1, dtype="float64"
    )

    def at_or_above(rows: pd.DataFrame) -> np.ndarray:
        per_bin = rows.groupby("bin")["pairs"].sum().reindex(grid, fill_value=0)
        return per_bin.to_numpy()[::-1].cumsum()[::-1].astype("int64")

    scored = at_or_above(counts)
    table = pd.DataFrame(
        {
            "match_weight": grid,
            "match_probability": 1 / (1 + np.power(2.0, -grid)),
            "pairs_at_or_above": scored,
        }
    )
    if labelled and true_pairs:
        hits = at_or_above(counts[counts["is_true"].astype(bool)])
        precision = np.divide(hits, scored, out=np.ones(len(grid)), where=scored > 0)
        recall = hits / true_pairs
        total = precision + recall
        f1 = np.divide(2 * precision * recall, total, out=np.zeros(len(grid)), where=total > 0)
        table["precision"], table["recall"], table["f1"] = precision, recall, f1
    label = (
        np.where(counts["is_true"].astype(bool), "true match", "non-match")
        if labelled
        else "scored"
    )
    bins = (
        pd.DataFrame(
            {"bin": counts["bin"].astype("float64"), "pairs": label, "count": counts["pairs"]}
        )
        .groupby(["bin", "pairs"])["count"]
        .sum()
        .reset_index()
    )
    bins["count"] = bins["count"].astype("int64")
    return table, bins


def chart_spec(
    bins: pd.DataFrame, table: pd.DataFrame, threshold: float, title: str
) -> dict[str, object]:
    """A vega-lite spec: the histogram above, the precision / recall / F1 curves below.

    Long because it is one declarative chart spec, kept whole so it reads like vega-lite.
    """
    cut = probability_to_weight(threshold)
    rule = {
        "mark": {"type": "rule", "color": "black", "strokeDash": [4, 4]},
        "encoding": {"x": {"datum": cut}},
    }
    x = {"field": "match_weight", "type": "quantitative", "title": "match weight (log2 BF)"}
    upper = {
        "height": 220,
        "width": 640,
        "title": f"{title}: scored pairs per match weight (dashed: threshold {threshold})",
        "layer": [
            {
                "data": {"values": bins.rename(columns={"bin": "match_weight"}).to_dict("records")},
                "mark": {"type": "bar", "binSpacing": 0},
                "encoding": {
                    "x": {**x, "bin": {"binned": True, "step": BIN_WIDTH}},
                    "x2": {"field": "bin_end"},
                    "y": {"field": "count", "type": "quantitative", "scale": {"type": "symlog"}},
                    "color": {"field": "pairs", "type": "nominal"},
                    "tooltip": [{"field": "match_weight"}, {"field": "pairs"}, {"field": "count"}],
                },
                "transform": [{"calculate": f"datum.match_weight + {BIN_WIDTH}", "as": "bin_end"}],
            },
            rule,
        ],
    }
    spec: dict[str, object] = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json"}
    if "precision" not in table.columns:
        return {**spec, **upper}
    curves = table.melt(
        id_vars=["match_weight", "match_probability"],
        value_vars=["precision", "recall", "f1"],
        var_name="measure",
    )
    lower = {
        "height": 220,
        "width": 640,
        "title": "pairwise precision, recall and F1 of the pairs at or above the threshold",
        "layer": [
            {
                "data": {"values": curves.to_dict("records")},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": x,
                    "y": {"field": "value", "type": "quantitative", "scale": {"zero": False}},
                    "color": {"field": "measure", "type": "nominal"},
                    "tooltip": [
                        {"field": "match_weight"},
                        {"field": "match_probability", "format": ".6f"},
                        {"field": "measure"},
                        {"field": "value", "format": ".4f"},
                    ],
                },
            },
            rule,
        ],
    }
    return {**spec, "vconcat": [upper, lower]}
