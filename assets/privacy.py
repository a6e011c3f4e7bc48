"""``gold/privacy_requests``: the privacy stage (after bronze, before silver) and its deadline
check. Metadata holds counts and request IDs only, never an identifier's value."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from assets.policies import OWNERS, TRANSIENT_RETRY, retry_transient_only
from assets.resources import LakehouseResource, LandingZoneResource
from c360.consent import consent_extract_columns, consent_history, read_consent_events
from c360.lakehouse import Lakehouse
from c360.privacy import overdue_requests, process_requests
from c360.privacy_rules import load_privacy_config
from c360.tables import (
    BRONZE_TABLES,
    GOLD_CONSENT_HISTORY,
    GOLD_IDENTITY_MAP,
    GOLD_PRIVACY_REQUESTS,
    SILVER_CONSENT_EVENTS,
    SILVER_PERSON_RECORDS,
)

PRIVACY_REQUESTS_KEY = GOLD_PRIVACY_REQUESTS.asset_key
PRIVACY_JOB_NAME = "privacy_job"


def _lake(lakehouse: LakehouseResource) -> Lakehouse:
    # delta-rs only: the stage reads and deletes through Delta logs, no Spark session needed
    return Lakehouse(Path(lakehouse.root), spark=None, writer="delta-rs")


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    key=PRIVACY_REQUESTS_KEY,
    deps=[t.asset_key for t in BRONZE_TABLES.values()],
    kinds={"delta", "python"},
    group_name="privacy",
    owners=OWNERS,
    description=(
        "Erasure requests of privacy/<day>/erasure_requests*.csv (or `c360 forget`): each "
        "person is deleted from every Delta table, old versions purged (vacuum with zero "
        "retention, log cleaned), _reports/ redacted, SQL snapshots dropped, identifiers "
        "added to the suppression list as salted hashes. One row per request, no values."
    ),
    metadata={"table": GOLD_PRIVACY_REQUESTS.qualified_name},
)
@retry_transient_only
def privacy_requests(
    context: dg.AssetExecutionContext,
    lakehouse: LakehouseResource,
    landing_zone: LandingZoneResource,
) -> dg.MaterializeResult:
    lake = _lake(lakehouse)
    reports = process_requests(lake, landing_zone.path)
    for report in reports:
        context.log.info(
            f"erasure {report.request_id} ({report.kind}): {report.status}, "
            f"{sum(report.rows_deleted.values())} rows in {len(report.rows_deleted)} tables"
        )
    return dg.MaterializeResult(
        metadata={
            "requests_processed": len(reports),
            "request_ids": dg.MetadataValue.json([r.request_id for r in reports]),
            "rows_deleted": sum(sum(r.rows_deleted.values()) for r in reports),
            "rows_deleted_per_table": dg.MetadataValue.json(
                {
                    table: sum(r.rows_deleted.get(table, 0) for r in reports)
                    for table in sorted({t for r in reports for t in r.rows_deleted})
                }
            ),
            "files_redacted": sum(r.files_redacted for r in reports),
        }
    )


@dg.asset_check(
    asset=PRIVACY_REQUESTS_KEY,
    name="no_overdue_erasure",
    description="Every landed erasure request is completed within conf/privacy.yaml "
    "erasure.deadline_hours of its received_at.",
)
def no_overdue_erasure(
    lakehouse: LakehouseResource, landing_zone: LandingZoneResource
) -> dg.AssetCheckResult:
    deadline = load_privacy_config().erasure.deadline_hours
    overdue = overdue_requests(_lake(lakehouse), landing_zone.path, deadline, datetime.now(UTC))
    return dg.AssetCheckResult(
        passed=not overdue,
        description=(
            f"{len(overdue)} erasure requests open for more than {deadline:g} hours: run the "
            "privacy stage (`c360 run`)"
            if overdue
            else f"no request open for more than {deadline:g} hours"
        ),
        metadata={"overdue": dg.MetadataValue.json([r.request_id for r in overdue])},
    )


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    key=GOLD_CONSENT_HISTORY.asset_key,
    deps=[
        SILVER_PERSON_RECORDS.asset_key,
        SILVER_CONSENT_EVENTS.asset_key,
        GOLD_IDENTITY_MAP.asset_key,
    ],
    kinds={"delta", "python"},
    group_name="identity",  # built by identity_job, before gold/golden_records reads the ledger
    owners=OWNERS,
    description=(
        "The consent ledger: every decision (customer, purpose, granted / withdrawn, when, "
        "source record) from the extracts' consent columns and consent/<day>/consent_events. "
        "The golden record shows the latest per purpose (c360/consent.py)."
    ),
    metadata={"table": GOLD_CONSENT_HISTORY.qualified_name},
)
@retry_transient_only
def consent_history_asset(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    lake = _lake(lakehouse)
    history = consent_history(
        lake.read_arrow(SILVER_PERSON_RECORDS),
        lake.read_arrow(GOLD_IDENTITY_MAP),
        read_consent_events(lake),
        consent_extract_columns(),
    )
    lake.overwrite(history, GOLD_CONSENT_HISTORY)
    purposes = history.column("purpose").to_pylist()
    return dg.MaterializeResult(
        metadata={
            "rows": history.num_rows,
            "events_per_purpose": dg.MetadataValue.json(
                {p: purposes.count(p) for p in sorted(set(purposes))}
            ),
        }
    )


PRIVACY_JOB = dg.define_asset_job(
    PRIVACY_JOB_NAME,
    selection=dg.AssetSelection.groups("privacy"),
    description="Process the erasure requests (after bronze, before silver).",
)


def privacy_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[privacy_requests, consent_history_asset],
        asset_checks=[no_overdue_erasure],
        jobs=[PRIVACY_JOB],
    )
