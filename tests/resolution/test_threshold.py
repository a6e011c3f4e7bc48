"""The threshold chart's figures (pure logic) and the files a run writes."""

import json

import pandas as pd
import pytest

from resolution.threshold import (
    chart_spec,
    histogram,
    label_pairs,
    probability_to_weight,
    threshold_table,
)


def test_threshold_table_counts_pairs_and_scores_them_against_the_truth():
    pairs = pd.DataFrame(
        {
            "record_key_l": ["a", "a", "c", "d"],
            "record_key_r": ["b", "c", "e", "f"],
            "match_weight": [6.2, -3.5, 1.4, 9.0],
        }
    )
    truth = pd.DataFrame(
        {"record_id": list("abcdefg"), "person_id": ["p", "p", "q", "r", "q", "s", "q"]}
    )
    is_true, true_pairs = label_pairs(pairs, truth)
    assert is_true.tolist() == [True, False, True, False]
    assert true_pairs == 1 + 3  # {a, b}; {c, e, g}
    table = threshold_table(pairs["match_weight"], is_true, true_pairs).set_index("match_weight")
    assert table.index.min() == -4 and table.index.max() == 9
    at_zero = table.loc[0.0]
    assert at_zero["pairs_at_or_above"] == 3  # 1.4, 6.2, 9.0
    assert at_zero["precision"] == pytest.approx(2 / 3)
    assert at_zero["recall"] == pytest.approx(2 / 4)
    assert table.loc[7.0, "precision"] == 0.0 and table.loc[7.0, "recall"] == 0.0
    assert table.loc[0.0, "match_probability"] == pytest.approx(0.5)


def test_histogram_and_spec_hold_no_record_keys():
    weights = pd.Series([0.2, 0.7, 3.1])
    bins = histogram(weights, pd.Series([False, True, True]))
    assert bins.to_dict("records") == [
        {"bin": 0.0, "pairs": "non-match", "count": 1},
        {"bin": 0.0, "pairs": "true match", "count": 1},
        {"bin": 3.0, "pairs": "true match", "count": 1},
    ]
    spec = chart_spec(bins, threshold_table(weights, None, None), 0.9, "3 scored pairs")
    assert "vconcat" not in spec  # no truth: the histogram only
    assert probability_to_weight(0.9) == pytest.approx(3.1699, abs=1e-4)
    assert "record_key" not in json.dumps(spec)


@pytest.mark.parametrize("with_truth", [True, False])
def test_counts_in_the_database_give_the_figures_of_every_pair_in_pandas(with_truth):
    import duckdb

    from resolution.threshold import from_counts, weight_counts_sql

    pairs = pd.DataFrame(
        {
            "record_key_l": ["a", "a", "c", "d", "b", "x", "g"],
            "record_key_r": ["b", "c", "e", "f", "c", "y", "e"],
            "match_weight": [6.2, -3.5, 1.4, 9.0, 6.0, -0.5, 6.5],
        }
    )
    truth = pd.DataFrame(
        {"record_id": list("abcdefg"), "person_id": ["p", "p", "q", "r", "q", "s", "q"]}
    )
    is_true, true_pairs = label_pairs(pairs, truth) if with_truth else (None, None)
    connection = duckdb.connect()
    connection.register("pairs", pairs)
    connection.register("truth", truth)
    sql = weight_counts_sql("pairs", "truth" if with_truth else None)
    counts = connection.sql(sql).df()
    assert len(counts) < len(pairs)  # grouped: 6.2 and 6.5 (both true) share a bin
    table, bins = from_counts(counts, true_pairs)
    expected = threshold_table(pairs["match_weight"], is_true, true_pairs)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    expected_bins = histogram(pairs["match_weight"], is_true)
    pd.testing.assert_frame_equal(
        bins.sort_values(["bin", "pairs"], ignore_index=True),
        expected_bins.sort_values(["bin", "pairs"], ignore_index=True),
        check_dtype=False,
    )
