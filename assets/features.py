"""Gold feature assets: ``gold/feature_catalog`` and ``gold/customer_features`` per as-of date.

``gold/customer_features`` is partitioned by ``as_of_date`` (:data:`assets.partitions.AS_OF_DATES`,
a dynamic partition per snapshot day, added when a run asks for it, e.g. by ``c360 run`` with
:func:`c360.local_time.default_as_of_date`): any past day can be (re)built for training sets,
and a snapshot for D only reads events before D.
"""

from datetime import date

import dagster as dg

from assets.partitions import AS_OF_DATES
from assets.policies import OWNERS, TRANSIENT_RETRY, retry_transient_only
from assets.resources import LakehouseResource
from c360.tables import FEATURE_INPUT_TABLES, GOLD_CUSTOMER_FEATURES, GOLD_FEATURE_CATALOG
from features.catalog import catalog_table
from features.checks import FeatureCheckReport, check_profile, snapshot_head
from features.events import read_feature_inputs
from features.evidence import features_without_events
from features.snapshot import materialise_snapshot
from features.spec import expand, load_spec

FEATURES_GROUP = "gold_features"
CHECK_NAME = "feature_columns_valid"
INPUT_ASSETS = [table.asset_key for table in FEATURE_INPUT_TABLES]
CATALOG_KEY = GOLD_FEATURE_CATALOG.asset_key
FEATURES_KEY = GOLD_CUSTOMER_FEATURES.asset_key
ASSET_OPTIONS = {
    "group_name": FEATURES_GROUP,
    "owners": OWNERS,
    "retry_policy": TRANSIENT_RETRY,
}


class FeatureSpecConfig(dg.Config):
    """Which feature spec to build (default ``conf/features.yaml``)."""

    spec_path: str = ""


@dg.asset(
    key=CATALOG_KEY,
    kinds={"delta", "python"},
    description=(
        "One row per feature column of gold/customer_features: family, window, slice, measure, "
        "dtype, English and Vietnamese descriptions, spec version. Built from the spec alone."
    ),
    metadata={"table": GOLD_FEATURE_CATALOG.qualified_name},
    **ASSET_OPTIONS,
)
@retry_transient_only
def feature_catalog(
    config: FeatureSpecConfig, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    spec = load_spec(config.spec_path or None)
    catalog = catalog_table(spec)
    lake = lakehouse.get()
    lake.overwrite(catalog, GOLD_FEATURE_CATALOG)
    families = catalog.group_by("family").aggregate([("name", "count")]).to_pylist()
    return dg.MaterializeResult(
        metadata={
            "rows": catalog.num_rows,
            "features": catalog.num_rows,
            "version": spec.version,
            "per_family": {row["family"]: row["name_count"] for row in families},
            "preview": dg.MetadataValue.md(catalog.slice(0, 10).to_pandas().to_markdown()),
            "location": dg.MetadataValue.path(lake.location(GOLD_FEATURE_CATALOG)),
        }
    )


def _check_result(report: FeatureCheckReport) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        asset_key=FEATURES_KEY,
        passed=report.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=report.summary(),
        metadata={
            "customers": report.rows,
            "feature_columns": report.feature_columns,
            "non_constant": report.non_constant,
            "defects": len(report.defects),
            "defect_columns": dg.MetadataValue.json(dict(list(report.defects.items())[:200])),
            "tolerated": dg.MetadataValue.json(report.tolerated),
        },
    )


@dg.asset(
    key=FEATURES_KEY,
    partitions_def=AS_OF_DATES,
    deps=[*INPUT_ASSETS, CATALOG_KEY],
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=FEATURES_KEY,
            blocking=True,
            description=(
                "Fails when a feature column is all-null or constant over the snapshot's "
                "customers, has no catalog row, or a catalog row has no column."
            ),
        )
    ],
    kinds={"delta", "spark"},
    description=(
        "Every documented indicator of conf/features.yaml (3,020 today) per customer as of "
        "the partition's date: only events dated before it are used. Re-materialising a "
        "date replaces that snapshot."
    ),
    metadata={"table": GOLD_CUSTOMER_FEATURES.qualified_name},
    **ASSET_OPTIONS,
)
@retry_transient_only
def customer_features(
    context: dg.AssetExecutionContext, config: FeatureSpecConfig, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    as_of = date.fromisoformat(context.partition_key)
    spec = load_spec(config.spec_path or None)
    features = expand(spec)
    lake = lakehouse.get()
    inputs = read_feature_inputs(lake)
    snapshot = materialise_snapshot(lake, inputs, spec, as_of, features)
    report = check_profile(  # profiled bucket by bucket as the snapshot was written
        lake,
        snapshot.profile,
        features,
        without_events=lambda: features_without_events(inputs, spec, as_of, features),
        min_customers=int(spec.checks.get("min_customers", 0)),
    )
    context.log.info(f"{as_of}: {report.summary()}")
    preview = snapshot_head(lake.arrow_dataset(GOLD_CUSTOMER_FEATURES), as_of, rows=5, columns=12)
    return dg.MaterializeResult(
        metadata={
            "as_of_date": as_of.isoformat(),
            "rows": report.rows,
            "features": len(features),
            "customers": report.rows,
            "buckets": snapshot.buckets,
            "files": snapshot.written.files,
            "delta_version": snapshot.written.version,
            "non_constant_features": report.non_constant,
            "spec_version": spec.version,
            "preview": dg.MetadataValue.md(
                preview.to_pandas().to_markdown() if preview.num_rows else ""
            ),
            "location": dg.MetadataValue.path(lake.location(GOLD_CUSTOMER_FEATURES)),
        },
        check_results=[_check_result(report)],
    )


FEATURES_JOB = dg.define_asset_job(
    "features_job",
    selection=dg.AssetSelection.assets(CATALOG_KEY, FEATURES_KEY),
    partitions_def=AS_OF_DATES,
    description="Write the feature catalog and the customer features as of the partition's date.",
)


def features_definitions() -> dg.Definitions:
    """The feature assets, their check and ``features_job`` (partitioned by ``as_of_date``)."""
    return dg.Definitions(assets=[feature_catalog, customer_features], jobs=[FEATURES_JOB])


__all__ = ["FEATURES_JOB", "features_definitions"]
