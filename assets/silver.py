"""Silver assets: typed, standardised, latest version per source record; GX checks on each."""

import dagster as dg
from pyspark.sql import DataFrame

from assets.policies import TRANSIENT_RETRY, retry_transient_only
from c360.contract import LOYALTY_POINTS, TRANSACTIONS
from c360.lakehouse import Lakehouse
from c360.silver import (
    SilverBuild,
    build_loyalty_points,
    build_person_records,
    build_person_table,
    build_transactions,
    person_sources,
)
from c360.tables import (
    BRONZE_TABLES,
    SILVER_LOYALTY_POINTS,
    SILVER_PERSON_RECORDS,
    SILVER_TRANSACTIONS,
    Table,
)
from pipelines.resources import LakehouseResource
from quality.expectations import load_suites, validate, with_reference_flags
from quality.quarantine import replace_silver_rejects

SILVER_KEYS = {"crm", "erp", "loyalty"}
PII_COLUMNS = {"phone_e164", "email", "national_id", "address", "address_folded", "raw_values"}
ASSET_OPTIONS = {
    "group_name": "silver",
    "kinds": {"spark", "delta"},
    "owners": ["team:data-engineering"],
}


def _preview(frame: DataFrame, rows: int = 5) -> dg.MetadataValue:
    """A few rows for the UI, without PII columns."""
    safe = [c for c in frame.columns if c not in PII_COLUMNS and not c.startswith("_")]
    return dg.MetadataValue.md(frame.select(*safe[:10]).limit(rows).toPandas().to_markdown())


def _publish(
    lake: Lakehouse, build: SilverBuild, bronze_tables: list[Table]
) -> dg.MaterializeResult:
    """Write a silver build (rows replace the table; rejects replace this table's rejects)."""
    build.rows = build.rows.cache()
    try:
        bronze_rows = sum(lake.count(t) for t in bronze_tables)
        replace_silver_rejects(lake, build.table.name, build.rejects)
        lake.overwrite(build.rows, build.table)
        counts = build.account(bronze_rows)
        return dg.MaterializeResult(
            metadata={
                **counts,
                "rows": counts["rows_silver"],
                "table_rows_total": counts["rows_silver"],
                "rows_accounted": counts["rows_bronze"]
                == counts["rows_silver"] + counts["rows_superseded"] + counts["rows_quarantined"],
                "location": dg.MetadataValue.path(lake.location(build.table)),
                "preview": _preview(build.rows),
            }
        )
    finally:
        build.rows.unpersist()


