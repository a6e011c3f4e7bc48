"""Process the landed erasure requests: find, delete, purge, redact, suppress, audit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from c360.lakehouse import Lakehouse
from c360.privacy.audit import audit_rows, completed_request_ids
from c360.privacy.files import drop_sql_snapshots, loose_files, redact_file
from c360.privacy.model import prune_term_frequencies
from c360.privacy.requests import ErasureRequest, read_requests
from c360.privacy.resolve import Person, PersonIndex
from c360.privacy.tables import check_holds_no_person, person_predicate, tables_on_disk
from c360.privacy_rules import (
    HASHED_FIELDS,
    PrivacyConfig,
    identifier_hash,
    load_privacy_config,
    suppression_salt,
)
from c360.tables import (
    GOLD_PRIVACY_REQUESTS,
    PRIVACY_SUPPRESSION,
    PRIVACY_SUPPRESSION_SCHEMA,
    Table,
)

log = logging.getLogger(__name__)


@dataclass
class ErasureReport:
    """What one request erased (counts only)."""

    request_id: str
    kind: str
    received_at: datetime
    completed_at: datetime
    customers: int
    records: int
    rows_deleted: dict[str, int] = field(default_factory=dict)
    files_redacted: int = 0

    @property
    def status(self) -> str:
        return "completed" if self.customers or self.records else "no_match"

    def audit_row(self) -> dict:
        return {
            "request_id": self.request_id,
            "kind": self.kind,
            "received_at": self.received_at,
            "completed_at": self.completed_at,
            "status": self.status,
            "customers_erased": self.customers,
            "records_erased": self.records,
            "rows_deleted": sorted(self.rows_deleted.items()),
            "files_redacted": self.files_redacted,
        }


def suppression_rows(
    request: ErasureRequest, person: Person, salt: bytes, now: datetime
) -> list[dict]:
    """Hashes of the person's record keys and standardised identifiers."""
    pairs = {("source_record", key) for key in person.record_keys}
    pairs |= {(kind, v) for kind in HASHED_FIELDS for v in person.identifiers.get(kind, ())}
    return [
        {
            "identifier_hash": identifier_hash(kind, value, salt),
            "kind": kind,
            "request_id": request.request_id,
            "added_at": now,
        }
        for kind, value in sorted(pairs)
    ]


def _erase_person(lake: Lakehouse, tables: list[Table], person: Person) -> dict[str, int]:
    """Delete the person's rows from every table; rows deleted per table (non-zero only)."""
    deleted = {}
    for table in tables:
        predicate = person_predicate(lake, table, person)
        if predicate is None:
            continue
        if rows := lake.delete_where(table, predicate):
            deleted[table.qualified_name] = rows
    return deleted


def _redact_files(lake: Lakehouse, tables: list[Table], person: Person, config) -> int:
    table_dirs = [lake.root / t.layer / t.name for t in tables]
    needles = person.needles()
    replacement = config.erasure.redacted_text
    return sum(
        redact_file(path, needles, replacement) for path in loose_files(lake.root, table_dirs)
    )


def process_requests(
    lake: Lakehouse,
    raw_root: Path,
    now: datetime | None = None,
    config: PrivacyConfig | None = None,
) -> list[ErasureReport]:
    """Erase every landed request not completed yet; returns one report per request.

    Raises:
        UnknownTableError: a Delta table on disk has no erasure rule (nothing is erased).
        PrivacyConfigError: the suppression salt is not set.
        ErasureRequestError: a request file breaks the contract.
    """
    config = config or load_privacy_config()
    done = completed_request_ids(lake)
    pending = [r for r in read_requests(raw_root) if r.request_id not in done]
    if not pending:
        return []
    salt = suppression_salt(config)  # before any delete
    now = now or datetime.now(UTC)
    tables = tables_on_disk(lake.root)
    index = PersonIndex.read(lake)
    people = [index.resolve(r) for r in pending]
    for table in (t for t in tables if t.person is not None and t.person.kind == "none"):
        check_holds_no_person(lake, table, people)
    reports = []
    suppressed = []
    for request, person in zip(pending, people, strict=True):
        deleted = _erase_person(lake, tables, person)
        reports.append(
            ErasureReport(
                request.request_id,
                request.kind,
                request.received_at,
                now,
                customers=len(person.customer_ids),
                records=len(person.record_keys),
                rows_deleted=deleted,
            )
        )
        suppressed += suppression_rows(request, person, salt, now)
    if suppressed:
        lake.merge(
            pa.Table.from_pylist(suppressed, schema=PRIVACY_SUPPRESSION_SCHEMA), PRIVACY_SUPPRESSION
        )
    for table in tables_on_disk(lake.root):
        lake.purge_history(table)
    drop_sql_snapshots(lake.root)
    prune_term_frequencies(lake.models_dir(), config.tf_minimum_count)
    for report, person in zip(reports, people, strict=True):
        report.files_redacted = _redact_files(lake, tables, person, config)
    lake.merge(audit_rows([r.audit_row() for r in reports]), GOLD_PRIVACY_REQUESTS)
    for report in reports:
        log.info(
            "erasure %s (%s): %s, %d customers, %d records, %d rows",
            report.request_id, report.kind, report.status, report.customers, report.records,
            sum(report.rows_deleted.values()),
        )  # fmt: skip
    return reports
