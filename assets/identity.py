"""Identity assets: silver/person_records -> gold/identity_map + history -> golden_records."""

import uuid
from datetime import UTC, datetime

import dagster as dg

from assets.policies import OWNERS, TRANSIENT_RETRY, retry_transient_only
from assets.resources import LakehouseResource, MatcherResource
from c360.consent import read_consent_events
from c360.lakehouse import Lakehouse
from c360.tables import (
    GOLD_CONSENT_HISTORY,
    GOLD_GOLDEN_RECORDS,
    GOLD_IDENTITY_HISTORY,
    GOLD_IDENTITY_MAP,
    SILVER_PERSON_RECORDS,
)
from resolution.config import load_identity_config
from resolution.explain import write_identity_links
from resolution.golden import build_golden_records
from resolution.linker import make_backend
from resolution.run import commit_identity, previous_identity, repair_identity, resolve_identities

PERSON_RECORDS_KEY = SILVER_PERSON_RECORDS.asset_key
IDENTITY_MAP_KEY = GOLD_IDENTITY_MAP.asset_key
IDENTITY_HISTORY_KEY = GOLD_IDENTITY_HISTORY.asset_key
PREVIEW_COLUMNS = [
    "customer_id",
    "full_name_source",
    "phone_e164_source",
    "linked_records_crm",
    "linked_records_erp",
    "linked_records_loyalty",
]


class IdentityRunConfig(dg.Config):
    """Run options: retrain the Splink model; evaluate against a truth folder."""

    retrain: bool = False
    truth_root: str | None = None


def duckdb_temp(lake: Lakehouse, matcher: MatcherResource) -> str:
    """Where DuckDB spills: ``identity.duckdb_temp_directory``, else ``<lakehouse>/_tmp/duckdb``."""
    return matcher.duckdb_temp_directory or str(lake.root / "_tmp" / "duckdb")


def _truth_root(config: IdentityRunConfig, matcher: MatcherResource) -> str | None:
    # `c360 run --truth DIR` (or C360_TRUTH) reaches the matcher resource; run config wins.
    return config.truth_root or matcher.truth_root


@dg.multi_asset(
    retry_policy=TRANSIENT_RETRY,
    specs=[
        dg.AssetSpec(
            IDENTITY_MAP_KEY,
            deps=[PERSON_RECORDS_KEY],
            description="One row per source record with its stable customer_id.",
            metadata={"table": GOLD_IDENTITY_MAP.qualified_name},
            kinds={"delta", "splink"},
            owners=OWNERS,
            group_name="identity",
        ),
        dg.AssetSpec(
            IDENTITY_HISTORY_KEY,
            deps=[PERSON_RECORDS_KEY],
            description="Customer IDs created, merged and split, one row per event and ID.",
            metadata={"table": GOLD_IDENTITY_HISTORY.qualified_name},
            kinds={"delta"},
            owners=OWNERS,
            group_name="identity",
        ),
    ],
)
@retry_transient_only
def identity_map(
    context: dg.AssetExecutionContext,
    config: IdentityRunConfig,
    lakehouse: LakehouseResource,
    matcher: MatcherResource,
):
    """Splink matching (model in _models/splink, reused unless retrained), guarded clustering,
    stable customer IDs; charts under _reports/<run_id>/. First finishes the commits of a run
    killed between the map and the history (resolution.run.repair_identity)."""
    lake = lakehouse.get()
    matching = load_identity_config()
    repaired = repair_identity(lake)
    previous, issued = previous_identity(lake)
    run_id = context.run_id or uuid.uuid4().hex
    at = datetime.now(UTC)
    run = resolve_identities(
        lake.read_arrow(SILVER_PERSON_RECORDS),
        previous,
        issued,
        make_backend(
            matcher.backend, lake.spark, matcher.duckdb_memory_limit, duckdb_temp(lake, matcher)
        ),
        matching,
        matcher.match_probability_threshold,
        run_id=run_id,
        at=at,
        models_dir=lake.models_dir(),
        reports_dir=lake.reports_dir(context.run_id),
        retrain=config.retrain or matching.model.retrain,
        truth_root=_truth_root(config, matcher),
    )
    commit_identity(lake, run, run_id, at)
    write_identity_links(
        lake, run.match, run.identity_map, matching, matcher.match_probability_threshold, run_id
    )
    if run.warnings:
        context.log.warning("; ".join(run.warnings))
    charts = {f"chart_{k}": dg.MetadataValue.path(str(v)) for k, v in run.charts.items()}
    yield dg.MaterializeResult(
        asset_key=IDENTITY_MAP_KEY,
        metadata={**run.metadata(), **charts, "rows": run.identity_map.num_rows},
    )
    yield dg.MaterializeResult(
        asset_key=IDENTITY_HISTORY_KEY,
        metadata={
            "rows_this_run": run.history.num_rows,
            "runs_repaired": dg.MetadataValue.json(repaired),
            "table_rows_total": lake.count(GOLD_IDENTITY_HISTORY),
        },
    )


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    key=GOLD_GOLDEN_RECORDS.asset_key,
    deps=[PERSON_RECORDS_KEY, IDENTITY_MAP_KEY, GOLD_CONSENT_HISTORY.asset_key],
    group_name="identity",
    kinds={"delta"},
    owners=OWNERS,
    description=(
        "One row per customer: each field chosen by conf/survivorship.yaml with its source "
        "record (`<field>_source`), consent per purpose (the consent ledger's latest "
        "decision, c360/consent.py), linked-record counts."
    ),
    metadata={"table": GOLD_GOLDEN_RECORDS.qualified_name},
)
@retry_transient_only
def golden_records(lakehouse: LakehouseResource, matcher: MatcherResource) -> dg.MaterializeResult:
    lake = lakehouse.get()
    golden = build_golden_records(
        lake.read_arrow(SILVER_PERSON_RECORDS),
        lake.read_arrow(GOLD_IDENTITY_MAP),
        make_backend(
            matcher.backend, lake.spark, matcher.duckdb_memory_limit, duckdb_temp(lake, matcher)
        ),
        consent_events=read_consent_events(lake),
    )
    lake.overwrite(golden, GOLD_GOLDEN_RECORDS)
    return dg.MaterializeResult(
        metadata={
            "rows": golden.num_rows,
            # No personal data in the UI: ids, provenance and counts only.
            "preview": dg.MetadataValue.md(
                golden.select(PREVIEW_COLUMNS).slice(0, 5).to_pandas().to_markdown()
            ),
        }
    )


IDENTITY_JOB = dg.define_asset_job(
    "identity_job",
    selection=dg.AssetSelection.groups("identity"),
    description="Match person records, assign stable customer IDs, build golden records.",
)


def identity_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[identity_map, golden_records], jobs=[IDENTITY_JOB])
