"""The feature spec's vocabulary and its validated form: constants, dataclasses, ``SpecError``.

Nothing here reads YAML or Spark: :mod:`features.spec.parse` builds these objects from
``conf/features.yaml``, :mod:`features.spec.validate` checks their references and
:mod:`features.spec.expand` turns them into one :class:`FeatureDefinition` per column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from c360.errors import ConfigurationError

ALL = "all"  # the unsliced total
WINDOWED_AGGS = ("count", "sum", "max", "min", "std", "distinct", "last_days_ago", "first_days_ago")
DERIVED_AGGS = ("ratio",)
COMPARISON_AGGS = ("delta", "change")
DTYPES = ("bigint", "int", "double", "string")
# The numeric dtypes and their Arrow types (windowed features are numeric; see features/plan.py).
NUMERIC_DTYPES: dict[str, pa.DataType] = {
    "double": pa.float64(),
    "bigint": pa.int64(),
    "int": pa.int32(),
}
POINT_SIGNS = ("positive", "negative", "as_landed")
# The event sources the windowed families aggregate (a family's ``source``), in build order.
TX_SOURCE = "transactions"
POINTS_SOURCE = "loyalty_points"
ENGAGEMENT_SOURCE = "engagement"  # silver/engagement_messages (issue 20)
SERVICE_SOURCE = "service"  # silver/service_contacts
SOURCES = (TX_SOURCE, POINTS_SOURCE, ENGAGEMENT_SOURCE, SERVICE_SOURCE)
# Columns of each source's event frame (features/events.py) that measures may aggregate.
EVENT_COLUMNS: dict[str, frozenset[str]] = {
    TX_SOURCE: frozenset(
        {
            "amount", "gross_amount", "discount", "quantity", "transaction_date", "store_id",
            "product_sku", "voucher_code", "channel", "product_category", "payment_method",
            "local_hour", "local_day_of_week", "status", "event_epoch", "days_ago",
        }
    ),
    POINTS_SOURCE: frozenset(
        {
            "points_signed", "points_magnitude", "event_type", "event_date", "reference",
            "event_epoch", "days_ago",
        }
    ),
    ENGAGEMENT_SOURCE: frozenset(
        {
            "message_id", "channel", "campaign_id", "journey_id", "message_key", "event",
            "email_journey", "campaign_rank", "unsubscribe", "event_date", "event_epoch",
            "days_ago",
        }
    ),
    SERVICE_SOURCE: frozenset(
        {
            "kind", "direction", "category", "outcome", "unresolved", "satisfaction",
            "duration_s", "started_date", "event_epoch", "days_ago",
        }
    ),
}  # fmt: skip


class SpecError(ConfigurationError):
    """The feature spec cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Window:
    """Events with ``offset_days < days before D <= offset_days + days`` (all when days is None)."""

    name: str
    days: int | None
    offset_days: int
    internal: bool
    en: str
    vi: str

    def bounds(self) -> tuple[int, int | None]:
        """Inclusive range of ``days_ago`` (1 = the day before D); None = unbounded."""
        low = self.offset_days + 1
        return low, None if self.days is None else self.offset_days + self.days


@dataclass(frozen=True)
class Comparison:
    """``current - baseline x scale`` of one measure (trend features)."""

    name: str
    current: str
    baseline: str
    scale: float
    en: str
    vi: str


@dataclass(frozen=True)
class SliceValue:
    """One explicit value of a slice and how rows are matched to it."""

    name: str
    match: tuple[Any, ...] | None
    pattern: str | None
    value_range: tuple[int, int] | None
    en: str
    vi: str


@dataclass(frozen=True)
class SliceDimension:
    """A column the windowed features are sliced by, with its explicit values."""

    name: str
    prefix: str
    column: str
    label_en: str
    label_vi: str
    en: str  # phrase template with {label}
    vi: str
    values: tuple[SliceValue, ...]

    def value(self, name: str) -> SliceValue:
        for value in self.values:
            if value.name == name:
                return value
        raise KeyError(name)

    def key(self, value: str) -> str:
        """Slice key and name token of one value: ``ch_store``."""
        return f"{self.prefix}_{value}"


@dataclass(frozen=True)
class Measure:
    """How one measure is computed per customer, slice and window."""

    name: str
    agg: str
    dtype: str
    en: str
    vi: str
    value: str | None = None
    where: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    of: str | None = None
    fill: float | int | None = None
    internal: bool = False
    note_en: str | None = None
    note_vi: str | None = None


