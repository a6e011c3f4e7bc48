"""Pairwise and cluster figures on tiny inputs, counted by hand."""

import pandas as pd
import pytest

from resolution.evaluation import evaluate_clusters, truth_of_present_records


def frame(column: str, groups: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"record_id": list(groups), column: list(groups.values())})


def test_exact_counts():
    # Truth: P1 = {a, b, c}, P2 = {d, e}, P3 = {f}: 3 + 1 = 4 true pairs.
    truth = frame("person_id", {"a": "P1", "b": "P1", "c": "P1", "d": "P2", "e": "P2", "f": "P3"})
    # Predicted: {a, b}, {c}, {d, e, f}: 1 + 3 = 4 predicted pairs; true positives a-b, d-e = 2.
    predicted = frame("cluster_id", {"a": "X", "b": "X", "c": "Y", "d": "Z", "e": "Z", "f": "Z"})
    metrics = evaluate_clusters(predicted, truth)
    assert (metrics.true_pairs, metrics.predicted_pairs, metrics.true_positive_pairs) == (4, 4, 2)
    assert metrics.precision == metrics.recall == 0.5
    assert metrics.f1 == 0.5
    assert metrics.clusters == 3 and metrics.persons == 3
    assert metrics.clusters_exact == 0  # X and Y are parts of P1; Z mixes P2 and P3
    assert metrics.clusters_merging_persons == 1  # Z
    assert metrics.persons_split == 1  # P1


def test_perfect_clustering():
    truth = frame("person_id", {"a": "P1", "b": "P1", "c": "P2"})
    predicted = frame("cluster_id", {"a": "1", "b": "1", "c": "2"})
    metrics = evaluate_clusters(predicted, truth)
    assert (metrics.precision, metrics.recall, metrics.f1) == (1.0, 1.0, 1.0)
    assert metrics.clusters_exact == 2


def test_only_records_in_both_count():
    truth = frame("person_id", {"a": "P1", "b": "P1"})
    predicted = frame("cluster_id", {"a": "1", "b": "1", "zz": "1"})  # zz has no truth
    metrics = evaluate_clusters(predicted, truth)
    assert metrics.records == 2 and metrics.predicted_pairs == 1


def test_recall_one_third():
    truth = frame("person_id", {"a": "P", "b": "P", "c": "P"})
    predicted = frame("cluster_id", {"a": "1", "b": "1", "c": "2"})
    metrics = evaluate_clusters(predicted, truth)
    assert metrics.precision == 1.0
    assert metrics.recall == pytest.approx(1 / 3, abs=1e-6)


def test_the_charts_truth_keeps_only_the_records_of_the_map():
    truth = frame("person_id", {"crm:1": "P1", "erp:1": "P1", "crm:9": "P1", "crm:2": "P2"})
    identity_map = pd.DataFrame(
        {"source_system": ["crm", "erp", "crm"], "source_record_id": ["1", "1", "2"],
         "customer_id": ["C1", "C1", "C2"]}
    )  # fmt: skip
    present = truth_of_present_records(identity_map, truth)
    assert present["record_id"].tolist() == ["crm:1", "erp:1", "crm:2"]  # crm:9 not landed yet
