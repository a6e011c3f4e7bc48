"""Match quality against ground truth: pairwise precision / recall / F1 and cluster figures.

Pairs are counted, never listed: a group of n records holds n(n-1)/2 pairs, so predicted pairs
are summed over clusters, true pairs over persons, and true positives over the (cluster, person)
cells of their cross-tabulation. Only records present in both the prediction and the truth count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from c360.errors import InputError

TRUTH_FILE = "person_truth.csv"  # source_system, source_record_id, person_id
# Below this share of the run's records found in the truth, the truth is likely of another data
# set (or stale): the metrics are still computed, with a warning.
MIN_TRUTH_COVERAGE = 0.5


@dataclass(frozen=True)
class MatchMetrics:
    """Pairwise and cluster-level figures of one clustering against the truth."""

    records: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    precision: float
    recall: float
    f1: float
    persons: int
    clusters: int
    clusters_exact: int  # clusters whose records are exactly one person's records
    clusters_merging_persons: int  # clusters holding records of two or more persons
    persons_split: int  # persons whose records fall in two or more clusters

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs(sizes: pd.Series) -> int:
    sizes = sizes.astype("int64")
    return int((sizes * (sizes - 1) // 2).sum())


def evaluate_clusters(predicted: pd.DataFrame, truth: pd.DataFrame) -> MatchMetrics:
    """Compare ``predicted`` (record_id, cluster_id) with ``truth`` (record_id, person_id).

    Args:
        predicted: one row per record: ``record_id`` and ``cluster_id``.
        truth: one row per record: ``record_id`` and ``person_id``.

    Example:
        Records a, b, c of one person clustered as {a, b} {c}: 1 predicted pair, 3 true
        pairs, 1 true positive: precision 1.0, recall 1/3.
    """
    joined = predicted[["record_id", "cluster_id"]].merge(
        truth[["record_id", "person_id"]], on="record_id", how="inner"
    )
    predicted_pairs = _pairs(joined.groupby("cluster_id").size())
    true_pairs = _pairs(joined.groupby("person_id").size())
    cells = joined.groupby(["cluster_id", "person_id"]).size()
    true_positives = _pairs(cells)
    precision = true_positives / predicted_pairs if predicted_pairs else 1.0
    recall = true_positives / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    persons_per_cluster = cells.reset_index().groupby("cluster_id").size()
    clusters_per_person = cells.reset_index().groupby("person_id").size()
    cluster_sizes = joined.groupby("cluster_id").size()
    person_sizes = joined.groupby("person_id").size()
    cell_frame = cells.rename("n").reset_index()
    exact = cell_frame[
        (cell_frame["n"].to_numpy() == cluster_sizes.loc[cell_frame["cluster_id"]].to_numpy())
        & (cell_frame["n"].to_numpy() == person_sizes.loc[cell_frame["person_id"]].to_numpy())
    ]
    return MatchMetrics(
        records=len(joined),
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        true_positive_pairs=true_positives,
        precision=round(precision, 6),
        recall=round(recall, 6),
        f1=round(f1, 6),
        persons=int(joined["person_id"].nunique()),
        clusters=int(joined["cluster_id"].nunique()),
        clusters_exact=len(exact),
        clusters_merging_persons=int((persons_per_cluster > 1).sum()),
        persons_split=int((clusters_per_person > 1).sum()),
    )


def read_truth(truth_root: Path) -> pd.DataFrame:
    """The truth table beside generated extracts: ``record_id`` (record_key form), ``person_id``.

    Raises:
        InputError: no ``person_truth.csv`` under ``truth_root`` (not retried).
    """
    path = Path(truth_root) / TRUTH_FILE
    if not path.is_file():
        raise InputError(
            f"no truth table {path}: expected source_system, source_record_id, person_id "
            "(pass the folder `c360 generate` wrote the truth to, or no truth folder)"
        )
    truth = pd.read_csv(path, dtype=str, keep_default_na=False)
    truth["record_id"] = truth["source_system"] + ":" + truth["source_record_id"]
    return truth[["record_id", "person_id"]]


def evaluate_identity_map(identity_map: pd.DataFrame, truth: pd.DataFrame) -> MatchMetrics:
    """Evaluate a gold/identity_map frame (customer_id as the cluster) against the truth."""
    predicted = pd.DataFrame(
        {"record_id": _record_ids(identity_map), "cluster_id": identity_map["customer_id"]}
    )
    return evaluate_clusters(predicted, truth)


def truth_coverage(identity_map: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Share of the map's records that the truth knows (1.0 for an empty map)."""
    if not len(identity_map):
        return 1.0
    return float(_record_ids(identity_map).isin(truth["record_id"]).mean())


def truth_of_present_records(identity_map: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The truth rows of the records in the map: the charts' true pairs then count only pairs
    the run could have found (a truth written ahead of the landed days knows more records)."""
    return truth[truth["record_id"].isin(_record_ids(identity_map))]


def _record_ids(identity_map: pd.DataFrame) -> pd.Series:
    """The map's records in the truth's ``record_id`` form (``<source_system>:<id>``)."""
    return identity_map["source_system"] + ":" + identity_map["source_record_id"]


def truth_warning(coverage: float) -> str | None:
    """A warning when the truth covers too few of the run's records to judge it."""
    if coverage >= MIN_TRUTH_COVERAGE:
        return None
    return (
        f"the truth table covers only {coverage:.1%} of this run's records (below "
        f"{MIN_TRUTH_COVERAGE:.0%}): it is probably from another data set, so the match metrics "
        "say little; pass the truth folder generated with these extracts"
    )
