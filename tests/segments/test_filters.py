"""Every operator and nesting against hand-computed members of the small lakehouse."""

from __future__ import annotations

import pytest
import yaml
from small_lake import AS_OF

from c360.segments.engine import evaluate, latest_snapshot
from c360.segments.model import parse_filter, parse_where

ALL = {"C1", "C2", "C3", "C4", "C5", "C6"}

CASES = [
    ("{field: region, op: '=', value: south}", {"C1", "C3", "C6"}),
    ("{field: region, op: '!=', value: south}", {"C2", "C4", "C5"}),
    ("{field: province, op: in, value: [Hà Nội, Đà Nẵng]}", {"C2", "C4"}),
    ("{field: province, op: not_in, value: [Hồ Chí Minh]}", {"C2", "C3", "C4", "C5"}),
    ("{field: tx_count_d90, op: '<', value: 3}", {"C2", "C4"}),  # C5: no snapshot row
    ("{field: tx_count_d90, op: '<=', value: 3}", {"C2", "C4", "C6"}),
    ("{field: tx_count_d90, op: '>', value: 3}", {"C1", "C3"}),
    ("{field: tx_count_d90, op: '>=', value: 5}", {"C1", "C3"}),
    ("{field: tx_count_d90, op: in, value: [0, 12]}", {"C2", "C3"}),
    ("{field: clv_estimate_1y, op: between, value: [100, 1500]}", {"C1", "C6"}),
    ("{field: gender, op: is_null}", {"C4"}),
    ("{field: date_of_birth, op: is_not_null}", ALL - {"C3"}),
    ("{field: email, op: contains, value: '@x.vn'}", {"C1", "C4", "C6"}),
    ("{field: province, op: starts_with, value: Hồ}", {"C1", "C6"}),
    # as of 2026-11-10: 2026-10-31 .. 2026-11-10 (timestamps by their UTC day)
    ("{field: last_seen, op: within_days, value: 10}", {"C1", "C4", "C6"}),
    ("{field: last_seen, op: before_days, value: 100}", {"C3", "C5"}),  # before 2026-08-02
    ("{field: date_of_birth, op: between, value: [1980-01-01, 1991-01-01]}", {"C1", "C2"}),
    ("{field: date_of_birth, op: '<', value: 1980-01-01}", {"C5"}),
    ("{field: consent_sms, op: '=', value: true}", {"C1", "C2", "C5"}),
    ("{field: loy_tier, op: '=', value: gold}", {"C1", "C6"}),
    ("{consent: email}", {"C1", "C4", "C5", "C6"}),
    # nesting
    (
        "{all: [{field: region, op: '=', value: south}, {any: [{field: tx_count_d90, op: '>', "
        "value: 10}, {field: clv_estimate_1y, op: between, value: [1000, 1300]}]}]}",
        {"C1", "C3"},
    ),
    ("{not: {field: region, op: '=', value: south}}", {"C2", "C4", "C5"}),
    # `not` is the complement: customers without a tier are "not gold"
    ("{not: {field: loy_tier, op: '=', value: gold}}", {"C2", "C3", "C4", "C5"}),
    (
        "{any: [{all: [{field: region, op: '=', value: north}, {field: consent_sms, op: '=', "
        "value: true}]}, {not: {any: [{field: tx_count_d90, op: '>=', value: 1}, "
        "{field: tx_count_d90, op: is_null}]}}]}",
        {"C2", "C5"},
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_operator_and_nesting_members(small_lake, config, catalog, text, expected):
    node = parse_filter(yaml.safe_load(text), "test")
    result = evaluate(small_lake, config, catalog, node, channel=None)
    assert set(result.members["customer_id"].to_pylist()) == expected
    assert result.excluded_for_consent == 0


def test_features_come_from_the_latest_snapshot(small_lake, config, catalog):
    # the older snapshot has tx_count_d90 = 100 for everybody; the latest one is used
    assert latest_snapshot(small_lake) == AS_OF
    node = parse_filter({"field": "tx_count_d90", "op": ">", "value": 50}, "test")
    result = evaluate(small_lake, config, catalog, node, channel=None)
    assert result.as_of == AS_OF and result.count == 0


def test_values_are_bound_as_parameters_not_pasted(small_lake, config, catalog):
    node = parse_filter({"field": "province", "op": "=", "value": "x' OR '1'='1"}, "test")
    assert evaluate(small_lake, config, catalog, node, channel=None).matched == 0


def test_where_expression_and_yaml_forms(small_lake, config, catalog):
    expression = parse_where("region = south and tx_count_d90 >= 5 and gender is_not_null")
    as_yaml = parse_where(
        "{all: [{field: region, op: '=', value: south}, {field: tx_count_d90, op: '>=', "
        "value: 5}, {field: gender, op: is_not_null}]}"
    )
    for node in (expression, as_yaml):
        result = evaluate(small_lake, config, catalog, node, channel=None)
        assert result.members["customer_id"].to_pylist() == ["C1", "C3"]
    listed = parse_where("province in [Hà Nội, Đà Nẵng]")
    result = evaluate(small_lake, config, catalog, listed, channel=None)
    assert result.members["customer_id"].to_pylist() == ["C2", "C4"]
