"""Write, audit, publish for silver: apply a suite's row rules, validate, and decide.

:func:`audit` takes a :class:`~quality.staging.SilverBuild` (the staged rows, not yet written) and
its suite: rows violating a ``quarantine`` expectation move to the rejects with the expectation
as reason, fields violating a ``flag`` expectation are nulled and flagged, then Great
Expectations validates what would be published. The result says whether the table may be
published; when it may not, :attr:`AuditResult.problems` says why, naming the table, the
expectation, the column, how many rows and up to five example rows (``file:line`` or the record
key, never a value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from c360.quarantine import rejects_frame
from c360.tables import FIELD_COLUMNS, LANDED, field_of
from quality.expectations import (
    ROW_LEVEL,
    ExpectationSpec,
    ValidationReport,
    validate,
    with_reference_flags,
)
from quality.staging import SilverBuild, conform

EXAMPLES = 5


class SilverAuditError(RuntimeError):
    """A blocking check failed: the table was not published (its previous version is current).

    ``report`` is the validation report, when the audit got as far as validating.
    """

    def __init__(self, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class AuditResult:
    """What may be published: rows (conformed to the table's schema), all rejects, the report."""

    build: SilverBuild
    report: ValidationReport
    problems: list[str] = field(default_factory=list)
    violations: dict[str, int] = field(default_factory=dict)
    cached: list[DataFrame] = field(default_factory=list)

    def release(self) -> None:
        """Unpersist the frames the audit cached (after the publish)."""
        for frame in self.cached:
            frame.unpersist()

    @property
    def passed(self) -> bool:
        return not self.problems

    def message(self) -> str:
        """Why the table was not published (empty when it may be)."""
        if not self.problems:
            return ""
        name = self.build.table.qualified_name
        return f"{name} not published (its previous version stays current): " + "; ".join(
            self.problems
        )

    def raise_if_blocked(self) -> None:
        """Raises SilverAuditError with :meth:`message` when a blocking check failed."""
        if self.problems:
            raise SilverAuditError(self.message())


def row_ids(frame: DataFrame) -> Column:
    """A row's identifier for messages: ``file:line`` when the row has lineage, else its key."""
    if "_source_file" in frame.columns:
        return F.concat_ws(":", F.col("_source_file"), F.col("_row_number").cast("string"))
    return F.col("record_key").cast("string")


def _examples(frame: DataFrame, bad: Column) -> list[str]:
    """Up to five identifiers of rows where ``bad``, in file and line order."""
    order = ["_source_file", "_row_number"] if "_source_file" in frame.columns else ["record_key"]
    ids = frame.where(bad).orderBy(*order).select(row_ids(frame).alias("id")).limit(EXAMPLES)
    return [row.id for row in ids.collect()]


def _describe(
    table: str, spec_name: str, column: str | None, count: int, rows: int, examples: list[str]
) -> str:
    share = f" ({100 * count / rows:.1f}%)" if rows else ""
    sample = f"; e.g. rows {', '.join(examples)}" if examples else ""
    return f"{table}: {spec_name} on column {column}: {count} of {rows} rows{share}{sample}"


def _flag(frame: DataFrame, spec: ExpectationSpec, bad: Column) -> DataFrame:
    """Null the field's columns where ``bad``; keep its landed value and add the issue."""
    name = field_of(spec.column)
    columns = FIELD_COLUMNS.get(name, (spec.column,))
    landed = F.col(LANDED)[name] if LANDED in frame.columns else F.col(spec.column).cast("string")
    entry = F.map_filter(
        F.create_map(F.lit(name), landed),
        lambda key, value: value.isNotNull() & ~F.array_contains(F.map_keys("raw_values"), key),
    )
    issue = F.lit(f"{name}: {spec.reason()} (raw kept)")
    return frame.withColumns(
        {
            **{c: F.when(~bad, F.col(c)) for c in columns if c in frame.columns},
            "raw_values": F.when(bad, F.map_concat("raw_values", entry)).otherwise(
                F.col("raw_values")
            ),
            "field_issues": F.when(bad, F.concat("field_issues", F.array(issue))).otherwise(
                F.col("field_issues")
            ),
        }
    )


def apply_row_rules(
    frame: DataFrame, build: SilverBuild, specs: Sequence[ExpectationSpec]
) -> tuple[DataFrame, DataFrame | None, DataFrame, dict[int, Column]]:
    """(rows kept, rejects of quarantine rules or None, the staged rows marked, predicates).

    Each predicate is a ``_violates_<i>`` column of the marked rows, evaluated as staged (before
    any rule changes a row).
    """
    rules = {i: s for i, s in enumerate(specs) if s.on_fail in ("quarantine", "flag")}
    predicates = {i: F.col(f"_violates_{i}") for i in rules}
    marked = frame.select("*", *[s.violated().alias(f"_violates_{i}") for i, s in rules.items()])
    quarantine = [
        (predicates[i], s.reason()) for i, s in rules.items() if s.on_fail == "quarantine"
    ]
    reasons = F.array_compact(F.array(*[F.when(bad, F.lit(why)) for bad, why in quarantine]))
    marked = marked.withColumn("_rule_reasons", reasons)
    kept = marked.where(F.size("_rule_reasons") == 0)
    for i, spec in rules.items():
        if spec.on_fail == "flag":
            kept = _flag(kept, spec, predicates[i])
    if not quarantine:
        return kept, None, marked, predicates
    landed = [c for c in build.schema.names if not c.startswith("_")]
    rejected = marked.where(F.size("_rule_reasons") > 0)
    rejects = rejects_frame(rejected, build.table, landed, F.col("_rule_reasons"))
    return kept, rejects, marked, predicates


def _duplicates(frame: DataFrame, column: str) -> Column:
    return F.count(F.lit(1)).over(Window.partitionBy(column)) > 1


def _blocking_problems(
    name: str,
    staged: DataFrame,
    published: DataFrame,
    specs: Sequence[ExpectationSpec],
    predicates: Mapping[int, Column],
    report: ValidationReport,
) -> tuple[list[str], dict[str, int]]:
    """Shares above max_share, then the blocking expectations GX found failing."""
    problems: list[str] = []
    total = staged.count()
    counts = (
        staged.agg(*[F.count(F.when(p, 1)).alias(f"n{i}") for i, p in predicates.items()])
        .first()
        .asDict()
        if predicates
        else {}
    )
    violations = {specs[i].reason(): int(counts[f"n{i}"]) for i in predicates}
    for i, bad in predicates.items():
        spec, count = specs[i], int(counts[f"n{i}"])
        if total and count / total > spec.max_share:
            problems.append(
                _describe(name, spec.gx_name, spec.column, count, total, _examples(staged, bad))
                + f", above max_share {spec.max_share:g} ({spec.on_fail})"
            )
    by_key = {(s.gx_name, s.column): s for s in specs}
    for outcome in report.failed_errors:
        spec = by_key.get((outcome.expectation, outcome.column))
        if outcome.error:
            problems.append(
                f"{name}: {outcome.expectation} on column {outcome.column} could not run: "
                f"{outcome.error}"
            )
            continue
        examples: list[str] = []
        if spec is not None and spec.expectation == "column_values_to_be_unique":
            marked = published.withColumn("_dup", _duplicates(published, spec.column))
            examples = _examples(marked, F.col("_dup"))
        elif spec is not None and spec.on_fail == "block" and spec.expectation in ROW_LEVEL:
            examples = _examples(published, spec.violated())
        problems.append(
            _describe(
                name, outcome.expectation, outcome.column, outcome.unexpected_count,
                report.rows, examples,
            )
        )  # fmt: skip
    return problems, violations


def audit(
    build: SilverBuild,
    specs: Sequence[ExpectationSpec],
    references: Mapping[str, DataFrame] | None = None,
    docs_dir: Path | None = None,
) -> AuditResult:
    """Apply ``specs`` to the staged build and validate it; nothing is written here.

    Args:
        build: the table's staged rows, parse rejects and superseded versions.
        specs: the table's suite (``load_suites()[table]``).
        references: tables the reference flags read (``transactions``: person_records,
            ``loyalty_points``: loyalty_members), as currently published.
        docs_dir: where this table's Data Docs go (one folder per table).

    Returns:
        The build to publish (rows conformed, rule rejects added) and the verdict.
    """
    name = build.table.qualified_name
    staged = with_reference_flags(build.table.name, build.rows, dict(references or {})).cache()
    kept, rule_rejects, marked, predicates = apply_row_rules(staged, build, specs)
    kept = kept.cache()
    report = validate(kept, build.table.name, list(specs), docs_dir)
    published = conform(kept, build.schema)
    problems, violations = _blocking_problems(name, marked, published, specs, predicates, report)
    audited = SilverBuild(
        build.table,
        published,
        build.rejects if rule_rejects is None else build.rejects.unionByName(rule_rejects),
        build.superseded,
        build.schema,
    )
    return AuditResult(audited, report, problems, violations, cached=[staged, kept])
