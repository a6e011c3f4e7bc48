"""The feature spec (``conf/features.yaml``): load, validate, expand into column definitions.

The spec declares families x windows x measures x slices with explicit slice values, so the full
list of feature columns (and their catalog rows) is known before any data is read.

Example:
    >>> spec = load_spec()                                     # doctest: +SKIP
    >>> features = expand(spec)
    >>> features[0].name, features[0].description_en
    ('tx_count_d7', 'Number of completed purchases in the 7 days before the as-of date.')
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from c360.config import CONF_DIR
from c360.errors import ConfigurationError

log = logging.getLogger(__name__)

DEFAULT_SPEC_PATH = CONF_DIR / "features.yaml"
ALL = "all"  # the unsliced total
WINDOWED_AGGS = ("count", "sum", "max", "min", "std", "distinct", "last_days_ago", "first_days_ago")
DERIVED_AGGS = ("ratio",)
COMPARISON_AGGS = ("delta", "change")
DTYPES = ("bigint", "int", "double", "string")
POINT_SIGNS = ("positive", "negative", "as_landed")
# Columns of each source's event frame (features/events.py) that measures may aggregate.
EVENT_COLUMNS: dict[str, frozenset[str]] = {
    "transactions": frozenset(
        {
            "amount", "gross_amount", "discount", "quantity", "transaction_date", "store_id",
            "product_sku", "voucher_code", "channel", "product_category", "payment_method",
            "local_hour", "local_day_of_week", "status", "event_epoch", "days_ago",
        }
    ),
    "loyalty_points": frozenset(
        {
            "points_signed", "points_magnitude", "event_type", "event_date", "reference",
            "event_epoch", "days_ago",
        }
    ),
}  # fmt: skip
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_]*$")


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
        """Pivot key and name token of one value: ``ch_store``."""
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


@dataclass(frozen=True)
class FeatureDefinition:
    """One column of ``gold/customer_features`` and its catalog row.

    Windowed features (``source`` set) come from the long aggregation of their source and are
    found after the pivot under ``pivot_column``; customer-level ones (``source`` None) are built
    by the family's builder from ``measure`` and ``params``.
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
    def long_column(self) -> str:
        """Column of the long aggregation that holds this feature: ``count__d30``."""
        return f"{self.measure}__{self.window}"

    @property
    def slice_key(self) -> str:
        return self.param("slice_key", ALL)

    @property
    def pivot_column(self) -> str:
        return f"{self.slice_key}_{self.long_column}"

    def param(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)


# ---- loading -------------------------------------------------------------------------------


def _require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise SpecError(f"{where}: missing key {key!r}")
    return mapping[key]


def _tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _window(name: str, raw: Mapping[str, Any]) -> Window:
    where = f"windows.{name}"
    days = raw.get("days")
    if days is not None and (not isinstance(days, int) or days < 1):
        raise SpecError(f"{where}.days: expected a positive whole number or null, got {days!r}")
    return Window(
        name=name,
        days=days,
        offset_days=int(raw.get("offset_days", 0)),
        internal=bool(raw.get("internal", False)),
        en=_require(raw, "en", where),
        vi=_require(raw, "vi", where),
    )


def _slice_value(name: str, raw: Mapping[str, Any] | None, where: str) -> SliceValue:
    raw = raw or {}
    value_range = raw.get("range")
    if value_range is not None and (len(value_range) != 2 or value_range[0] > value_range[1]):
        raise SpecError(f"{where}.range: expected [low, high], got {value_range!r}")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SpecError(f"{where}.pattern: not a regular expression: {exc}") from exc
    match = raw.get("match")
    if match is None and pattern is None and value_range is None:
        match = [name]
    return SliceValue(
        name=name,
        match=_tuple(match) if match is not None else None,
        pattern=pattern,
        value_range=tuple(value_range) if value_range is not None else None,
        en=raw.get("en", name.replace("_", " ")),
        vi=raw.get("vi", name.replace("_", " ")),
    )


def _slice_dimension(name: str, raw: Mapping[str, Any]) -> SliceDimension:
    where = f"slices.{name}"
    values_raw = _require(raw, "values", where)
    if not values_raw:
        raise SpecError(f"{where}.values: list at least one explicit value")
    label = raw.get("label", {})
    values = tuple(_slice_value(str(v), values_raw[v], f"{where}.values.{v}") for v in values_raw)
    for value in values:
        if not _TOKEN.match(value.name):
            raise SpecError(f"{where}.values: {value.name!r} is not a lower-case name token")
    return SliceDimension(
        name=name,
        prefix=_require(raw, "prefix", where),
        column=_require(raw, "column", where),
        label_en=label.get("en", name),
        label_vi=label.get("vi", name),
        en=_require(raw, "en", where),
        vi=_require(raw, "vi", where),
        values=values,
    )


