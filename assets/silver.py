"""Silver assets: typed, standardised, latest version per source record.

Each asset writes, audits, publishes: it builds the table, applies and validates its suite on
the staged rows (quality.audit), checks the row accounting, and only then replaces the table
(and its rejects). The suite's result is the asset's blocking `great_expectations` check.
"""

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
    person_records_build,
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
from quality.audit import AuditResult, audit
from quality.expectations import load_suites, validate_quality_config
from quality.quarantine import replace_silver_rejects

SILVER_KEYS = {"crm", "erp", "loyalty"}
PII_COLUMNS = {"phone_e164", "email", "national_id", "address", "address_folded", "raw_values"}
SILVER_TABLES: dict[str, Table] = {
    **{person_sources()[s].table.name: person_sources()[s].table for s in SILVER_KEYS},
    "transactions": SILVER_TRANSACTIONS,
    "loyalty_points": SILVER_LOYALTY_POINTS,
    "person_records": SILVER_PERSON_RECORDS,
}
ASSET_OPTIONS = {
    "group_name": "silver",
    "kinds": {"spark", "delta"},
    "owners": ["team:data-engineering"],
}


def _preview(frame: DataFrame, rows: int = 5) -> dg.MetadataValue:
    """A few rows for the UI, without PII columns."""
    safe = [c for c in frame.columns if c not in PII_COLUMNS and not c.startswith("_")]
    return dg.MetadataValue.md(frame.select(*safe[:10]).limit(rows).toPandas().to_markdown())


# ---- write, audit, publish ------------------------------------------------------------------
CHECK = "great_expectations"
# Silver tables an audit reads, per table (the reference flags of quality.expectations).
REFERENCES = {"transactions": ["person_records"], "loyalty_points": ["loyalty_members"]}


def _check_spec(table_name: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK,
        asset=dg.AssetKey(["silver", table_name]),
        blocking=True,
        description=f"Great Expectations suite `silver_{table_name}` (conf/expectations.yaml), "
        "run on the staged rows before they are written: a blocking failure leaves the "
        "previous version current and fails the run.",
    )


def _check_result(result: AuditResult) -> dg.AssetCheckResult:
    report = result.report
    return dg.AssetCheckResult(
        check_name=CHECK,
        passed=report.passed and not report.failed_warnings,
        severity=dg.AssetCheckSeverity.ERROR
        if report.failed_errors
        else dg.AssetCheckSeverity.WARN,
        metadata={
            "rows": report.rows,
            "failed_errors": len(report.failed_errors),
            "failed_warnings": len(report.failed_warnings),
            "results": dg.MetadataValue.md(report.to_markdown()),
            "data_docs": dg.MetadataValue.path(str(report.data_docs)),
        },
    )


def _audited(context: dg.AssetExecutionContext, lake: Lakehouse, build: SilverBuild) -> AuditResult:
    """Audit the staged build; raise (nothing written) when a blocking check fails."""
    name = build.table.name
    references = {r: lake.read(SILVER_TABLES[r]) for r in REFERENCES.get(name, [])}
    docs_dir = lake.reports_dir(context.run.run_id) / "data_docs" / name
    result = audit(build, load_suites()[name], references, docs_dir)
    if not result.passed:
        result.release()
        raise dg.Failure(
            result.message(),
            metadata={"results": dg.MetadataValue.md(result.report.to_markdown())},
            allow_retries=False,
        )
    return result


def _publish(
    context: dg.AssetExecutionContext,
    lake: Lakehouse,
    build: SilverBuild,
    bronze_tables: list[Table],
) -> dg.MaterializeResult:
    """Audit a silver build, check its row accounting, then write rejects and rows."""
    result = _audited(context, lake, build)
    try:
        published = result.build
        counts = published.check_accounting(sum(lake.count(t) for t in bronze_tables))
        replace_silver_rejects(lake, build.table.name, published.rejects)
        lake.overwrite(published.rows, build.table)
        return dg.MaterializeResult(
            metadata={
                **counts,
                "rows": counts["rows_silver"],
                "table_rows_total": counts["rows_silver"],
                "rows_accounted": True,  # check_accounting raises otherwise
                "rule_violations": dg.MetadataValue.json(result.violations),
                "location": dg.MetadataValue.path(lake.location(build.table)),
                "preview": _preview(published.rows),
            },
            check_results=[_check_result(result)],
        )
    finally:
        result.release()