@dataclass(frozen=True)
class SliceRef:
    """``all``, a whole dimension, or one value of it (``channel:web``)."""

    dimension: str  # "all" for the unsliced total
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> SliceRef:
        dimension, _, value = str(text).partition(":")
        return cls(dimension, value or None)

    def covers(self, dimension: str, value: str | None) -> bool:
        if self.dimension != dimension:
            return False
        return self.value is None or self.value == value


@dataclass(frozen=True)
class Exclusion:
    measures: tuple[str, ...] | None
    windows: tuple[str, ...] | None
    slices: tuple[SliceRef, ...] | None

    def matches(self, measure: str, window: str, dimension: str, value: str | None) -> bool:
        return (
            (self.measures is None or measure in self.measures)
            and (self.windows is None or window in self.windows)
            and (self.slices is None or any(s.covers(dimension, value) for s in self.slices))
        )


@dataclass(frozen=True)
class Group:
    slices: tuple[SliceRef, ...]
    measures: tuple[str, ...]
    windows: tuple[str, ...] = ()
    comparisons: tuple[str, ...] = ()
    exclude: tuple[Exclusion, ...] = ()


@dataclass(frozen=True)
class Family:
    name: str
    prefix: str
    source: str
    groups: tuple[Group, ...]
    window_in_name: bool = True


@dataclass(frozen=True)
class RfmSegment:
    name: str
    r: tuple[int, int] = (1, 5)
    f: tuple[int, int] = (1, 5)
    m: tuple[int, int] = (1, 5)


@dataclass(frozen=True)
class SnapshotSettings:
    """How ``gold/customer_features`` is built and written (``snapshot:`` in the spec).

    ``memory_budget_mb`` bounds the driver memory one bucket of customers may take: the build
    ranges customers by ``customer_id`` into buckets of that size (:mod:`features.buckets`).
    ``row_group_rows`` is the Parquet row-group size of the snapshot's files.
    ``engine_events_per_partition`` bounds the events one engine task (a Python worker) holds:
    each source's events are spread over enough customer partitions (never fewer than Spark's
    shuffle partitions).
    """

    memory_budget_mb: int = 2048
    row_group_rows: int = 1024
    engine_events_per_partition: int = 250_000


@dataclass(frozen=True)
class FeatureSpec:
    """The validated spec; see ``conf/features.yaml`` for the meaning of each part."""

    version: str
    timezone: str
    windows: dict[str, Window]
    comparisons: dict[str, Comparison]
    slices: dict[str, SliceDimension]
    filters: dict[str, str]
    measures: dict[str, Measure]
    point_signs: dict[str, str]
    families: dict[str, Family]
    first_use: dict[str, Any]
    rfm: dict[str, Any]
    rfm_segments: tuple[RfmSegment, ...]
    clv: dict[str, Any]
    loyalty_status: dict[str, Any]
    profile: dict[str, Any]
    descriptions: dict[str, dict[str, str]]
    path: Path | None = None
    checks: dict[str, Any] = field(default_factory=dict)
    snapshot: SnapshotSettings = field(default_factory=SnapshotSettings)


@dataclass(frozen=True)
class FeatureDefinition:
    """One column of ``gold/customer_features`` and its catalog row.

    Windowed features (``source`` set) are computed by the engine for their source, slice key
    and window (:mod:`features.engine`); customer-level ones (``source`` None) are built by the
    family's builder in :mod:`features.customer` from ``measure`` and ``params``.
    """

    name: str
    family: str
    measure: str
    dtype: str
    description_en: str
    description_vi: str
    window: str | None = None
    window_days: int | None = None
    slice_dimension: str | None = None
    slice_value: str | None = None
    source: str | None = None
    fill: float | int | None = None
    tolerate_degenerate: bool = False
    params: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    @property
    def slice(self) -> str | None:
        """Catalog ``slice``: ``channel=store``; None for unsliced features."""
        if self.slice_dimension is None:
            return None
        return f"{self.slice_dimension}={self.slice_value}"

    @property
    def slice_key(self) -> str:
        """The engine's slice key of a windowed feature (``ch_store``; ``all`` when unsliced)."""
        return self.param("slice_key", ALL)

    def param(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)
