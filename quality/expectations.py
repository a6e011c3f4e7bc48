"""Great Expectations 1.x suites for the silver tables, declared in ``conf/expectations.yaml``.

:func:`load_suites` reads the declarations, :func:`validate` runs one suite on a Spark
DataFrame (writing Data Docs when asked) and returns a :class:`ValidationReport` that the
Dagster asset checks turn into check results. ``error`` severity maps to GX ``critical`` and
blocks downstream assets; ``warning`` is reported only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import yaml
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from c360.config import CONF_DIR

log = logging.getLogger(__name__)

SUITES_FILE = CONF_DIR / "expectations.yaml"
SEVERITIES = {"error": "critical", "warning": "warning"}


def _quiet_gx() -> None:
    """GX logs INFO lines (temporary docs folders...) on every context; keep warnings only."""
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class ExpectationSpec:
    """One declared expectation: its GX name (snake case), arguments and severity."""

    expectation: str
    kwargs: dict[str, Any]
    severity: str

    def build(self) -> gxe.Expectation:
        class_name = "Expect" + "".join(p.capitalize() for p in self.expectation.split("_"))
        expectation_class = getattr(gxe, class_name, None)
        if expectation_class is None:
            raise ValueError(f"{SUITES_FILE.name}: unknown expectation {self.expectation!r}")
        return expectation_class(**self.kwargs, severity=SEVERITIES[self.severity])


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int
    unexpected_percent: float


@dataclass
class ValidationReport:
    """Per-expectation results of one suite on one table."""

    table: str
    rows: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    data_docs: Path | None = None

    @property
    def failed_errors(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "error"]

    @property
    def failed_warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]

    def to_markdown(self) -> str:
        """One row per expectation, for the Dagster UI."""
        lines = [
            "| expectation | column | severity | ok | unexpected | % |",
            "|---|---|---|---|---|---|",
        ]
        for o in self.outcomes:
            ok = "yes" if o.success else "NO"
            lines.append(
                f"| {o.expectation} | {o.column} | {o.severity} | {ok} "
                f"| {o.unexpected_count} | {o.unexpected_percent:.2f} |"
            )
        return "\n".join(lines)

    @property
    def passed(self) -> bool:
        """No error-severity expectation failed (warnings do not block)."""
        return not self.failed_errors


def _flatten(entries: list[Any]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for entry in entries:
        flat.extend(_flatten(entry) if isinstance(entry, list) else [entry])
    return flat


def load_suites(path: Path = SUITES_FILE) -> dict[str, list[ExpectationSpec]]:
    """Suites keyed by silver table name; keys starting with ``_`` are shared fragments."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    suites = {}
    for table, entries in raw.items():
        if table.startswith("_"):
            continue
        specs = []
        for entry in _flatten(entries):
            entry = dict(entry)
            name = entry.pop("expectation")
            severity = entry.pop("severity", "error")
            if severity not in SEVERITIES:
                raise ValueError(f"{path.name}: {table}.{name}: severity must be error or warning")
            specs.append(ExpectationSpec(name, entry, severity))
        suites[table] = specs
    return suites


def _data_docs_site(context: Any, docs_dir: Path) -> None:
    # The ephemeral context already owns the name `local_site`.
    context.add_data_docs_site(
        site_name="c360",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )


def validate(
    frame: DataFrame, table: str, specs: list[ExpectationSpec], docs_dir: Path | None = None
) -> ValidationReport:
    """Run ``specs`` on ``frame`` with GX; write Data Docs under ``docs_dir`` when given."""
    _quiet_gx()
    context = gx.get_context(mode="ephemeral")
    _quiet_gx()
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_spark("silver")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("whole_table")
    )
    suite = context.suites.add(
        gx.ExpectationSuite(name=f"silver_{table}", expectations=[s.build() for s in specs])
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"silver_{table}", data=batch, suite=suite)
    )
    actions = []
    if docs_dir is not None:
        _data_docs_site(context, docs_dir)
        actions.append(gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["c360"]))
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"silver_{table}",
            validation_definitions=[definition],
            actions=actions,
            result_format="SUMMARY",
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": frame})
    [run_result] = result.run_results.values()
    report = ValidationReport(table=table, rows=frame.count())
    severity_of = {v: k for k, v in SEVERITIES.items()}
    for outcome in run_result.results:
        config = outcome.expectation_config
        report.outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=config.kwargs.get("column"),
                severity=severity_of[str(config.severity.value)],
                success=bool(outcome.success),
                unexpected_count=int(outcome.result.get("unexpected_count") or 0),
                unexpected_percent=float(outcome.result.get("unexpected_percent") or 0.0),
            )
        )
    if docs_dir is not None:
        report.data_docs = docs_dir / "index.html"
    return report


def with_reference_flags(
    table: str, frame: DataFrame, references: dict[str, DataFrame]
) -> DataFrame:
    """Add the boolean columns the reference expectations test.

    - loyalty_points.member_known: the member_id exists in silver/loyalty_members;
    - transactions.customer_ref_known: a guest, or the record_key exists in person_records.
    """
    if table == "loyalty_points":
        members = references["loyalty_members"].select("member_id").distinct()
        known = members.withColumn("member_known", F.lit(True))
        return frame.join(known, "member_id", "left").fillna({"member_known": False})
    if table == "transactions":
        keys = references["person_records"].select("record_key").distinct()
        known = keys.withColumn("_known", F.lit(True))
        joined = frame.join(known, "record_key", "left")
        flag = F.col("record_key").isNull() | F.col("_known").isNotNull()
        return joined.withColumn("customer_ref_known", flag).drop("_known")
    return frame
