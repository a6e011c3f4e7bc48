"""The spec expands into 1,500+ documented features; the check finds degenerate columns.

Pure Python (no Spark): the catalog is known from the spec alone, before any data is read.
"""

from __future__ import annotations

import copy

import pyarrow as pa
import pytest
import yaml

from c360.tables import GOLD_FEATURE_CATALOG_SCHEMA
from features.catalog import catalog_table
from features.checks import profile_snapshot
from features.spec import DEFAULT_SPEC_PATH, SpecError, expand, load_spec, parse_spec


@pytest.fixture(scope="module")
def spec():
    return load_spec()


@pytest.fixture(scope="module")
def features(spec):
    return expand(spec)


def test_spec_expands_into_at_least_1500_documented_features(features):
    assert len(features) >= 1500
    names = [f.name for f in features]
    assert len(names) == len(set(names))
    for feature in features:
        assert feature.description_en.endswith(".") and len(feature.description_en) > 20
        assert feature.description_vi.endswith(".") and len(feature.description_vi) > 20
        assert feature.description_en != feature.description_vi
    families = {f.family for f in features}
    assert families == {
        "transactions", "recency", "trends", "refunds", "vouchers", "loyalty_points",
        "rfm", "clv", "loyalty_status", "profile", "engagement", "campaigns", "service",
    }  # fmt: skip


def test_names_and_descriptions_follow_the_scheme(features):
    by_name = {f.name: f for f in features}
    feature = by_name["tx_amount_sum_cat_grocery_d30"]
    assert (feature.family, feature.measure, feature.window_days, feature.slice) == (
        "transactions",
        "amount_sum",
        30,
        "category=grocery",
    )
    assert feature.description_en == (
        "Total amount paid for completed purchases (VND) in the grocery category in the 30 "
        "days before the as-of date."
    )
    assert feature.description_vi == (
        "Tổng số tiền thanh toán của các giao dịch mua hoàn tất (VND) thuộc ngành hàng tạp hóa "
        "trong 30 ngày trước ngày chốt."
    )
    # lifetime windows have no length; recency names carry no window token
    assert by_name["tx_count_life"].window_days is None
    assert by_name["rec_days_since_last_ch_web"].window == "life"
    # trends are named by their comparison and carry the current window's length
    assert by_name["trend_count_change_pay_momo_90v365"].window_days == 90
    # exclusions in the spec are honoured
    assert "tx_amount_std_cat_toys_d30" not in by_name
    assert "tx_amount_std_cat_toys_d180" in by_name
    assert "tx_distinct_stores_ch_web_d30" not in by_name
    assert "tx_distinct_stores_ch_store_d30" in by_name


def test_catalog_rows_match_the_expanded_spec(spec, features):
    catalog = catalog_table(spec, features)
    assert catalog.schema == GOLD_FEATURE_CATALOG_SCHEMA
    assert catalog.column("name").to_pylist() == [f.name for f in features]
    assert set(catalog.column("version").to_pylist()) == {spec.version}
    assert set(catalog.column("dtype").to_pylist()) <= {"bigint", "int", "double", "string"}


def test_slice_values_are_explicit_in_the_catalog(spec, features):
    # every slice a feature names is one of the listed values: no value comes from the data
    listed = {f"{d.name}={v.name}" for d in spec.slices.values() for v in d.values}
    assert {f.slice for f in features if f.slice} <= listed


def _raw_spec() -> dict:
    return yaml.safe_load(DEFAULT_SPEC_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s["families"]["transactions"]["groups"][0]["measures"].append("nope"),
         "unknown measure 'nope'"),
        (lambda s: s["families"]["transactions"]["groups"][0]["windows"].append("d999"),
         "unknown window 'd999'"),
        (lambda s: s["families"]["refunds"]["groups"][0]["slices"].append("colour"),
         "unknown slice 'colour'"),
        (lambda s: s["measures"]["count"].update(where="paid"), "unknown filter 'paid'"),
        (lambda s: s["measures"]["amount_sum"].update(value="price"), "reads 'price'"),
        (lambda s: s["point_signs"].update(redeem="upside_down"), "point_signs"),
    ],
)  # fmt: skip
def test_invalid_specs_are_rejected_with_the_key(mutate, message):
    raw = copy.deepcopy(_raw_spec())
    mutate(raw)
    with pytest.raises(SpecError, match=message):
        expand(parse_spec(raw))


