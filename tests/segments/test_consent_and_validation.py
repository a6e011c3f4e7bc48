"""Consent exclusion per channel, and the documented errors of invalid segment files."""

from __future__ import annotations

from pathlib import Path

import pytest

from c360.segments.engine import evaluate, field_catalog
from c360.segments.model import (
    SegmentConfigError,
    load_segments_config,
    parse_filter,
    validate_config,
)
from c360.tables import GOLD_FEATURE_CATALOG

EVERYONE = {"field": "customer_id", "op": "is_not_null"}


def _members(result) -> set[str]:
    return set(result.members["customer_id"].to_pylist())


@pytest.mark.parametrize(
    ("channel", "members", "excluded"),
    [
        (None, {"C1", "C2", "C3", "C4", "C5", "C6"}, 0),
        ("email", {"C1", "C4", "C5", "C6"}, 2),  # C2 said no, C3 unknown (null): no consent
        ("sms", {"C1", "C2", "C5"}, 3),
        ("zalo", set(), 6),  # nobody has a zalo decision (all null): everybody excluded
        ("call", set(), 6),
    ],
)
def test_a_channel_excludes_customers_without_consent(
    small_lake, config, catalog, channel, members, excluded
):
    result = evaluate(small_lake, config, catalog, parse_filter(EVERYONE, "t"), channel)
    assert _members(result) == members
    assert (result.matched, result.excluded_for_consent) == (6, excluded)


def test_a_filter_cannot_bypass_the_consent_exclusion(small_lake, config, catalog):
    # asking for the customers who refused email, on the email channel: all excluded
    node = parse_filter(
        {"any": [{"field": "consent_email", "op": "=", "value": False},
                 {"field": "consent_email", "op": "is_null"}]}, "t"
    )  # fmt: skip
    result = evaluate(small_lake, config, catalog, node, "email")
    assert (result.matched, result.count, result.excluded_for_consent) == (2, 0, 2)


def test_the_shipped_segments_validate_against_the_compiled_feature_catalog(small_lake, config):
    from features.catalog import catalog_table  # the test only: the stage reads the table
    from features.spec import load_spec

    small_lake.overwrite(catalog_table(load_spec()), GOLD_FEATURE_CATALOG)
    validate_config(config, field_catalog(small_lake, config))
    assert {s.owner for s in config.segments.values()} == {"marketing", "sales", "service"}


SEGMENT = """
channel_consent: {email: consent_email, sms: consent_sms, zalo: null, call: null}
segments:
  s1:
    description: {en: one, vi: một}
    owner: marketing
    channel: %s
    filter: %s
"""


def _load(tmp_path: Path, filter_yaml: str, channel: str = "email"):
    path = tmp_path / "segments.yaml"
    path.write_text(SEGMENT % (channel, filter_yaml), encoding="utf-8")
    return load_segments_config(path)


@pytest.mark.parametrize(
    ("filter_yaml", "message"),
    [
        ("{field: regionn, op: '=', value: south}",
         "segment 's1', filter (regionn): unknown field 'regionn'"),
        ("{field: regionn, op: '=', value: south}", "did you mean region"),
        ("{field: tx_count_d90, op: contains, value: '1'}",
         "operator 'contains' does not fit a number field; use one of"),
        ("{field: region, op: '>', value: a}", "operator '>' does not fit a string field"),
        ("{field: region, op: within_days, value: 3}", "does not fit a string field"),
        ("{field: tx_count_d90, op: '>', value: five}", "needs a number, got 'five'"),
        ("{field: tx_count_d90, op: '>', value: true}", "needs a number"),
        ("{field: clv_estimate_1y, op: between, value: [5, 1]}", "low <= high"),
        ("{field: clv_estimate_1y, op: between, value: [5]}", "a list [low, high]"),
        ("{field: province, op: in, value: []}", "a non-empty list"),
        ("{field: last_seen, op: within_days, value: -1}", "a whole number of days >= 0"),
        ("{field: date_of_birth, op: '<', value: '2026-02-30'}", "a date YYYY-MM-DD"),
        ("{field: consent_sms, op: '=', value: yes please}", "true or false"),
    ],
)  # fmt: skip
def test_invalid_conditions_name_segment_condition_and_fix(tmp_path, catalog, filter_yaml, message):
    config = _load(tmp_path, filter_yaml)
    with pytest.raises(SegmentConfigError) as error:
        validate_config(config, catalog)
    assert message in str(error.value)
    assert str(tmp_path / "segments.yaml") in str(error.value)


@pytest.mark.parametrize(
    ("filter_yaml", "channel", "message"),
    [
        ("{field: gender, op: is_null, value: x}", "email", "is_null takes no value; remove"),
        ("{field: gender, op: '='}", "email", "= needs a value; add value"),
        ("{all: []}", "email", "filter.all: expected a non-empty list"),
        ("{all: [], any: []}", "email", "a group has exactly one key"),
        ("[1, 2]", "email", "filter: expected a mapping"),
        ("{consent: whatsapp}", "email", "bad consent condition"),
        ("{field: gender, op: '=', value: m, extra: 1}", "email", "unknown keys ['extra']"),
        ("{field: gender, op: is_null}", "whatsapp", "unknown channel 'whatsapp'"),
        (
            "{all: [{field: region, op: '=', value: south}, {field: loy_tier, op: '~', value: a}]}",
            "email",
            "filter.all[1] (loy_tier): unknown operator '~'",
        ),
    ],
)
def test_malformed_segments_fail_at_load(tmp_path, filter_yaml, channel, message):
    with pytest.raises(SegmentConfigError) as error:
        _load(tmp_path, filter_yaml, channel)
    assert message in str(error.value) and "segment 's1'" in str(error.value)


def test_file_level_errors(tmp_path):
    path = tmp_path / "segments.yaml"
    path.write_text("segments: [a, b", encoding="utf-8")
    with pytest.raises(SegmentConfigError, match="not valid YAML"):
        load_segments_config(path)
    path.write_text("segments: {a: {filter: {field: d, op: '<', value: 2026-13-01}}}")
    with pytest.raises(SegmentConfigError, match=r"month must be in 1\.\.12.*YYYY-MM-DD"):
        load_segments_config(path)
    path.write_text("channel_consent: {email: consent_email}\n", encoding="utf-8")
    with pytest.raises(SegmentConfigError, match="must name every channel"):
        load_segments_config(path)
    path.write_text(
        "channel_consent: {email: x, sms: y, zalo: null, call: null}\n"
        "pii: {email: email}\nexport: {default_fields: [customer_id, email]}\n",
        encoding="utf-8",
    )
    with pytest.raises(SegmentConfigError, match=r"default_fields holds PII \['email'\]"):
        load_segments_config(path)


def test_a_consent_column_must_be_a_boolean_golden_field(tmp_path, catalog):
    path = tmp_path / "segments.yaml"
    path.write_text(
        "channel_consent: {email: province, sms: consent_sms, zalo: null, call: null}\n",
        encoding="utf-8",
    )
    with pytest.raises(SegmentConfigError, match=r"channel_consent\.email: 'province' is not a"):
        validate_config(load_segments_config(path), catalog)
