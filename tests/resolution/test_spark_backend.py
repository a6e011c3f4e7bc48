"""Splink on Spark with the same settings and saved model as on DuckDB."""

import pytest

from resolution.linker import (
    SPARK_SIMILARITY_PROBES,
    DuckDBBackend,
    SparkBackend,
    missing_spark_functions,
)
from resolution.pipeline import match_records

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_splink_similarity_functions_really_registered(spark):
    SparkBackend(spark)  # registers Splink's UDFs from the jar on spark.jars
    assert missing_spark_functions(spark) == []
    row = spark.sql(
        "SELECT jaro_winkler('martha', 'marhta') AS jw, jaro_sim('martha', 'marhta') AS j, "
        "damerau_levenshtein('martha', 'marhta') AS dl"
    ).collect()[0]
    # Textbook values: Jaro 0.9444, Jaro-Winkler 0.9611, one transposition.
    assert row["jw"] == pytest.approx(0.961111, abs=1e-5)
    assert row["j"] == pytest.approx(0.944444, abs=1e-5)
    assert row["dl"] == 1.0
    assert set(SPARK_SIMILARITY_PROBES) <= {f.name for f in spark.catalog.listFunctions()}


def test_same_model_same_predictions_on_spark_and_duckdb(
    spark, small_records, identity_config, trained_model
):
    records, _ = small_records  # the model was trained on other records of the same shape
    on_duckdb = match_records(records, DuckDBBackend(), identity_config, 0.95, model=trained_model)
    on_spark = match_records(
        records, SparkBackend(spark), identity_config, 0.95, model=trained_model
    )
    assert trained_model.trained_on == "duckdb"
    assert on_spark.pairs_scored == on_duckdb.pairs_scored > 0

    def scores(result):
        table = result.predictions.as_pandas_dataframe()
        return {
            (row.record_key_l, row.record_key_r): row.match_probability
            for row in table.itertuples()
        }

    duck, sprk = scores(on_duckdb), scores(on_spark)
    assert duck.keys() == sprk.keys()
    assert max(abs(duck[k] - sprk[k]) for k in duck) < 1e-9
    groups = [
        r.clusters.to_pandas().groupby("cluster_id")["record_key"].apply(frozenset).tolist()
        for r in (on_duckdb, on_spark)
    ]
    assert set(groups[0]) == set(groups[1])
