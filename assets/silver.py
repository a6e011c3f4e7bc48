"""Silver assets: typed, standardised, latest version per source record.

Thin wrappers around :mod:`c360.silver.publish`: each asset builds its table, audits the staged
rows, checks the row accounting, and only then replaces the table (and its rejects). The
suite's result is the asset's blocking `great_expectations` check.
"""

from collections.abc import Callable

import dagster as dg
from pyspark.sql import DataFrame

from assets.policies import OWNERS, TRANSIENT_RETRY, retry_transient_only
from assets.resources import LakehouseResource
from c360.contract import (
    CONSENT_EVENTS,
    ENGAGEMENT_MESSAGES,
    LOYALTY_POINTS,
    SERVICE_CONTACTS,
    SOURCE_SYSTEMS,
    TRANSACTIONS,
    SourceEntity,
)
from c360.lakehouse import Lakehouse
from c360.silver import (
    Published,
    SilverBuild,
    build_loyalty_points,
    build_person_table,
    build_transactions,
    person_sources,
    publish,
    publish_person_records,
)
from c360.silver.consent import build_consent_events
from c360.silver.interactions import build_engagement_messages, build_service_contacts
from c360.tables import (
    BRONZE_TABLES,
    SILVER_CONSENT_EVENTS,
    SILVER_ENGAGEMENT_MESSAGES,
    SILVER_LOYALTY_POINTS,
    SILVER_PERSON_RECORDS,
    SILVER_PERSON_TABLES,
    SILVER_SERVICE_CONTACTS,
    SILVER_TRANSACTIONS,
    Table,
)
from quality.audit import AuditResult, SilverAuditError
from quality.expectations import validate_quality_config

ASSET_OPTIONS = {
    "group_name": "silver",
    "kinds": {"spark", "delta"},
    "owners": OWNERS,
    "retry_policy": TRANSIENT_RETRY,
}
CHECK = "great_expectations"


def _check_spec(table: Table) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK,
        asset=table.asset_key,
        blocking=True,
        description=f"Great Expectations suite `silver_{table.name}` (conf/expectations.yaml), "
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


def _materialized(
    context: dg.AssetExecutionContext, lake: Lakehouse, write: Callable[..., Published]
) -> dg.MaterializeResult:
    """Run one publish (``write(reports_dir)``); a blocked audit fails the step, never retried."""
    try:
        published = write(lake.reports_dir(context.run.run_id))
    except SilverAuditError as exc:
        results = exc.report.to_markdown() if exc.report is not None else ""
        raise dg.Failure(
            str(exc), metadata={"results": dg.MetadataValue.md(results)}, allow_retries=False
        ) from exc
    metadata: dict[str, object] = dict(published.figures)
    if published.table is not SILVER_PERSON_RECORDS:
        metadata["rule_violations"] = dg.MetadataValue.json(published.audit.violations)
    metadata["location"] = dg.MetadataValue.path(lake.location(published.table))
    if published.preview:
        metadata["preview"] = dg.MetadataValue.md(published.preview)
    return dg.MaterializeResult(metadata=metadata, check_results=[_check_result(published.audit)])


def _silver_asset(
    table: Table,
    entity: SourceEntity,
    build: Callable[[DataFrame], SilverBuild],
    description: str,
    extra_deps: tuple[Table, ...] = (),
    build_with: Callable[[Lakehouse, DataFrame], SilverBuild] | None = None,
) -> dg.AssetsDefinition:
    """The asset of one silver table built from one bronze table (``build(bronze frame)``, or
    ``build_with(lake, bronze frame)`` when it reads other tables too)."""
    bronze = BRONZE_TABLES[entity.name]

    @dg.asset(
        key=table.asset_key,
        deps=[bronze.asset_key, *[t.asset_key for t in extra_deps]],
        check_specs=[_check_spec(table)],
        description=description,
        **ASSET_OPTIONS,
    )
    @retry_transient_only
    def _silver(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        lake = lakehouse.get()
        return _materialized(
            context,
            lake,
            lambda reports: publish(
                lake,
                build_with(lake, lake.read(bronze)) if build_with else build(lake.read(bronze)),
                [bronze],
                reports,
            ),
        )

    return _silver


def _person_asset(system: str) -> dg.AssetsDefinition:
    source = person_sources()[system]
    entity = source.entity
    return _silver_asset(
        source.table,
        entity,
        lambda bronze: build_person_table(bronze, source),
        f"{entity.source} {entity.entity}: latest version per {entity.key_column}, identity "
        "fields standardised; bad fields nulled and flagged in the row (field_issues, "
        "raw_values).",
    )


PERSON_ASSETS = {system: _person_asset(system) for system in SOURCE_SYSTEMS}
silver_transactions = _silver_asset(
    SILVER_TRANSACTIONS,
    TRANSACTIONS,
    build_transactions,
    "Typed transactions (amounts in VND, converted by conf/values.yaml; the landed "
    "amount and currency kept), UTC timestamps, local dates, latest landing per "
    "transaction_id, record_key linking to the customer's source record.",
    extra_deps=(SILVER_PERSON_RECORDS,),
)
silver_loyalty_points = _silver_asset(
    SILVER_LOYALTY_POINTS,
    LOYALTY_POINTS,
    build_loyalty_points,
    "Typed loyalty points ledger (earn / redeem / expire / adjust), latest landing per entry_id.",
    extra_deps=(SILVER_PERSON_TABLES["loyalty"],),
)

silver_consent_events = _silver_asset(
    SILVER_CONSENT_EVENTS,
    CONSENT_EVENTS,
    build_consent_events,
    "Consent decisions of the optional consent source (consent/<day>/consent_events*.csv): "
    "purpose, granted / withdrawn, UTC time, the source record; latest landing per event_id.",
)

silver_engagement_messages = _silver_asset(
    SILVER_ENGAGEMENT_MESSAGES,
    ENGAGEMENT_MESSAGES,
    build_engagement_messages,
    "Message events of the optional engagement source (engagement/<day>/messages*.csv): "
    "channel, campaign, journey, event (conf/interactions.yaml), first time per message and "
    "event; record_key from the customer reference.",
)
silver_service_contacts = _silver_asset(
    SILVER_SERVICE_CONTACTS,
    SERVICE_CONTACTS,
    build_service_contacts,
    "Calls, chats and tickets of the optional service source (service/<day>/contacts*.csv): "
    "typed, vocabularies of conf/interactions.yaml; the caller resolved by reference or by "
    "the standardised phone of silver person_records (the phone is not kept).",
    extra_deps=(SILVER_PERSON_RECORDS,),
    build_with=lambda lake, bronze: build_service_contacts(
        bronze, lake.read(SILVER_PERSON_RECORDS)
    ),
)


@dg.asset(
    key=SILVER_PERSON_RECORDS.asset_key,
    deps=[table.asset_key for table in SILVER_PERSON_TABLES.values()],
    check_specs=[_check_spec(SILVER_PERSON_RECORDS)],
    description="Every person-bearing record from crm, erp and loyalty in one schema: the "
    "input of identity resolution. record_key = <source_system>:<source_record_id>.",
    **ASSET_OPTIONS,
)
@retry_transient_only
def person_records(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    lake = lakehouse.get()
    return _materialized(context, lake, lambda reports: publish_person_records(lake, reports))


SILVER_ASSETS = [
    *PERSON_ASSETS.values(),
    silver_transactions,
    silver_loyalty_points,
    person_records,
    silver_consent_events,
    silver_engagement_messages,
    silver_service_contacts,
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
