"""``gold/segment_members``: the members of every conf/segments.yaml segment per as-of date.

Materialised after ``gold/customer_features`` for the same ``as_of_date`` partition; the
metadata gives, per segment, its members, those excluded for consent, and who entered or left
since the previous snapshot. Re-materialising a date replaces that snapshot.
"""

from datetime import date
from pathlib import Path

import dagster as dg

from assets.features import FEATURES_KEY
from assets.partitions import AS_OF_DATES
from assets.policies import OWNERS, TRANSIENT_RETRY, retry_transient_only
from assets.resources import LakehouseResource
from c360.lakehouse import Lakehouse
from c360.segments.membership import write_segment_members
from c360.segments.model import load_segments_config
from c360.tables import GOLD_FEATURE_CATALOG, GOLD_SEGMENT_MEMBERS

SEGMENTS_KEY = GOLD_SEGMENT_MEMBERS.asset_key
SEGMENTS_JOB_NAME = "segments_job"


class SegmentsConfigPath(dg.Config):
    """Which segment file to build (default ``conf/segments.yaml``)."""

    segments_path: str = ""


@dg.asset(
    key=SEGMENTS_KEY,
    partitions_def=AS_OF_DATES,
    deps=[FEATURES_KEY, GOLD_FEATURE_CATALOG.asset_key],
    kinds={"delta", "duckdb"},
    group_name="gold_segments",
    owners=OWNERS,
    retry_policy=TRANSIENT_RETRY,
    description=(
        "Members of each segment of conf/segments.yaml as of the partition's date (consent "
        "applied), with whether each member entered since the previous snapshot."
    ),
    metadata={"table": GOLD_SEGMENT_MEMBERS.qualified_name},
)
@retry_transient_only
def segment_members(
    context: dg.AssetExecutionContext, config: SegmentsConfigPath, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    as_of = date.fromisoformat(context.partition_key)
    segments = load_segments_config(config.segments_path or None)
    # DuckDB over delta-rs datasets: no Spark session needed for this stage
    lake = Lakehouse(Path(lakehouse.root), spark=None, writer="delta-rs")
    figures = write_segment_members(lake, segments, as_of)
    per_segment = {
        f.segment: {
            "channel": f.channel or "none",
            "members": f.members,
            "excluded_for_consent": f.excluded_for_consent,
            "entered": f.entered,
            "left": f.left,
        }
        for f in figures
    }
    for f in figures:
        context.log.info(
            f"{f.segment}: {f.members} members, {f.excluded_for_consent} excluded for consent, "
            f"{f.entered} entered, {f.left} left"
        )
    return dg.MaterializeResult(
        metadata={
            "as_of_date": as_of.isoformat(),
            "rows": sum(f.members for f in figures),
            "segments": len(figures),
            "segment_members": {f.segment: f.members for f in figures},
            "per_segment": dg.MetadataValue.json(per_segment),
            "location": dg.MetadataValue.path(lake.location(GOLD_SEGMENT_MEMBERS)),
        }
    )


SEGMENTS_JOB = dg.define_asset_job(
    SEGMENTS_JOB_NAME,
    selection=dg.AssetSelection.assets(SEGMENTS_KEY),
    partitions_def=AS_OF_DATES,
    description="Build gold/segment_members as of the partition's date (after the features).",
)


def segments_definitions() -> dg.Definitions:
    """The segment membership asset and ``segments_job`` (partitioned by ``as_of_date``)."""
    return dg.Definitions(assets=[segment_members], jobs=[SEGMENTS_JOB])
