"""Checks of one ``gold/customer_features`` snapshot: degenerate columns and catalog coverage.

A feature column is a defect when, over the snapshot's population, it is

- ``all_null``: no customer has a value, or
- ``constant``: every customer has the same value and none is null,

or when it has no ``gold/feature_catalog`` row (``no_catalog_row``); a catalog row whose column
is missing is a ``missing_column`` defect. A null counts as a value of its own: a column that
is 5 for some customers and null for the rest still tells them apart.

Degenerate columns are reported (``tolerated``) without failing the check when

- the spec marks the feature ``tolerate_degenerate`` (consent flags, which some sources never
  send);
- no event of the population falls in the feature's slice and window
  (:func:`features.evidence.features_without_events`: nobody bought electronics last week);
- the population is smaller than the spec's ``checks.min_customers``: on a handful of customers
  most sliced columns are legitimately constant, so only catalog mismatches fail.

The profile streams the snapshot's Arrow batches (null count, min and max per column), so it
needs neither Spark nor the whole table in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from c360.lakehouse import Lakehouse
from c360.tables import GOLD_CUSTOMER_FEATURES, GOLD_FEATURE_CATALOG
from features.spec import FeatureDefinition

log = logging.getLogger(__name__)

KEY_COLUMNS = ("customer_id", "as_of_date")
# Feature names, or a function that finds them: it is called only when a column is degenerate,
# since finding them scans the events again (features.evidence.features_without_events).
WithoutEvents = Iterable[str] | Callable[[], Iterable[str]]


@dataclass
class ColumnProfile:
    """Null count and value range of one column, accumulated over batches."""

    nulls: int = 0
    low: object = None
    high: object = None

    def add(self, array: pa.Array) -> None:
        self.nulls += array.null_count
        if array.null_count == len(array):
            return
        bounds = pc.min_max(array)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)


@dataclass
class FeatureCheckReport:
    """What :func:`profile_snapshot` found; ``passed`` is what the asset check reports."""

    rows: int
    feature_columns: int
    non_constant: int
    defects: dict[str, str] = field(default_factory=dict)  # column -> kind
    tolerated: dict[str, str] = field(default_factory=dict)  # column -> kind (why tolerated)
    population_too_small: bool = False

    @property
    def passed(self) -> bool:
        return self.rows > 0 and not self.defects

    def summary(self) -> str:
        """One line for logs and the check's description."""
        if self.rows == 0:
            return "the snapshot holds no customers"
        counts: dict[str, int] = {}
        for kind in self.defects.values():
            counts[kind] = counts.get(kind, 0) + 1
        found = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no defects"
        small = " (population below checks.min_customers)" if self.population_too_small else ""
        return (
            f"{self.non_constant:,} of {self.feature_columns:,} feature columns vary over "
            f"{self.rows:,} customers; {found}; {len(self.tolerated)} tolerated{small}"
        )


def _degenerate_kind(profile: ColumnProfile, rows: int) -> str | None:
    """``all_null``, ``constant`` or None (the column tells customers apart)."""
    if profile.nulls == rows:
        return "all_null"
    if profile.nulls == 0 and profile.low == profile.high:
        return "constant"
    return None


class SnapshotProfile:
    """The column profiles of one snapshot, accumulated batch by batch (:meth:`add`), e.g.
    while the snapshot's buckets are written, so the check needs no second read."""

    def __init__(self, columns: list[str]):
        self.feature_columns = [c for c in columns if c not in KEY_COLUMNS]
        self.profiles = {name: ColumnProfile() for name in self.feature_columns}
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        for name in self.feature_columns:
            self.profiles[name].add(batch.column(name))

    def report(
        self,
        catalog_names: Iterable[str],
        tolerated_names: Iterable[str] = (),
        without_events: WithoutEvents = (),
        min_customers: int = 0,
    ) -> FeatureCheckReport:
        """Degenerate feature columns and catalog mismatches (see :func:`profile_snapshot`)."""
        rows, feature_columns = self.rows, self.feature_columns
        catalog = set(catalog_names)
        tolerated_set = set(tolerated_names)
        report = FeatureCheckReport(
            rows=rows,
            feature_columns=len(feature_columns),
            non_constant=0,
            population_too_small=rows < min_customers,
        )
        kinds = {name: _degenerate_kind(self.profiles[name], rows) for name in feature_columns}
        no_events: set[str] = set()
        if any(kinds.values()):
            no_events = set(without_events() if callable(without_events) else without_events)
        for name in feature_columns:
            kind = kinds[name]
            if kind is None:
                report.non_constant += 1
            if kind is not None and name in no_events:
                report.tolerated[name] = f"{kind}_no_events"
            elif kind is not None and (name in tolerated_set or report.population_too_small):
                report.tolerated[name] = kind
            elif kind is not None:
                report.defects[name] = kind
            if name not in catalog:
                report.defects[name] = "no_catalog_row"
        for name in sorted(catalog - set(feature_columns)):
            report.defects[name] = "missing_column"
        log.info("feature check: %s", report.summary())
        return report


