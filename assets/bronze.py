"""Bronze assets: one per landing-zone source entity, partitioned by landing day."""

from datetime import date
from typing import cast

import dagster as dg

from assets.partitions import LANDING_DAYS
from assets.policies import OWNERS, TRANSIENT_RETRY, retry_transient_only
from assets.resources import LakehouseResource, LandingZoneResource
from c360.bronze import IngestResult, ingest_days
from c360.contract import SOURCE_ENTITIES, LandingZoneError, SourceEntity, UnknownFilesPolicy
from c360.tables import BRONZE_TABLES


def bronze_asset(entity: SourceEntity) -> dg.AssetsDefinition:
    """The bronze asset of one source entity (e.g. ``bronze/crm_contacts``)."""
    table = BRONZE_TABLES[entity.name]

    @dg.asset(
        key=table.asset_key,
        group_name="bronze",
        partitions_def=LANDING_DAYS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"delta", "python"},
        owners=OWNERS,
        retry_policy=TRANSIENT_RETRY,
        description=(
            f"{entity.source} `{'`, `'.join(entity.file_globs)}` as landed (strings) plus "
            "lineage columns. Unparseable rows go to quarantine/rejects with the reason. "
            "Re-materialising a day replaces that day's partition. A day is ingested only "
            "when it is complete (every source with files has its _SUCCESS) and its folders "
            "follow the contract; otherwise nothing of the run's days is written."
        ),
        metadata={"table": table.qualified_name, "key_column": entity.key_column},
    )
    @retry_transient_only
    def _bronze(
        context: dg.AssetExecutionContext,
        lakehouse: LakehouseResource,
        landing_zone: LandingZoneResource,
    ) -> dg.MaterializeResult:
        days = [date.fromisoformat(key) for key in sorted(context.partition_keys)]
        policy = cast(UnknownFilesPolicy, landing_zone.unknown_files)
        lake = lakehouse.get()
        try:
            results, warnings = ingest_days(lake, landing_zone.path, entity, days, policy)
        except LandingZoneError as exc:  # a contract violation: retrying cannot help
            raise dg.Failure(str(exc), allow_retries=False) from exc
        for result in results:
            context.log.info(
                f"{result.day}: {result.files} files, {result.rows_bronze} rows, "
                f"{result.rows_quarantined} quarantined"
            )
        for warning in warnings:
            context.log.warning(warning)
        metadata = _metadata(results, warnings)
        metadata["table_rows_total"] = lake.count(table)
        metadata["location"] = dg.MetadataValue.path(lake.location(table))
        return dg.MaterializeResult(metadata=metadata)

    return _bronze


def _metadata(results: list[IngestResult], warnings: list[str]) -> dict[str, object]:
    """Row accounting of the run (each figure counted on its own), files, warnings."""
    rows_read = sum(r.rows_read for r in results)
    rows_bronze = sum(r.rows_bronze for r in results)
    rows_quarantined = sum(r.rows_quarantined for r in results)
    files = [f for r in results for f in r.file_figures]
    table = "\n".join(
        ["| file | lines | rows | quarantined |", "|---|---:|---:|---:|"]
        + [f"| {name} | {lines} | {rows} | {rejects} |" for name, lines, rows, rejects in files]
    )
    return {
        "days": dg.MetadataValue.text(", ".join(str(r.day) for r in results)),
        "files": len(files),
        "lines_read": sum(r.lines_read for r in results),
        "rows_read": rows_read,
        "rows": rows_bronze,  # counted back in the table after the commit
        "rows_quarantined": rows_quarantined,
        # c360.bronze raises AccountingError before this point when the figures disagree
        "rows_accounted": rows_read == rows_bronze + rows_quarantined,
        "rows_kept": sum(r.rows_kept for r in results),  # days whose folder has gone
        "files_accounting": dg.MetadataValue.md(table),
        "warnings": dg.MetadataValue.json(warnings),
    }


BRONZE_ASSETS = [bronze_asset(entity) for entity in SOURCE_ENTITIES]
BRONZE_JOB = dg.define_asset_job(
    "bronze_job",
    selection=dg.AssetSelection.groups("bronze"),
    partitions_def=LANDING_DAYS,
    description="Land every source entity's extracts for the selected days in bronze.",
)


def bronze_definitions() -> dg.Definitions:
    return dg.Definitions(assets=BRONZE_ASSETS, jobs=[BRONZE_JOB])
