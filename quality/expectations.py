"""Great Expectations 1.x suites for the silver tables, declared in ``conf/expectations.yaml``.

:func:`load_suites` reads and validates the declarations (pydantic: unknown keys, an unknown
expectation or argument, a column the table does not have, an ``on_fail`` the expectation cannot
support all stop the run at start-up), :func:`validate` runs one suite on a Spark DataFrame
(writing Data Docs when asked) and returns a :class:`ValidationReport`.

Each expectation says what a failure does (``on_fail``):

- ``block``: a table-level rule (key not null / unique, a column present): the table is not
  published and the run fails;
- ``quarantine``: each violating row goes to ``quarantine/rejects`` with the expectation as its
  reason; ``flag``: the violating field is nulled, its landed value kept in ``raw_values`` and
  the problem added to ``field_issues`` (person tables only). Either blocks the table when the
  share of violating rows exceeds ``max_share``;
- ``warn``: reported only.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import great_expectations as gx
import great_expectations.expectations as gxe
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360.config import CONF_DIR, ConfigError
from c360.interactions import load_vocabularies
from c360.profile_fields import load_profile_fields
from c360.tables import (
    SILVER_LOYALTY_POINTS,
    SILVER_LOYALTY_POINTS_SCHEMA,
    SILVER_PERSON_RECORDS,
    SILVER_PERSON_RECORDS_SCHEMA,
    SILVER_PERSON_TABLES,
    SILVER_SCHEMAS,
    SILVER_TRANSACTIONS,
    SILVER_TRANSACTIONS_SCHEMA,
)
from c360.values import VALUES_FILE, load_value_rules

log = logging.getLogger(__name__)

SUITES_FILE = CONF_DIR / "expectations.yaml"
OnFail = Literal["block", "quarantine", "flag", "warn"]
# GX severity of each on_fail: a warn is reported only, anything else fails the check.
GX_SEVERITY = {"block": "critical", "quarantine": "critical", "flag": "critical", "warn": "warning"}
# Expectations a row can violate on its own: the only ones that can quarantine or flag.
ROW_LEVEL = {
    "column_values_to_not_be_null",
    "column_values_to_be_in_set",
    "column_values_to_be_between",
    "column_values_to_match_regex",
}


def _quiet_gx() -> None:
    """GX logs INFO lines (temporary docs folders...) on every context; keep warnings only."""
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _gx_class(expectation: str) -> type[gxe.Expectation] | None:
    class_name = "Expect" + "".join(p.capitalize() for p in expectation.split("_"))
    return getattr(gxe, class_name, None)


@dataclass(frozen=True)
class ExpectationSpec:
    """One declared expectation: its GX name (snake case), arguments and what a failure does."""

    expectation: str
    kwargs: dict[str, Any]
    on_fail: OnFail = "block"
    max_share: float = 0.0

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def gx_name(self) -> str:
        """The name GX reports: ``expect_column_values_to_be_in_set``."""
        return f"expect_{self.expectation}"

    def build(self) -> gxe.Expectation:
        expectation_class = _gx_class(self.expectation)
        if expectation_class is None:
            raise ValueError(f"{SUITES_FILE.name}: unknown expectation {self.expectation!r}")
        return expectation_class(
            **self.kwargs, severity=GX_SEVERITY[self.on_fail], meta={"on_fail": self.on_fail}
        )

    def violated(self) -> Column:
        """True on a row that violates this row-level expectation (nulls pass, as in GX)."""
        column, kwargs = F.col(self.column), self.kwargs
        if self.expectation == "column_values_to_not_be_null":
            return column.isNull()
        if self.expectation == "column_values_to_be_in_set":
            ok = column.isin(*kwargs["value_set"])
        elif self.expectation == "column_values_to_match_regex":
            ok = column.rlike(kwargs["regex"])
        elif self.expectation == "column_values_to_be_between":
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            ok = F.lit(True)
            if low is not None:
                ok = ok & (column >= F.lit(low).cast(column_type_hint(low)))
            if high is not None:
                ok = ok & (column <= F.lit(high).cast(column_type_hint(high)))
        else:
            raise ValueError(f"{self.expectation} is not a row-level expectation")
        return column.isNotNull() & ~F.coalesce(ok, F.lit(False))

    def reason(self) -> str:
        """The quarantine reason / field issue: ``expect_column_values_to_be_in_set: status``."""
        return f"{self.gx_name}: {self.column}"


def column_type_hint(bound: Any) -> str:
    """Spark type to compare a between bound as: dates stay dates, numbers are decimals."""
    return "date" if isinstance(bound, str) else "decimal(38,6)"


class _Rule(BaseModel):
    """One entry of conf/expectations.yaml; other keys are the GX expectation's arguments."""

    model_config = ConfigDict(extra="allow", frozen=True)

    expectation: str
    on_fail: OnFail = "block"
    max_share: float | None = Field(None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _consistent(self) -> _Rule:
        expectation_class = _gx_class(self.expectation)
        if expectation_class is None:
            raise ValueError(f"unknown Great Expectations expectation {self.expectation!r}")
        kwargs = self.model_extra or {}
        # severity and meta are set from on_fail; the rest of GX's base fields are not ours
        accepted = set(expectation_class.__fields__) - {*gxe.Expectation.__fields__, "batch_id"}
        if unknown := sorted(set(kwargs) - accepted):
            raise ValueError(
                f"unknown key {', '.join(map(repr, unknown))}; {self.expectation} takes "
                f"{', '.join(sorted(accepted))} (and on_fail, max_share)"
            )
        if self.on_fail in ("quarantine", "flag"):
            if self.expectation not in ROW_LEVEL:
                raise ValueError(
                    f"on_fail {self.on_fail} needs a row-level expectation "
                    f"({', '.join(sorted(ROW_LEVEL))}); use block for {self.expectation}"
                )
            if "mostly" in kwargs:
                raise ValueError(f"on_fail {self.on_fail} uses max_share, not mostly")
            if self.max_share is None:
                raise ValueError(f"on_fail {self.on_fail} needs max_share (0 to 1)")
        elif self.max_share is not None:
            raise ValueError("max_share applies to on_fail quarantine or flag only")
        try:
            expectation_class(**kwargs)
        except Exception as exc:  # GX's own pydantic model names the bad argument
            raise ValueError(" ".join(str(exc).split())) from exc
        return self

    def spec(self) -> ExpectationSpec:
        return ExpectationSpec(
            self.expectation, dict(self.model_extra or {}), self.on_fail, self.max_share or 0.0
        )


def _flatten(entries: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for entry in entries:
        flat.extend(_flatten(entry) if isinstance(entry, list) else [entry])
    return flat


def _problem(path: Path, where: str, message: str) -> str:
    return f"{path.name}: {where}: {message}"


def _check_columns(
    path: Path, table: str, specs: list[ExpectationSpec], tables: dict[str, TableRules]
) -> list[str]:
    rules = tables[table]
    problems = []
    for number, spec in enumerate(specs, start=1):
        where = f"{table}[{number}] {spec.expectation}"
        if spec.column is not None and spec.column not in rules.columns:
            problems.append(
                _problem(path, where, f"{table} has no column {spec.column!r}; its columns: "
                         f"{', '.join(sorted(rules.columns))}")
            )  # fmt: skip
        elif spec.on_fail == "flag" and not rules.flaggable:
            problems.append(
                _problem(path, where, f"on_fail flag needs field_issues; {table} has none: "
                         "use quarantine")
            )  # fmt: skip
        elif spec.on_fail == "quarantine" and not rules.quarantinable:
            problems.append(
                _problem(path, where, f"{table} rows have no source line to quarantine: use block")
            )
        elif spec.on_fail in ("quarantine", "flag") and spec.column in rules.keys:
            problems.append(_problem(path, where, f"{spec.column} is the table's key: use block"))
    return problems


@dataclass(frozen=True)
class TableRules:
    """What the suite of one table may refer to."""

    columns: frozenset[str]
    keys: frozenset[str] = frozenset()
    flaggable: bool = False
    quarantinable: bool = False

    @classmethod
    def of(
        cls, schema: pa.Schema, keys: tuple[str, ...], extra: tuple[str, ...] = ()
    ) -> TableRules:
        names = frozenset([*schema.names, *extra])
        return cls(names, frozenset(keys), "field_issues" in names, "_source_file" in names)


def silver_table_rules() -> dict[str, TableRules]:
    """The silver tables a suite may be declared for, with their columns (c360.tables)."""
    rules = {
        table.name: TableRules.of(SILVER_SCHEMAS[table.name], table.keys)
        for table in SILVER_PERSON_TABLES.values()
    }
    rules["transactions"] = TableRules.of(
        SILVER_TRANSACTIONS_SCHEMA, SILVER_TRANSACTIONS.keys, REFERENCE_FLAGS["transactions"]
    )
    rules["loyalty_points"] = TableRules.of(
        SILVER_LOYALTY_POINTS_SCHEMA, SILVER_LOYALTY_POINTS.keys, REFERENCE_FLAGS["loyalty_points"]
    )
    rules["person_records"] = TableRules.of(
        SILVER_PERSON_RECORDS_SCHEMA, SILVER_PERSON_RECORDS.keys
    )
    rules["consent_events"] = TableRules.of(SILVER_SCHEMAS["consent_events"], ("event_id",))
    for name, key in (("engagement_messages", "event_id"), ("service_contacts", "contact_id")):
        rules[name] = TableRules.of(SILVER_SCHEMAS[name], (key,))
    return rules


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of table name -> expectations")
    return raw


@functools.lru_cache(maxsize=4)
def _load_suites(path: Path) -> dict[str, tuple[ExpectationSpec, ...]]:
    raw = _read(path)
    tables = silver_table_rules()
    problems: list[str] = []
    suites: dict[str, tuple[ExpectationSpec, ...]] = {}
    for table, entries in raw.items():
        if str(table).startswith("_"):
            continue  # a shared fragment, spliced in with a YAML alias
        if table not in tables:
            problems.append(_problem(path, str(table), f"no such silver table; known: "
                                     f"{', '.join(sorted(tables))}"))  # fmt: skip
            continue
        specs = []
        for number, entry in enumerate(_flatten(entries or []), start=1):
            where = f"{table}[{number}]"
            if not isinstance(entry, dict):
                problems.append(_problem(path, where, "expected a mapping with `expectation`"))
                continue
            try:
                specs.append(_Rule.model_validate(entry).spec())
            except ValidationError as exc:
                for error in exc.errors():
                    key = ".".join(str(p) for p in error["loc"]) or entry.get("expectation")
                    message = error["msg"].removeprefix("Value error, ")
                    problems.append(_problem(path, f"{where} {key}", message))
        problems += _check_columns(path, table, specs, tables)
        suites[table] = tuple(specs)
    if missing := sorted(set(tables) - set(suites) - {str(t) for t in raw}):
        problems.append(_problem(path, "suites", f"no suite for {', '.join(missing)}"))
    if problems:
        raise ConfigError("invalid expectations:\n  " + "\n  ".join(problems))
    return suites


def load_suites(path: Path | None = None) -> dict[str, list[ExpectationSpec]]:
    """Validated suites keyed by silver table name (default ``conf/expectations.yaml``).

    Keys starting with ``_`` are shared fragments spliced in with YAML aliases.

    Raises:
        ConfigError: every problem found, each naming the table, the entry and the fix.
    """
    suites = _load_suites(Path(path or SUITES_FILE))
    return {table: list(specs) for table, specs in suites.items()}


def validate_quality_config(
    suites_file: Path | None = None, values_file: Path | None = None
) -> None:
    """Validate conf/expectations.yaml, conf/values.yaml and conf/profile_fields.yaml; the
    runner calls it at start-up.

    Raises:
        ConfigError: naming the file, the table / key and what to change.
    """
    load_suites(suites_file)
    load_value_rules(values_file or VALUES_FILE)
    load_profile_fields()
    load_vocabularies()


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    on_fail: str
    success: bool
    unexpected_count: int
    unexpected_percent: float
    error: str | None = None  # GX could not evaluate it (e.g. a missing column)


@dataclass
class ValidationReport:
    """Per-expectation results of one suite on one table."""

    table: str
    rows: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    data_docs: Path | None = None

    @property
    def failed_errors(self) -> list[ExpectationOutcome]:
        """Failed expectations that block (every on_fail but warn)."""
        return [o for o in self.outcomes if not o.success and o.on_fail != "warn"]

    @property
    def failed_warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.on_fail == "warn"]

    def to_markdown(self) -> str:
        """One row per expectation, for the Dagster UI."""
        lines = [
            "| expectation | column | on_fail | ok | unexpected | % |",
            "|---|---|---|---|---|---|",
        ]
        for o in self.outcomes:
            ok = "yes" if o.success else "NO"
            lines.append(
                f"| {o.expectation} | {o.column} | {o.on_fail} | {ok} "
                f"| {o.unexpected_count} | {o.unexpected_percent:.2f} |"
            )
        return "\n".join(lines)

    @property
    def passed(self) -> bool:
        """No blocking expectation failed (warnings do not block)."""
        return not self.failed_errors


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
    for outcome in run_result.results:
        config = outcome.expectation_config
        error = None
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            error = " ".join(str(outcome.exception_info.get("exception_message")).split())[:200]
        report.outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=config.kwargs.get("column"),
                on_fail=(config.meta or {}).get("on_fail", "block"),
                success=bool(outcome.success),
                unexpected_count=int(outcome.result.get("unexpected_count") or 0),
                unexpected_percent=float(outcome.result.get("unexpected_percent") or 0.0),
                error=error,
            )
        )
    if docs_dir is not None:
        report.data_docs = docs_dir / "index.html"
    return report


# Boolean columns with_reference_flags adds before validation, per table.
REFERENCE_FLAGS: dict[str, tuple[str, ...]] = {
    "transactions": ("customer_ref_known",),
    "loyalty_points": ("member_known",),
}


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