def _measure(name: str, raw: Mapping[str, Any]) -> Measure:
    where = f"measures.{name}"
    known = {
        "agg", "dtype", "en", "vi", "value", "where", "numerator", "denominator", "of", "fill",
        "internal", "note_en", "note_vi",
    }  # fmt: skip
    if unknown := set(raw) - known:
        raise SpecError(f"{where}: unknown keys {sorted(unknown)}")
    return Measure(
        name=name,
        agg=_require(raw, "agg", where),
        dtype=_require(raw, "dtype", where),
        en=_require(raw, "en", where),
        vi=_require(raw, "vi", where),
        value=raw.get("value"),
        where=raw.get("where"),
        numerator=raw.get("numerator"),
        denominator=raw.get("denominator"),
        of=raw.get("of"),
        fill=raw.get("fill"),
        internal=bool(raw.get("internal", False)),
        note_en=raw.get("note_en"),
        note_vi=raw.get("note_vi"),
    )


def _group(raw: Mapping[str, Any], where: str) -> Group:
    exclude = tuple(
        Exclusion(
            measures=_tuple(e["measures"]) if "measures" in e else None,
            windows=_tuple(e["windows"]) if "windows" in e else None,
            slices=tuple(SliceRef.parse(s) for s in e["slices"]) if "slices" in e else None,
        )
        for e in raw.get("exclude", []) or []
    )
    return Group(
        slices=tuple(SliceRef.parse(s) for s in _require(raw, "slices", where)),
        measures=_tuple(_require(raw, "measures", where)),
        windows=_tuple(raw.get("windows")),
        comparisons=_tuple(raw.get("comparisons")),
        exclude=exclude,
    )


def parse_spec(raw: Mapping[str, Any], path: Path | None = None) -> FeatureSpec:
    """Build and validate a :class:`FeatureSpec` from the YAML's mapping.

    Raises:
        SpecError: a missing or unknown key, or a reference to something not declared.
    """
    try:
        spec = FeatureSpec(
            version=str(_require(raw, "version", "spec")),
            timezone=str(raw.get("timezone", "Asia/Ho_Chi_Minh")),
            windows={str(k): _window(str(k), v) for k, v in raw["windows"].items()},
            comparisons={
                str(k): Comparison(
                    name=str(k),
                    current=v["current"],
                    baseline=v["baseline"],
                    scale=float(v.get("scale", 1.0)),
                    en=v["en"],
                    vi=v["vi"],
                )
                for k, v in (raw.get("comparisons") or {}).items()
            },
            slices={str(k): _slice_dimension(str(k), v) for k, v in raw["slices"].items()},
            filters={str(k): str(v) for k, v in raw["filters"].items()},
            measures={str(k): _measure(str(k), v) for k, v in raw["measures"].items()},
            point_signs=dict(raw.get("point_signs") or {"default": "as_landed"}),
            families={
                str(k): Family(
                    name=str(k),
                    prefix=v["prefix"],
                    source=v["source"],
                    window_in_name=bool(v.get("window_in_name", True)),
                    groups=tuple(
                        _group(g, f"families.{k}.groups[{i}]") for i, g in enumerate(v["groups"])
                    ),
                )
                for k, v in raw["families"].items()
            },
            first_use=dict(raw["first_use"]),
            rfm={k: v for k, v in raw["rfm"].items() if k != "segments"},
            rfm_segments=tuple(
                RfmSegment(
                    name=s["name"],
                    r=tuple(s.get("r", (1, 5))),
                    f=tuple(s.get("f", (1, 5))),
                    m=tuple(s.get("m", (1, 5))),
                )
                for s in raw["rfm"]["segments"]
            ),
            clv=dict(raw["clv"]),
            loyalty_status=dict(raw["loyalty_status"]),
            profile=dict(raw["profile"]),
            descriptions={str(k): dict(v) for k, v in raw["descriptions"].items()},
            path=path,
            checks=dict(raw.get("checks") or {}),
        )
    except KeyError as exc:
        raise SpecError(f"{path or 'spec'}: missing key {exc}") from exc
    _validate(spec)
    return spec


