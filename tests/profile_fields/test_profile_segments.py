"""Profile and custom fields of the golden record in segment conditions (issue 20: "came from
the landing page AND works in education")."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from c360.lakehouse import Lakehouse
from c360.profile_fields import golden_schema
from c360.segments.engine import evaluate, field_catalog
from c360.segments.model import SegmentConfigError, load_segments_config, parse_filter, parse_where
from c360.tables import GOLD_GOLDEN_RECORDS

# customer_id, lead_source, industry, children_count, vip_since, device_ids
GOLDEN = [
    ("P1", "landing_page", "education", 2, date(2024, 1, 1), ["d1"]),
    ("P2", "landing_page", "retail", None, None, None),
    ("P3", "facebook_ads", "education", 0, None, ["d3", "d4"]),
    ("P4", None, "education", 3, date(2025, 6, 1), None),
]


@pytest.fixture
def lake(tmp_path) -> Lakehouse:
    schema = golden_schema()
    names = ["customer_id", "lead_source", "industry", "children_count", "vip_since", "device_ids"]
    values = {n: [row[i] for row in GOLDEN] for i, n in enumerate(names)}
    data = {f.name: pa.array(values.get(f.name, [None] * len(GOLDEN)), f.type) for f in schema}
    lake = Lakehouse(tmp_path / "lake", spark=None, writer="delta-rs")
    lake.overwrite(pa.table(data, schema=schema), GOLD_GOLDEN_RECORDS)
    return lake


def members(lake: Lakehouse, node) -> set[str]:
    config = load_segments_config()
    result = evaluate(lake, config, field_catalog(lake, config), node, channel=None)
    return set(result.members["customer_id"].to_pylist())


def test_lead_source_and_industry_in_a_where_expression(lake):
    node = parse_where("lead_source = landing_page and industry = education")
    assert members(lake, node) == {"P1"}


def test_profile_and_custom_fields_in_a_yaml_filter(lake):
    node = parse_filter(
        {"any": [{"field": "lead_source", "op": "in", "value": ["facebook_ads"]},
                 {"all": [{"field": "children_count", "op": ">=", "value": 3},
                          {"field": "vip_since", "op": ">", "value": "2025-01-01"}]}]},
        "test",
    )  # fmt: skip
    assert members(lake, node) == {"P3", "P4"}
    assert members(lake, parse_where("lead_source is_null")) == {"P4"}


def test_the_catalog_types_custom_fields_and_leaves_list_fields_out(lake):
    catalog = field_catalog(lake, load_segments_config())
    assert catalog.fields["children_count"].kind == "number"
    assert catalog.fields["vip_since"].kind == "date"
    assert catalog.fields["occupation"].kind == "string"
    assert "device_ids" not in catalog.fields  # lists are not segment fields
    with pytest.raises(SegmentConfigError, match="operator '>' does not fit a string field"):
        from c360.segments.model import bind_filter

        bind_filter(parse_where("industry > education"), catalog, "test")