def profile_snapshot(
    batches: Iterable[pa.RecordBatch],
    columns: list[str],
    catalog_names: Iterable[str],
    tolerated_names: Iterable[str] = (),
    without_events: WithoutEvents = (),
    min_customers: int = 0,
) -> FeatureCheckReport:
    """Find degenerate feature columns and catalog mismatches in one snapshot.

    Args:
        batches: the snapshot's rows (one as_of_date).
        columns: the table's column names (key columns are skipped).
        catalog_names: ``name`` of every catalog row.
        tolerated_names: features whose degeneracy is reported but does not fail the check.
        without_events: features with no event in their slice and window (tolerated, with the
            kind suffixed ``_no_events``), or a function returning them, called only when some
            column is degenerate.
        min_customers: below this population, degenerate columns are tolerated.
    """
    profile = SnapshotProfile(columns)
    for batch in batches:
        profile.add(batch)
    return profile.report(catalog_names, tolerated_names, without_events, min_customers)


def check_profile(
    lake: Lakehouse,
    profile: SnapshotProfile,
    features: list[FeatureDefinition] | None = None,
    without_events: WithoutEvents = (),
    min_customers: int = 0,
) -> FeatureCheckReport:
    """The check of a snapshot profiled as it was written, against ``gold/feature_catalog``
    (arguments as :func:`check_feature_table`)."""
    tolerated = [f.name for f in features or [] if f.tolerate_degenerate]
    return profile.report(_catalog_names(lake), tolerated, without_events, min_customers)


def _catalog_names(lake: Lakehouse) -> list[str]:
    if not lake.exists(GOLD_FEATURE_CATALOG):
        return []
    return lake.read_arrow(GOLD_FEATURE_CATALOG).column("name").to_pylist()


def _snapshot_filter(as_of: date) -> pc.Expression:
    return pc.field("as_of_date") == pa.scalar(as_of, pa.date32())


def snapshot_batches(dataset: pads.Dataset, as_of: date) -> Iterable[pa.RecordBatch]:
    """Batches of one as_of_date partition of the feature table."""
    return dataset.to_batches(filter=_snapshot_filter(as_of))


def snapshot_head(dataset: pads.Dataset, as_of: date, rows: int, columns: int) -> pa.Table:
    """The first ``rows`` rows of one snapshot, its first ``columns`` columns only.

    Not the first batch of :func:`snapshot_batches`: an iterator left after one batch keeps
    reading ahead in Arrow's threads; at 1M customers it still held 1.7 GB of whole-width
    batches after the features stage had returned.
    """
    return dataset.head(
        rows, columns=dataset.schema.names[:columns], filter=_snapshot_filter(as_of),
        batch_readahead=1, fragment_readahead=1,
    )  # fmt: skip


def check_feature_table(
    lake: Lakehouse,
    as_of: date,
    features: list[FeatureDefinition] | None = None,
    without_events: WithoutEvents = (),
    min_customers: int = 0,
) -> FeatureCheckReport:
    """Check the ``as_of`` snapshot of ``gold/customer_features`` against ``gold/feature_catalog``.

    Args:
        lake: the lakehouse holding both tables (a missing catalog means no catalog rows).
        as_of: the snapshot to check.
        features: the expanded spec, for the tolerated features (default: none tolerated).
        without_events: features with no event in their slice and window, or a function
            returning them, called only when a column is degenerate (see
            :func:`features.evidence.features_without_events`).
        min_customers: below this population, degenerate columns do not fail the check.
    """
    dataset = lake.arrow_dataset(GOLD_CUSTOMER_FEATURES)
    profile = SnapshotProfile(dataset.schema.names)
    for batch in snapshot_batches(dataset, as_of):  # file by file: one bucket at a time
        profile.add(batch)
    return check_profile(lake, profile, features, without_events, min_customers)
