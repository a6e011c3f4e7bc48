"""Point-in-time correctness, and the Dagster assets and their blocking check on small tables.

A reduced spec (the real conf/features.yaml with fewer slice values and measures, every family
kept) keeps these builds fast; the full spec is exercised in test_families.py.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest
import yaml
from feature_tables import AS_OF, golden, identity, member, points, tx, write_tables
from test_families import GOLDEN, IDENTITY, MEMBERS, POINTS, TRANSACTIONS

from assets.features import (
    CHECK_NAME,
    FEATURES_JOB,
    customer_features,
    feature_catalog,
    features_definitions,
)
from assets.partitions import AS_OF_DATES
from assets.resources import build_resources
from c360.config import load_settings
from c360.lakehouse import Lakehouse
from c360.local_time import as_of_partition_key, default_as_of_date
from c360.tables import GOLD_CUSTOMER_FEATURES, GOLD_FEATURE_CATALOG
from features.compiler import build_customer_features
from features.events import read_feature_inputs
from features.spec import DEFAULT_SPEC_PATH, expand, load_spec

pytestmark = pytest.mark.spark


def small_spec(path, channels=("store", "web"), flat_measure=False, min_customers=1):
    """conf/features.yaml cut down to a few slice values and measures, every family kept.

    ``flat_measure`` adds ``tx_discount_max_ch_<channel>_life``, which is 0 for every customer
    of a channel whose purchases carry no discount (no test row has one in store).
    """
    raw = yaml.safe_load(DEFAULT_SPEC_PATH.read_text(encoding="utf-8"))
    raw["checks"] = {"min_customers": min_customers}
    raw["slices"] = {
        "channel": {**raw["slices"]["channel"], "values": {
            c: raw["slices"]["channel"]["values"][c] for c in channels}},
    }  # fmt: skip
    raw["families"] = {
        "transactions": {"prefix": "tx", "source": "transactions", "groups": [
            {"slices": ["all", "channel"], "windows": ["d7", "d30", "life"],
             "measures": ["count", "amount_sum", "amount_mean", "distinct_days"]}]},
        "recency": {"prefix": "rec", "source": "transactions", "window_in_name": False,
                    "groups": [{"slices": ["all", "channel"], "windows": ["life"],
                                "measures": ["days_since_last", "days_since_first"]}]},
        "trends": {"prefix": "trend", "source": "transactions", "groups": [
            {"slices": ["all"], "comparisons": ["30v30"], "measures": ["count_delta"]}]},
        "refunds": {"prefix": "ref", "source": "transactions", "groups": [
            {"slices": ["all"], "windows": ["d30", "life"],
             "measures": ["refund_count", "refund_rate"]}]},
        "vouchers": {"prefix": "vch", "source": "transactions", "groups": [
            {"slices": ["all"], "windows": ["d30", "life"],
             "measures": ["used_count", "distinct_codes"]}]},
        "loyalty_points": {"prefix": "loy", "source": "loyalty_points", "groups": [
            {"slices": ["all"], "windows": ["d30", "life"],
             "measures": ["points_earned", "points_net"]}]},
    }  # fmt: skip
    if flat_measure:
        raw["measures"]["discount_max"] = {
            "agg": "max", "value": "discount", "where": "purchase", "dtype": "double",
            "fill": 0, "en": "Largest voucher discount", "vi": "Mức giảm giá lớn nhất",
        }  # fmt: skip
        raw["families"]["transactions"]["groups"].append(
            {"slices": ["channel"], "windows": ["life"], "measures": ["discount_max"]}
        )
    raw["first_use"] = {
        "prefix": "rec", "rank_slices": ["channel"], "first_last_slices": ["channel"],
        "top_slices": ["channel"], "top_window": "d365",
    }  # fmt: skip
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _build(lake, spec):
    table = build_customer_features(read_feature_inputs(lake), spec, AS_OF).table
    return sorted(table.to_pylist(), key=lambda row: row["customer_id"])


def test_events_on_or_after_the_as_of_date_change_nothing(spark, tmp_path):
    spec = load_spec(small_spec(tmp_path / "features.yaml"))
    lake = Lakehouse(tmp_path / "lake", spark)
    write_tables(lake, TRANSACTIONS, IDENTITY, GOLDEN, POINTS, MEMBERS)
    before = _build(lake, spec)

    # on D and after it: purchases, a refund, a voucher, points, a new card, a new customer
    later = [
        tx("crm:CT1", 0, 10_000, channel="web"),
        tx("crm:CT1", -1, 20_000, status="refunded"),
        tx("erp:KH2", -30, 30_000, voucher="FREESHIP", discount=5_000),
        tx("crm:CT5", -2, 40_000),
    ]
    write_tables(
        lake,
        TRANSACTIONS + later,
        [*IDENTITY, identity("crm:CT5", "C5"), identity("loyalty:LM5", "C1")],
        [*GOLDEN, golden("C5", -2)],
        [*POINTS, points("LM1", -3, "redeem", -10), points("LM5", 0, "earn", 500)],
        [*MEMBERS, member("LM5", "platinum", "active", 0, 0)],
    )
    assert _build(lake, spec) == before

    # the same events do count once they are before the as-of date (the test can fail)
    later = build_customer_features(read_feature_inputs(lake), spec, AS_OF + timedelta(days=31))
    later_rows = {row["customer_id"]: row for row in later.table.to_pylist()}
    assert later_rows["C1"]["tx_count_life"] == before[0]["tx_count_life"] + 2  # t6 and web
    assert "C5" in later_rows


def test_default_as_of_date_is_the_day_after_the_last_landed_day():
    days = [AS_OF - timedelta(days=2), AS_OF - timedelta(days=1)]
    assert default_as_of_date(days) == AS_OF
    assert as_of_partition_key(AS_OF) == "2026-03-01"
    with pytest.raises(ValueError, match="no landed day"):
        default_as_of_date([])


def _materialize(tmp_path, spec_path):
    settings = load_settings(environ={}, overrides={"lakehouse_root": str(tmp_path / "lake")})
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(AS_OF_DATES.name, [as_of_partition_key(AS_OF)])
    config = {"config": {"spec_path": str(spec_path)}}
    result = dg.materialize(
        [feature_catalog, customer_features],
        instance=instance,
        resources=build_resources(settings),
        partition_key=as_of_partition_key(AS_OF),
        run_config={"ops": {"gold__feature_catalog": config, "gold__customer_features": config}},
        raise_on_error=False,
    )
    return result, settings


def test_materialize_writes_the_catalog_and_a_checked_snapshot(spark, tmp_path):
    spec_path = small_spec(tmp_path / "features.yaml")
    settings = load_settings(environ={}, overrides={"lakehouse_root": str(tmp_path / "lake")})
    write_tables(
        Lakehouse(settings.lakehouse_root, spark), TRANSACTIONS, IDENTITY, GOLDEN, POINTS, MEMBERS
    )
    result, _ = _materialize(tmp_path, spec_path)
    assert result.success
    names = [f.name for f in expand(load_spec(spec_path))]

    (catalog_event,) = result.asset_materializations_for_node("gold__feature_catalog")
    assert catalog_event.metadata["features"].value == len(names)
    (features_event,) = result.asset_materializations_for_node("gold__customer_features")
    assert features_event.partition == "2026-03-01"
    metadata = features_event.metadata
    assert (metadata["features"].value, metadata["customers"].value) == (len(names), 3)
    # every column varies over C1..C3 except the consent flags (no source states SMS or
    # data-use consent here), which the spec tolerates
    tolerated = {"prof_consent_sms", "prof_consent_data_use", "prof_contactable_sms"}
    assert metadata["non_constant_features"].value == len(names) - len(tolerated)
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == CHECK_NAME and check.passed
    assert set(check.metadata["tolerated"].value) == tolerated

    lake = Lakehouse(settings.lakehouse_root, spark)
    table = lake.read_arrow(GOLD_CUSTOMER_FEATURES)
    catalog = lake.read_arrow(GOLD_FEATURE_CATALOG)
    # the catalog matches the table's columns exactly
    assert table.schema.names == ["customer_id", "as_of_date", *catalog.column("name").to_pylist()]
    assert sorted(table.column("customer_id").to_pylist()) == ["C1", "C2", "C3"]


def _checked(spark, tmp_path, spec_path):
    settings = load_settings(environ={}, overrides={"lakehouse_root": str(tmp_path / "lake")})
    write_tables(
        Lakehouse(settings.lakehouse_root, spark), TRANSACTIONS, IDENTITY, GOLDEN, POINTS, MEMBERS
    )
    result, _ = _materialize(tmp_path, spec_path)
    (check,) = result.get_asset_check_evaluations()
    return result, check


def test_the_check_fails_the_run_on_a_constant_column_with_events(spark, tmp_path):
    # Store purchases exist but carry no discount: their largest discount is 0 for everyone, a
    # column that says nothing although it has data. Nobody bought through the app: those
    # columns are degenerate for lack of events, reported but not failing.
    spec_path = small_spec(
        tmp_path / "features.yaml", channels=("store", "web", "app"), flat_measure=True
    )
    result, check = _checked(spark, tmp_path, spec_path)
    assert not result.success and not check.passed
    assert check.metadata["defect_columns"].value == {"tx_discount_max_ch_store_life": "constant"}
    tolerated = check.metadata["tolerated"].value
    assert tolerated["tx_count_ch_app_d30"] == "constant_no_events"
    assert tolerated["tx_amount_mean_ch_app_life"] == "all_null_no_events"
    assert "tx_count_ch_web_d30" not in tolerated
    assert "tx_discount_max_ch_web_life" not in tolerated  # 30,000 on the web purchase


def test_a_population_below_min_customers_only_fails_on_catalog_mismatches(spark, tmp_path):
    spec_path = small_spec(tmp_path / "features.yaml", flat_measure=True, min_customers=10)
    result, check = _checked(spark, tmp_path, spec_path)
    assert result.success and check.passed  # 3 customers < 10
    assert check.metadata["tolerated"].value["tx_discount_max_ch_store_life"] == "constant"
    assert "below checks.min_customers" in check.description


def test_definitions_expose_the_assets_the_check_and_the_job(tmp_path):
    settings = load_settings(environ={}, overrides={"lakehouse_root": str(tmp_path / "lake")})
    defs = dg.Definitions.merge(
        features_definitions(), dg.Definitions(resources=build_resources(settings))
    )
    job = defs.resolve_job_def(FEATURES_JOB.name)
    assert job.name == "features_job"
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"gold/feature_catalog", "gold/customer_features"} <= keys
    assert {"silver/transactions", "gold/identity_map", "gold/golden_records"} <= keys
    check_keys = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert check_keys == {CHECK_NAME}