def _person_asset(system: str) -> dg.AssetsDefinition:
    source = person_sources()[system]
    bronze = BRONZE_TABLES[source.entity.name]

    @dg.asset(
        retry_policy=TRANSIENT_RETRY,
        name=source.table.name,
        key_prefix=["silver"],
        deps=[dg.AssetKey(["bronze", source.entity.name])],
        check_specs=[_check_spec(source.table.name)],
        description=f"{source.entity.source} {source.entity.entity}: latest version per "
        f"{source.entity.key_column}, identity fields standardised; bad fields nulled and "
        "flagged in the row (field_issues, raw_values).",
        **ASSET_OPTIONS,
    )
    @retry_transient_only
    def _silver(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        lake = lakehouse.get()
        return _publish(context, lake, build_person_table(lake.read(bronze), source), [bronze])

    return _silver


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    name="transactions",
    key_prefix=["silver"],
    deps=[dg.AssetKey(["bronze", TRANSACTIONS.name]), dg.AssetKey(["silver", "person_records"])],
    check_specs=[_check_spec("transactions")],
    description="Typed transactions (amounts in VND, converted by conf/values.yaml; the landed "
    "amount and currency kept), UTC timestamps, local dates, latest landing per "
    "transaction_id, record_key linking to the customer's source record.",
    **ASSET_OPTIONS,
)
@retry_transient_only
def silver_transactions(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    lake = lakehouse.get()
    bronze = BRONZE_TABLES[TRANSACTIONS.name]
    return _publish(context, lake, build_transactions(lake.read(bronze)), [bronze])


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    name="loyalty_points",
    key_prefix=["silver"],
    deps=[
        dg.AssetKey(["bronze", LOYALTY_POINTS.name]),
        dg.AssetKey(["silver", "loyalty_members"]),
    ],
    check_specs=[_check_spec("loyalty_points")],
    description="Typed loyalty points ledger (earn / redeem / expire / adjust), latest landing "
    "per entry_id.",
    **ASSET_OPTIONS,
)
@retry_transient_only
def silver_loyalty_points(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    lake = lakehouse.get()
    bronze = BRONZE_TABLES[LOYALTY_POINTS.name]
    return _publish(context, lake, build_loyalty_points(lake.read(bronze)), [bronze])


PERSON_ASSETS = {system: _person_asset(system) for system in sorted(SILVER_KEYS)}


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    name="person_records",
    key_prefix=["silver"],
    deps=[dg.AssetKey(["silver", person_sources()[s].table.name]) for s in sorted(SILVER_KEYS)],
    check_specs=[_check_spec("person_records")],
    description="Every person-bearing record from crm, erp and loyalty in one schema: the "
    "input of identity resolution. record_key = <source_system>:<source_record_id>.",
    **ASSET_OPTIONS,
)
@retry_transient_only
def person_records(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    lake = lakehouse.get()
    sources = person_sources()
    records = build_person_records({s: lake.read(sources[s].table) for s in sorted(SILVER_KEYS)})
    result = _audited(context, lake, person_records_build(records))
    try:
        lake.overwrite(result.build.rows, SILVER_PERSON_RECORDS)
        by_source = {
            r.source_system: r["count"]
            for r in result.build.rows.groupBy("source_system").count().collect()
        }
    finally:
        result.release()
    return dg.MaterializeResult(
        metadata={
            "rows": sum(by_source.values()),
            "table_rows_total": lake.count(SILVER_PERSON_RECORDS),
            **{f"rows_{system}": count for system, count in sorted(by_source.items())},
            "location": dg.MetadataValue.path(lake.location(SILVER_PERSON_RECORDS)),
        },
        check_results=[_check_result(result)],
    )


SILVER_ASSETS = [
    *PERSON_ASSETS.values(),
    silver_transactions,
    silver_loyalty_points,
    person_records,
]
SILVER_JOB = dg.define_asset_job(
    "silver_job",
    selection=dg.AssetSelection.groups("silver"),
    description="Rebuild every silver table from bronze and run its Great Expectations suite.",
)


def silver_definitions() -> dg.Definitions:
    """The silver layer's assets and job.

    A bad conf/expectations.yaml or conf/values.yaml fails loading them, so runs launched by the
    sensor or the UI stop before any write too, not only `c360 run`.
    """
    validate_quality_config()
    return dg.Definitions(assets=SILVER_ASSETS, jobs=[SILVER_JOB])
