"""The single customer view shows the profile, union and custom fields with provenance."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "customer_view"))
from view_lake import C1, build_view_lake

from c360.customer_view.config import load_customer_view_config
from c360.customer_view.profile import customer_profile
from c360.customer_view.store import ViewStore
from c360.customer_view.web import running_server
from c360.lakehouse import Lakehouse
from c360.profile_fields import golden_schema
from c360.tables import GOLD_GOLDEN_RECORDS

PROFILE = {
    "lead_source": "landing_page", "lead_source_source": "crm:K1",
    "industry": "education", "industry_source": "loyalty:M1",
    "device_ids": ["dev-1", "dev-2"], "device_ids_source": ["crm:K1", "loyalty:M1"],
    "children_count": 2, "children_count_source": "crm:K1",
    "vip_since": date(2024, 2, 1), "vip_since_source": "erp:E7",
}  # fmt: skip


@pytest.fixture
def view_root(tmp_path) -> Path:
    root = build_view_lake(tmp_path / "lake")
    lake = Lakehouse(root, spark=None, writer="delta-rs")
    rows = lake.read_arrow(GOLD_GOLDEN_RECORDS).to_pylist()
    rows = [r | PROFILE if r["customer_id"] == C1 else r for r in rows]
    lake.overwrite(pa.Table.from_pylist(rows, schema=golden_schema()), GOLD_GOLDEN_RECORDS)
    return root


def test_profile_lists_the_fields_with_their_sources(view_root):
    profile = customer_profile(ViewStore(view_root), C1, load_customer_view_config())
    fields = {f["field"]: f for f in profile["fields"]}
    assert fields["lead_source"] == {"field": "lead_source", "value": "landing_page",
                                     "source_record": "crm:K1", "source_system": "crm"}  # fmt: skip
    assert fields["industry"]["source_system"] == "loyalty"
    assert fields["device_ids"] == {"field": "device_ids", "value": ["dev-1", "dev-2"],
                                    "source_record": "crm:K1, loyalty:M1",
                                    "source_system": "crm, loyalty"}  # fmt: skip
    assert (fields["children_count"]["value"], fields["vip_since"]["value"]) == (2, "2024-02-01")
    assert fields["social_ids"]["value"] is None and fields["occupation"]["value"] is None
    assert fields["full_name"]["value"] == "Nguyễn Văn An"  # the identity fields still first
    assert list(fields)[:2] == ["full_name", "gender"]


def test_the_page_shows_them_with_vietnamese_labels(view_root):
    with running_server(view_root, load_customer_view_config()) as url:
        page = requests.post(url + "/profile", data={"customer_id": C1, "lang": "vi"}, timeout=10)
    html = page.text
    assert "Nguồn khách hàng" in html and "landing_page" in html
    assert "dev-1, dev-2" in html and "crm:K1, loyalty:M1" in html
    assert "Số con" in html and "2024-02-01" in html


def test_show_prints_list_fields_comma_separated(view_root, capsys):
    from pipelines.cli import main

    assert main(["customer", "show", C1, "--lakehouse", str(view_root)]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.strip().startswith("device_ids"))
    assert "dev-1, dev-2" in line and "[" not in line