def _person_asset(system: str) -> dg.AssetsDefinition:
    source = person_sources()[system]
    bronze = BRONZE_TABLES[source.entity.name]

    @dg.asset(
        retry_policy=TRANSIENT_RETRY,
        name=source.table.name,
        key_prefix=["silver"],
        deps=[dg.AssetKey(["bronze", source.entity.name])],
        description=f"{source.entity.source} {source.entity.entity}: latest version per "
        f"{source.entity.key_column}, identity fields standardised; bad fields nulled and "
        "flagged in the row (field_issues, raw_values).",
        **ASSET_OPTIONS,
    )
    @retry_transient_only
    def _silver(lakehouse: LakehouseResource) -> dg.MaterializeResult:
        lake = lakehouse.get()
        return _publish(lake, build_person_table(lake.read(bronze), source), [bronze])

    return _silver


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    name="transactions",
    key_prefix=["silver"],
    deps=[dg.AssetKey(["bronze", TRANSACTIONS.name])],
    description="Typed transactions (decimal VND amounts, UTC timestamps, local dates), latest "
    "landing per transaction_id, record_key linking to the customer's source record.",
    **ASSET_OPTIONS,
)
@retry_transient_only
def silver_transactions(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    lake = lakehouse.get()
    bronze = BRONZE_TABLES[TRANSACTIONS.name]
    return _publish(lake, build_transactions(lake.read(bronze)), [bronze])


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    name="loyalty_points",
    key_prefix=["silver"],
    deps=[dg.AssetKey(["bronze", LOYALTY_POINTS.name])],
    description="Typed loyalty points ledger (earn / redeem / expire / adjust), latest landing "
    "per entry_id.",
    **ASSET_OPTIONS,
)
@retry_transient_only
def silver_loyalty_points(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    lake = lakehouse.get()
    bronze = BRONZE_TABLES[LOYALTY_POINTS.name]
    return _publish(lake, build_loyalty_points(lake.read(bronze)), [bronze])


PERSON_ASSETS = {system: _person_asset(system) for system in sorted(SILVER_KEYS)}


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    name="person_records",
    key_prefix=["silver"],
    deps=[dg.AssetKey(["silver", person_sources()[s].table.name]) for s in sorted(SILVER_KEYS)],
    description="Every person-bearing record from crm, erp and loyalty in one schema: the "
    "input of identity resolution. record_key = <source_system>:<source_record_id>.",
    **ASSET_OPTIONS,
)
@retry_transient_only
def person_records(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    lake = lakehouse.get()
    sources = person_sources()
    records = build_person_records({s: lake.read(sources[s].table) for s in sorted(SILVER_KEYS)})
    lake.overwrite(records, SILVER_PERSON_RECORDS)
    by_source = {
        r.source_system: r["count"] for r in records.groupBy("source_system").count().collect()
    }
    return dg.MaterializeResult(
        metadata={
            "rows": sum(by_source.values()),
            "table_rows_total": lake.count(SILVER_PERSON_RECORDS),
            **{f"rows_{system}": count for system, count in sorted(by_source.items())},
            "location": dg.MetadataValue.path(lake.location(SILVER_PERSON_RECORDS)),
        }
    )


# ---- Great Expectations checks --------------------------------------------------------------
SILVER_TABLES: dict[str, Table] = {
    **{person_sources()[s].table.name: person_sources()[s].table for s in SILVER_KEYS},
    "transactions": SILVER_TRANSACTIONS,
    "loyalty_points": SILVER_LOYALTY_POINTS,
    "person_records": SILVER_PERSON_RECORDS,
}
REFERENCES = {"transactions": ["person_records"], "loyalty_points": ["loyalty_members"]}


def _expectations_check(table_name: str) -> dg.AssetChecksDefinition:
    table = SILVER_TABLES[table_name]
    upstream = [dg.AssetKey(["silver", r]) for r in REFERENCES.get(table_name, [])]

    @dg.asset_check(
        asset=dg.AssetKey(["silver", table_name]),
        name="great_expectations",
        blocking=True,
        additional_deps=upstream,
        description=f"Great Expectations suite `silver_{table_name}` (conf/expectations.yaml); "
        "error-severity failures block downstream assets.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource
    ) -> dg.AssetCheckResult:
        lake = lakehouse.get()
        references = {r: lake.read(SILVER_TABLES[r]) for r in REFERENCES.get(table_name, [])}
        frame = with_reference_flags(table_name, lake.read(table), references)
        docs_dir = lake.reports_dir(context.run.run_id) / "data_docs"
        report = validate(frame, table_name, load_suites()[table_name], docs_dir)
        severity = (
            dg.AssetCheckSeverity.ERROR if report.failed_errors else dg.AssetCheckSeverity.WARN
        )
        return dg.AssetCheckResult(
            passed=report.passed and not report.failed_warnings,
            severity=severity,
            metadata={
                "rows": report.rows,
                "failed_errors": len(report.failed_errors),
                "failed_warnings": len(report.failed_warnings),
                "results": dg.MetadataValue.md(report.to_markdown()),
                "data_docs": dg.MetadataValue.path(str(report.data_docs)),
            },
        )

    return _check


SILVER_ASSETS = [
    *PERSON_ASSETS.values(),
    silver_transactions,
    silver_loyalty_points,
    person_records,
]
SILVER_CHECKS = [_expectations_check(name) for name in SILVER_TABLES]
SILVER_JOB = dg.define_asset_job(
    "silver_job",
    selection=dg.AssetSelection.groups("silver"),
    description="Rebuild every silver table from bronze and run its Great Expectations suite.",
)


def silver_definitions() -> dg.Definitions:
    return dg.Definitions(assets=SILVER_ASSETS, asset_checks=SILVER_CHECKS, jobs=[SILVER_JOB])
