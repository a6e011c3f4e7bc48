"""The customer-level helpers on hand-made values (pure logic, no Spark).

The families themselves are checked end to end in test_families.py; these pin down the
semantics carried over from Spark SQL: ``floor(months_between(D, birth) / 12)`` for ages,
``percentile_approx`` (exact) for the RFM thresholds, the cast to the catalog's dtype.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from features.customer import age_years, quantile_thresholds, typed

EPOCH = date(1970, 1, 1)


def days(*dates: date | None) -> np.ndarray:
    return np.array([np.nan if d is None else float((d - EPOCH).days) for d in dates])


def test_age_counts_whole_years_the_way_months_between_does():
    as_of = date(2026, 3, 1)
    born = days(
        date(1990, 3, 1),  # birthday on D: 36
        date(1990, 3, 2),  # birthday the day after D: still 35
        date(1990, 2, 28),  # 36
        date(2000, 2, 29),  # leap day: 26 on 2026-03-01
        date(1960, 12, 31),  # before 1970 (negative days): 65
        date(2026, 3, 1),  # born on D: not born before D, null
        date(2027, 1, 1),  # in the future: null
        None,
    )
    assert age_years(born, as_of).tolist()[:5] == [36, 35, 36, 26, 65]
    assert np.isnan(age_years(born, as_of)[5:]).all()


def test_age_on_month_ends_counts_whole_months():
    # born on a leap day: months_between(2026-02-28, 2000-02-29) is 312 whole months (both are
    # last days of their month), so 26 on the 28th of a common year, not 25
    assert age_years(days(date(2000, 2, 29)), date(2026, 2, 28)).tolist() == [26]
    # (2026-02-27, 1990-02-28): 431 months + (27 - 28) / 31 -> 35 years
    assert age_years(days(date(1990, 2, 28)), date(2026, 2, 27)).tolist() == [35]


def test_quantile_thresholds_take_the_value_at_rank_ceil_q_n():
    values = np.array([5.0, 1.0, np.nan, 3.0, 2.0, 4.0])  # 5 values: 1..5
    # ranks ceil(0.2 * 5) = 1, 2, 3, 4
    assert quantile_thresholds(values, [0.2, 0.4, 0.6, 0.8]) == [1.0, 2.0, 3.0, 4.0]
    assert quantile_thresholds(np.arange(1.0, 11.0), [0.25, 0.95]) == [3.0, 10.0]
    assert quantile_thresholds(np.array([1.0, 40.0]), [0.2, 0.6]) == [1.0, 40.0]
    assert quantile_thresholds(np.array([np.nan]), [0.5, 0.9]) == [None, None]


def test_typed_columns_truncate_integers_and_keep_nulls():
    assert typed(np.array([1.9, -1.9, np.nan]), "int").to_pylist() == [1, -1, None]
    assert typed(np.array([2.5, np.nan]), "double").to_pylist() == [2.5, None]
    assert typed(np.array([3.0]), "bigint").type.bit_width == 64
    assert typed(np.array(["a", None], dtype=object), "string").to_pylist() == ["a", None]
    with pytest.raises(KeyError):
        typed(np.array([1.0]), "decimal")


@pytest.mark.spark
def test_age_matches_spark_months_between(spark):
    rng = np.random.default_rng(5)
    born = rng.integers(-15_000, 20_600, size=3_000).astype(np.float64)  # 1928..2026
    born[:4] = days(date(2000, 2, 29), date(1999, 1, 31), date(1980, 4, 30), date(1975, 3, 1))
    as_of_dates = (date(2026, 3, 1), date(2026, 2, 28), date(2028, 2, 29), date(2026, 4, 30))
    for as_of in as_of_dates:
        frame = spark.createDataFrame([(int(b),) for b in born], "born int").selectExpr(
            f"floor(months_between(DATE'{as_of}', date_add(DATE'1970-01-01', born)) / 12) AS age",
            f"date_add(DATE'1970-01-01', born) < DATE'{as_of}' AS before",
        )
        expected = [row.age if row.before else None for row in frame.collect()]
        ages = age_years(born, as_of)
        assert [None if np.isnan(a) else int(a) for a in ages] == expected, as_of
