"""Write, audit, publish for every silver table (the Dagster assets only wrap this).

Each table is built (staged, not written), audited by its suite (:func:`quality.audit.audit`),
its row accounting checked, and only then its rejects and rows replace the published ones. A
blocking failure raises :class:`quality.audit.SilverAuditError`: nothing is written and the
previous version stays current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from c360.lakehouse import Lakehouse
from c360.profile_fields import load_profile_fields
from c360.quarantine import replace_silver_rejects
from c360.silver.interactions import resolution_figures
from c360.silver.persons import build_person_records, person_records_build
from c360.tables import (
    PROFILE_FIELDS,
    SILVER_CONSENT_EVENTS,
    SILVER_ENGAGEMENT_MESSAGES,
    SILVER_LOYALTY_POINTS,
    SILVER_PERSON_RECORDS,
    SILVER_PERSON_TABLES,
    SILVER_SERVICE_CONTACTS,
    SILVER_TRANSACTIONS,
    Table,
)
from quality.audit import AuditResult, SilverAuditError, audit
from quality.expectations import load_suites
from quality.staging import SilverBuild

SILVER_TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        *SILVER_PERSON_TABLES.values(),
        SILVER_TRANSACTIONS,
        SILVER_LOYALTY_POINTS,
        SILVER_PERSON_RECORDS,
        SILVER_CONSENT_EVENTS,
        SILVER_ENGAGEMENT_MESSAGES,
        SILVER_SERVICE_CONTACTS,
    )
}
# Interaction tables whose rows may name nobody known: their figures count those rows.
RESOLVED_TABLES = (SILVER_ENGAGEMENT_MESSAGES.name, SILVER_SERVICE_CONTACTS.name)
# Silver tables an audit reads, per table (the reference flags of quality.expectations).
REFERENCES = {"transactions": ["person_records"], "loyalty_points": ["loyalty_members"]}
# Never shown in a preview (the UI's metadata must hold no personal data).
PII_COLUMNS = {
    "phone_e164", "email", "national_id", "address", "address_folded", "raw_values",
    "full_name", "full_name_folded", "family_name", "middle_name", "given_name", "date_of_birth",
    "card_number", "tax_code", "field_issues", "device_id", "social_ids", "profile_owner",
}  # fmt: skip


@dataclass
class Published:
    """What one silver publish wrote: its figures and the audit (frames already released)."""

    table: Table
    audit: AuditResult
    figures: dict[str, int | bool] = field(default_factory=dict)
    preview: str = ""  # a few rows as markdown, PII columns left out


def preview_markdown(frame: DataFrame, rows: int = 5) -> str:
    """A few rows for the UI, without PII or lineage columns."""
    safe = [c for c in frame.columns if c not in PII_COLUMNS and not c.startswith("_")]
    return frame.select(*safe[:10]).limit(rows).toPandas().to_markdown()


def audited(lake: Lakehouse, build: SilverBuild, reports_dir: Path) -> AuditResult:
    """Audit the staged build (Data Docs under ``reports_dir``); nothing is written here.

    Raises:
        SilverAuditError: a blocking check failed (with the report).
    """
    name = build.table.name
    references = {r: lake.read(SILVER_TABLES[r]) for r in REFERENCES.get(name, [])}
    result = audit(build, load_suites()[name], references, reports_dir / "data_docs" / name)
    if not result.passed:
        result.release()
        raise SilverAuditError(result.message(), result.report)
    return result


def publish(
    lake: Lakehouse, build: SilverBuild, bronze_tables: list[Table], reports_dir: Path
) -> Published:
    """Audit a silver build, check its row accounting against bronze, then write rejects and rows.

    Raises:
        SilverAuditError: a blocking check failed; nothing written.
        RowAccountingError: bronze rows lost or duplicated; nothing written.
    """
    result = audited(lake, build, reports_dir)
    try:
        staged = result.build
        counts = staged.check_accounting(sum(lake.count(t) for t in bronze_tables))
        replace_silver_rejects(lake, build.table.name, staged.rejects)
        lake.overwrite(staged.rows, build.table)
        figures: dict[str, int | bool] = {
            **counts,
            "rows": counts["rows_silver"],
            "table_rows_total": counts["rows_silver"],
            "rows_accounted": True,  # check_accounting raises otherwise
            **profile_flag_counts(staged.rows),
        }
        if build.table.name in RESOLVED_TABLES:
            figures |= resolution_figures(staged.rows)
        return Published(build.table, result, figures, preview_markdown(staged.rows))
    finally:
        result.release()


def profile_flag_counts(rows: DataFrame) -> dict[str, int]:
    """``flagged_<field>``: rows whose profile or custom field was flagged (not in the vocabulary,
    not of its type; conf/profile_fields.yaml), for the person tables' run metadata."""
    if "field_issues" not in rows.columns:
        return {}
    fields = [name for name, _ in PROFILE_FIELDS] + [
        c for c in rows.columns if c in {f.name for f in load_profile_fields().custom_fields}
    ]
    issues = rows.select(F.explode("field_issues").alias("issue"))
    field = F.substring_index("issue", ":", 1)
    counted = issues.where(field.isin(fields)).groupBy(field.alias("field")).count().collect()
    found = {r["field"]: r["count"] for r in counted}
    return {f"flagged_{name}": int(found.get(name, 0)) for name in fields}


def publish_person_records(lake: Lakehouse, reports_dir: Path) -> Published:
    """``silver/person_records`` from the published person tables, audited, then written.

    Raises:
        SilverAuditError: a blocking check failed; nothing written.
    """
    tables = {system: lake.read(table) for system, table in SILVER_PERSON_TABLES.items()}
    result = audited(lake, person_records_build(build_person_records(tables)), reports_dir)
    try:
        lake.overwrite(result.build.rows, SILVER_PERSON_RECORDS)
        by_source = {
            r.source_system: r["count"]
            for r in result.build.rows.groupBy("source_system").count().collect()
        }
    finally:
        result.release()
    figures: dict[str, int | bool] = {
        "rows": sum(by_source.values()),
        "table_rows_total": lake.count(SILVER_PERSON_RECORDS),
        **{f"rows_{system}": count for system, count in sorted(by_source.items())},
    }
    return Published(SILVER_PERSON_RECORDS, result, figures)