def load_spec(path: Path | str | None = None) -> FeatureSpec:
    """Read and validate the spec (default ``conf/features.yaml``)."""
    path = Path(path) if path else DEFAULT_SPEC_PATH
    if not path.is_file():
        raise SpecError(f"feature spec {path} not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    try:
        return parse_spec(raw, path)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from exc


def _validate(spec: FeatureSpec) -> None:
    for name, measure in spec.measures.items():
        where = f"measures.{name}"
        if measure.dtype not in DTYPES:
            raise SpecError(f"{where}.dtype: {measure.dtype!r} is not one of {DTYPES}")
        if measure.agg in WINDOWED_AGGS:
            if measure.where not in spec.filters:
                raise SpecError(f"{where}.where: unknown filter {measure.where!r}")
            needs_value = measure.agg not in ("count", "last_days_ago", "first_days_ago")
            if needs_value and not measure.value:
                raise SpecError(f"{where}: agg {measure.agg!r} needs a `value` column")
        elif measure.agg in DERIVED_AGGS:
            for part in (measure.numerator, measure.denominator):
                if part not in spec.measures or spec.measures[part].agg not in WINDOWED_AGGS:
                    raise SpecError(f"{where}: ratio parts must be aggregated measures ({part!r})")
        elif measure.agg in COMPARISON_AGGS:
            if measure.of not in spec.measures:
                raise SpecError(f"{where}.of: unknown measure {measure.of!r}")
        else:
            known = WINDOWED_AGGS + DERIVED_AGGS + COMPARISON_AGGS
            raise SpecError(f"{where}.agg: {measure.agg!r} is not one of {known}")
    for name, comparison in spec.comparisons.items():
        for window in (comparison.current, comparison.baseline):
            if window not in spec.windows:
                raise SpecError(f"comparisons.{name}: unknown window {window!r}")
    for sign in spec.point_signs.values():
        if sign not in POINT_SIGNS:
            raise SpecError(f"point_signs: {sign!r} is not one of {POINT_SIGNS}")
    for family in spec.families.values():
        where = f"families.{family.name}"
        if family.source not in EVENT_COLUMNS:
            raise SpecError(
                f"{where}.source: {family.source!r} is not one of {list(EVENT_COLUMNS)}"
            )
        for i, group in enumerate(family.groups):
            gwhere = f"{where}.groups[{i}]"
            for ref in group.slices:
                _check_slice_ref(spec, ref, gwhere)
            for exclusion in group.exclude:
                for ref in exclusion.slices or ():
                    _check_slice_ref(spec, ref, f"{gwhere}.exclude")
            for window in group.windows:
                if window not in spec.windows:
                    raise SpecError(f"{gwhere}.windows: unknown window {window!r}")
            for comparison in group.comparisons:
                if comparison not in spec.comparisons:
                    raise SpecError(f"{gwhere}.comparisons: unknown comparison {comparison!r}")
            if not group.windows and not group.comparisons:
                raise SpecError(f"{gwhere}: list windows or comparisons")
            for name in group.measures:
                if name not in spec.measures:
                    raise SpecError(f"{gwhere}.measures: unknown measure {name!r}")
                measure = spec.measures[name]
                if (measure.agg in COMPARISON_AGGS) != bool(group.comparisons):
                    raise SpecError(
                        f"{gwhere}: measure {name!r} ({measure.agg}) needs "
                        f"{'comparisons' if measure.agg in COMPARISON_AGGS else 'windows'}"
                    )
                for column in _value_columns(spec, measure):
                    if column not in EVENT_COLUMNS[family.source]:
                        raise SpecError(
                            f"{gwhere}: measure {name!r} reads {column!r}, not a column of the "
                            f"{family.source} events {sorted(EVENT_COLUMNS[family.source])}"
                        )
            for ref in group.slices:
                if ref.dimension != ALL:
                    column = spec.slices[ref.dimension].column
                    if column not in EVENT_COLUMNS[family.source]:
                        raise SpecError(
                            f"{gwhere}: slice {ref.dimension!r} reads {column!r}, not a column "
                            f"of the {family.source} events"
                        )


def _value_columns(spec: FeatureSpec, measure: Measure) -> list[str]:
    if measure.agg in WINDOWED_AGGS:
        return [measure.value] if measure.value else []
    if measure.agg in DERIVED_AGGS:
        return [
            c
            for part in (measure.numerator, measure.denominator)
            for c in _value_columns(spec, spec.measures[part])
        ]
    return _value_columns(spec, spec.measures[measure.of])


def _check_slice_ref(spec: FeatureSpec, ref: SliceRef, where: str) -> None:
    if ref.dimension == ALL:
        return
    if ref.dimension not in spec.slices:
        raise SpecError(f"{where}: unknown slice {ref.dimension!r}")
    if ref.value is not None:
        try:
            spec.slices[ref.dimension].value(ref.value)
        except KeyError:
            raise SpecError(f"{where}: {ref.dimension!r} has no value {ref.value!r}") from None


# ---- expansion -----------------------------------------------------------------------------


def _sentence(*parts: str | None, note: str | None = None) -> str:
    text = " ".join(p.strip() for p in parts if p and p.strip())
    if note:
        text += f" ({note})"
    return text[:1].upper() + text[1:] + "."


def _slice_members(spec: FeatureSpec, ref: SliceRef) -> list[tuple[str, str | None]]:
    if ref.dimension == ALL:
        return [(ALL, None)]
    dimension = spec.slices[ref.dimension]
    values = [ref.value] if ref.value else [v.name for v in dimension.values]
    return [(ref.dimension, v) for v in values]


def _windowed(spec: FeatureSpec, family: Family) -> list[FeatureDefinition]:
    out: list[FeatureDefinition] = []
    for group in family.groups:
        members = [m for ref in group.slices for m in _slice_members(spec, ref)]
        periods = group.windows or group.comparisons
        for measure_name in group.measures:
            measure = spec.measures[measure_name]
            for period in periods:
                for dimension_name, value_name in members:
                    if any(
                        e.matches(measure_name, period, dimension_name, value_name)
                        for e in group.exclude
                    ):
                        continue
                    out.append(
                        _windowed_definition(
                            spec, family, measure, period, dimension_name, value_name
                        )
                    )
    return out


def _windowed_definition(
    spec: FeatureSpec,
    family: Family,
    measure: Measure,
    period: str,
    dimension_name: str,
    value_name: str | None,
) -> FeatureDefinition:
    if dimension_name == ALL:
        slice_key, slice_en, slice_vi, dimension = ALL, "", "", None
    else:
        dimension = spec.slices[dimension_name]
        value = dimension.value(value_name or "")
        slice_key = dimension.key(value.name)
        slice_en = dimension.en.format(label=value.en)
        slice_vi = dimension.vi.format(label=value.vi)
    if period in spec.comparisons:
        comparison = spec.comparisons[period]
        window_days = spec.windows[comparison.current].days
        period_en, period_vi = f", {comparison.en}", f", {comparison.vi}"
    else:
        window = spec.windows[period]
        window_days = window.days
        period_en, period_vi = window.en, window.vi
    name = f"{family.prefix}_{measure.name}"
    if slice_key != ALL:
        name += f"_{slice_key}"
    if family.window_in_name:
        name += f"_{period}"
    return FeatureDefinition(
        name=name,
        family=family.name,
        measure=measure.name,
        dtype=measure.dtype,
        description_en=_sentence(measure.en, slice_en, period_en, note=measure.note_en).replace(
            " ,", ","
        ),
        description_vi=_sentence(measure.vi, slice_vi, period_vi, note=measure.note_vi).replace(
            " ,", ","
        ),
        window=period,
        window_days=window_days,
        slice_dimension=dimension.name if dimension else None,
        slice_value=value_name,
        source=family.source,
        fill=measure.fill,
        params=(("slice_key", slice_key),),
    )


def _customer_level(
    spec: FeatureSpec,
    family: str,
    prefix: str,
    measure: str,
    name: str | None = None,
    fmt: Mapping[str, str] | None = None,
    fmt_vi: Mapping[str, str] | None = None,
    **params: Any,
) -> FeatureDefinition:
    described = spec.descriptions.get(measure)
    if described is None:
        raise SpecError(f"descriptions: no entry for {measure!r}")
    name = name or f"{prefix}_{measure}"
    dtype = described.get("dtype", "double")
    if dtype not in DTYPES:
        raise SpecError(f"descriptions.{measure}.dtype: {dtype!r} is not one of {DTYPES}")
    tolerated = name in set(spec.profile.get("tolerate_degenerate", []))
    return FeatureDefinition(
        name=name,
        family=family,
        measure=measure,
        dtype=dtype,
        description_en=_sentence(described["en"].format(**(fmt or {}))),
        description_vi=_sentence(described["vi"].format(**(fmt_vi or fmt or {}))),
        window_days=params.pop("window_days", None),
        window=params.pop("window", None),
        slice_dimension=params.pop("slice_dimension", None),
        slice_value=params.pop("slice_value", None),
        tolerate_degenerate=tolerated,
        params=tuple(sorted(params.items())),
    )


def _first_use(spec: FeatureSpec) -> list[FeatureDefinition]:
    conf = spec.first_use
    prefix = conf["prefix"]
    out = []
    for dimension_name in conf.get("rank_slices", []):
        dimension = spec.slices[dimension_name]
        for value in dimension.values:
            out.append(
                _customer_level(
                    spec, "recency", prefix, "first_rank",
                    name=f"{prefix}_first_rank_{dimension.key(value.name)}",
                    fmt={"slice": dimension.en.format(label=value.en)},
                    fmt_vi={"slice": dimension.vi.format(label=value.vi)},
                    slice_dimension=dimension_name, slice_value=value.name,
                )
            )  # fmt: skip
    for kind, key in (("first_value", "first_last_slices"), ("last_value", "first_last_slices")):
        for dimension_name in conf.get(key, []):
            dimension = spec.slices[dimension_name]
            out.append(
                _customer_level(
                    spec, "recency", prefix, kind,
                    name=f"{prefix}_{kind.split('_')[0]}_{dimension_name}",
                    fmt={"dimension": dimension.label_en},
                    fmt_vi={"dimension": dimension.label_vi},
                    dimension=dimension_name,
                )
            )  # fmt: skip
    top_window = conf.get("top_window", "d365")
    for dimension_name in conf.get("top_slices", []):
        dimension = spec.slices[dimension_name]
        out.append(
            _customer_level(
                spec, "recency", prefix, "top_value",
                name=f"{prefix}_top_{dimension_name}",
                fmt={"dimension": dimension.label_en},
                fmt_vi={"dimension": dimension.label_vi},
                dimension=dimension_name, window=top_window,
                window_days=spec.windows[top_window].days,
            )
        )  # fmt: skip
    return out


RFM_MEASURES = (
    "rfm_recency_days", "rfm_frequency", "rfm_monetary", "rfm_r_score", "rfm_f_score",
    "rfm_m_score", "rfm_total_score", "rfm_code", "rfm_segment",
)  # fmt: skip
CLV_MEASURES = (
    "clv_purchases_per_year", "clv_avg_order_value", "clv_probability_alive",
    "clv_annual_margin", "clv_historic_margin",
)  # fmt: skip
LOYALTY_STATUS_MEASURES = (
    "points_balance", "is_member", "member_cards", "tier", "tier_rank", "tier_tenure_days",
    "membership_tenure_days", "card_status", "card_active",
)  # fmt: skip
PROFILE_MEASURES = (
    "age_years", "age_band", "gender", "is_female", "region", "province", "tenure_days",
    "linked_records_crm", "linked_records_erp", "linked_records_loyalty", "linked_sources",
    "has_phone", "has_email", "consent_email", "consent_sms", "consent_data_use",
    "contactable_email", "contactable_sms",
)  # fmt: skip


def expand(spec: FeatureSpec) -> list[FeatureDefinition]:
    """Every feature column, in table order, with its catalog fields.

    Raises:
        SpecError: two features would get the same name, or a name is not a valid identifier.
    """
    features: list[FeatureDefinition] = []
    for family in spec.families.values():
        features.extend(_windowed(spec, family))
    features.extend(_first_use(spec))
    rfm_prefix = spec.rfm["prefix"]
    for measure in RFM_MEASURES:
        features.append(
            _customer_level(
                spec,
                "rfm",
                rfm_prefix,
                measure,
                name=f"{rfm_prefix}_{measure.removeprefix('rfm_')}",
            )
        )
    clv_prefix = spec.clv["prefix"]
    for measure in CLV_MEASURES:
        name = f"{clv_prefix}_{measure.removeprefix('clv_')}"
        features.append(_customer_level(spec, "clv", clv_prefix, measure, name=name))
    for years in spec.clv["horizons_years"]:
        features.append(
            _customer_level(
                spec, "clv", clv_prefix, "clv_estimate",
                name=f"{clv_prefix}_estimate_{years}y", fmt={"years": str(years)},
                years=int(years), window_days=int(years) * 365,
            )
        )  # fmt: skip
    loyalty_prefix = spec.loyalty_status["prefix"]
    for measure in LOYALTY_STATUS_MEASURES:
        features.append(_customer_level(spec, "loyalty_status", loyalty_prefix, measure))
    profile_prefix = spec.profile["prefix"]
    for measure in PROFILE_MEASURES:
        features.append(_customer_level(spec, "profile", profile_prefix, measure))

    seen: dict[str, FeatureDefinition] = {}
    for feature in features:
        if not _NAME.match(feature.name):
            raise SpecError(f"feature name {feature.name!r} is not a lower-case identifier")
        if feature.name in seen:
            raise SpecError(f"two features are both named {feature.name!r}")
        seen[feature.name] = feature
    log.debug("expanded the feature spec into %d features", len(features))
    return features
