"""The shared pipeline run (tests/conftest.py) ends with the segments stage: the example
segments of conf/segments.yaml, checked against members computed with pandas."""

from __future__ import annotations

import pyarrow.dataset as pads
import pytest

from c360.lakehouse import Lakehouse
from c360.tables import GOLD_CUSTOMER_FEATURES, GOLD_GOLDEN_RECORDS, GOLD_SEGMENT_MEMBERS
from pipelines.cli import format_summary

pytestmark = pytest.mark.slow


def test_the_run_materialises_the_example_segments(pipeline_run):
    metadata = {a.asset: a.metadata for s in pipeline_run.summary.stages for a in s.assets}[
        "gold/segment_members"
    ]
    counts = metadata["segment_members"]
    assert set(counts) == {
        "marketing_south_active_email", "sales_loyal_lapsed_sms", "service_recent_refunds",
        "marketing_welcome_openers_email",
    }  # fmt: skip
    assert "gold/segment_members: " in format_summary(pipeline_run.summary)
    lake = Lakehouse(pipeline_run.lake_root, spark=None, writer="delta-rs")
    members = lake.read_arrow(GOLD_SEGMENT_MEMBERS).to_pandas()
    as_of = members["as_of_date"].max()
    by_segment = members.groupby("segment")["customer_id"].apply(set).to_dict()
    assert {k: len(by_segment.get(k, ())) for k in counts} == counts

    golden = lake.read_arrow(GOLD_GOLDEN_RECORDS).to_pandas().set_index("customer_id")
    features = (
        lake.arrow_dataset(GOLD_CUSTOMER_FEATURES)
        .to_table(
            columns=[
                "customer_id",
                "tx_count_d90",
                "ref_refund_count_d90",
                "ref_cancel_count_d90",
                "eng_opened_ejrn_welcome_d7",
            ],
            filter=pads.field("as_of_date") == as_of,
        )
        .to_pandas()
        .set_index("customer_id")
    )
    joined = golden.join(features, how="left")
    marketing = joined[
        (joined["region"] == "south")
        & (joined["tx_count_d90"] >= 1)
        & joined["consent_email"].eq(True)
    ]
    assert by_segment.get("marketing_south_active_email", set()) == set(marketing.index)
    service = joined[(joined["ref_refund_count_d90"] > 0) | (joined["ref_cancel_count_d90"] > 0)]
    assert by_segment.get("service_recent_refunds", set()) == set(service.index)
    assert counts["service_recent_refunds"] > 0
    # a journey condition through the engagement features (issue 20)
    openers = joined[(joined["eng_opened_ejrn_welcome_d7"] >= 1) & joined["consent_email"].eq(True)]
    assert by_segment.get("marketing_welcome_openers_email", set()) == set(openers.index)