def test_two_features_with_one_name_are_rejected():
    raw = copy.deepcopy(_raw_spec())
    # vouchers under the transactions prefix, counting purchases: tx_count_d7 twice
    raw["families"]["vouchers"]["prefix"] = "tx"
    raw["families"]["vouchers"]["groups"][0]["measures"] = ["count"]
    with pytest.raises(SpecError, match="two features are both named 'tx_count_d7'"):
        expand(parse_spec(raw))


# ---- the check ---------------------------------------------------------------------------


def _batch(**columns) -> pa.RecordBatch:
    n = len(next(iter(columns.values())))
    return pa.RecordBatch.from_pydict(
        {"customer_id": [f"C{i}" for i in range(n)], "as_of_date": [None] * n, **columns}
    )


def test_check_flags_constant_and_all_null_columns_and_missing_catalog_rows():
    batch = _batch(
        varies=[1, 2, 3],
        constant=[7, 7, 7],
        all_null=pa.array([None, None, None], pa.float64()),
        value_or_null=[5.0, None, None],  # presence alone tells customers apart: not a defect
        label=["a", "a", "b"],
        no_row=[1, 2, 3],
        tolerated_null=pa.array([None, None, None], pa.int32()),
    )
    catalog = ["varies", "constant", "all_null", "value_or_null", "label", "tolerated_null", "gone"]
    report = profile_snapshot([batch], batch.schema.names, catalog, ["tolerated_null"])
    assert report.rows == 3
    assert report.feature_columns == 7
    assert report.non_constant == 4  # varies, value_or_null, label, no_row
    assert report.defects == {
        "constant": "constant",
        "all_null": "all_null",
        "no_row": "no_catalog_row",
        "gone": "missing_column",
    }
    assert report.tolerated == {"tolerated_null": "all_null"}
    assert not report.passed


def test_columns_without_events_or_on_a_small_population_are_tolerated():
    batch = _batch(quiet=[0, 0, 0], broken=[7, 7, 7], null_std=pa.array([None] * 3, pa.float64()))
    names = ["quiet", "broken", "null_std"]
    report = profile_snapshot(
        [batch], batch.schema.names, names, without_events=["quiet", "null_std"]
    )
    assert report.tolerated == {"quiet": "constant_no_events", "null_std": "all_null_no_events"}
    assert report.defects == {"broken": "constant"} and not report.passed

    small = profile_snapshot([batch], batch.schema.names, names[:2], min_customers=4)
    assert small.population_too_small and small.defects == {"null_std": "no_catalog_row"}
    assert small.tolerated == {"quiet": "constant", "broken": "constant", "null_std": "all_null"}
    assert "below checks.min_customers" in small.summary()
    enough = profile_snapshot([batch], batch.schema.names, names, min_customers=3)
    assert not enough.population_too_small and set(enough.defects) == set(names)


def test_the_event_evidence_is_looked_up_only_for_degenerate_columns():
    calls = []

    def evidence() -> list[str]:
        calls.append(1)
        return ["quiet"]

    varied = _batch(x=[1, 2, 3])
    assert profile_snapshot([varied], varied.schema.names, ["x"], without_events=evidence).passed
    assert calls == []  # nothing degenerate: the events are not scanned again
    quiet = _batch(quiet=[0, 0, 0])
    report = profile_snapshot([quiet], quiet.schema.names, ["quiet"], without_events=evidence)
    assert calls == [1] and report.tolerated == {"quiet": "constant_no_events"}


def test_check_combines_batches_before_judging_a_column():
    # constant within each batch, different across them: the column varies
    first, second = _batch(x=[1, 1]), _batch(x=[2, 2])
    report = profile_snapshot([first, second], first.schema.names, ["x"])
    assert (report.rows, report.non_constant, report.defects) == (4, 1, {})
    assert report.passed


def test_an_empty_snapshot_fails():
    report = profile_snapshot([], ["customer_id", "as_of_date", "x"], ["x"])
    assert report.rows == 0
    assert not report.passed
