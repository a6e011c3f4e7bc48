"""Cross-references of a parsed spec: every name a measure, group or comparison uses exists,
and every column it reads is one of its source's event columns."""

from __future__ import annotations

from features.spec.model import (
    ALL,
    COMPARISON_AGGS,
    DERIVED_AGGS,
    DTYPES,
    EVENT_COLUMNS,
    POINT_SIGNS,
    WINDOWED_AGGS,
    Family,
    FeatureSpec,
    Group,
    Measure,
    SliceRef,
    SpecError,
)


def validate_spec(spec: FeatureSpec) -> None:
    """Check every reference of ``spec``; the first problem raises.

    Raises:
        SpecError: an unknown dtype, aggregation, filter, window, comparison, measure, slice or
            event column, named by its key path.
    """
    for name, measure in spec.measures.items():
        _validate_measure(spec, name, measure)
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
            _validate_group(spec, family, group, f"{where}.groups[{i}]")


def _validate_measure(spec: FeatureSpec, name: str, measure: Measure) -> None:
    """A measure's dtype, aggregation and the filter, value or parts it needs."""
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


def _validate_group(spec: FeatureSpec, family: Family, group: Group, gwhere: str) -> None:
    """A family group's slices, exclusions, windows or comparisons, measures and the event
    columns they read."""
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
    columns = EVENT_COLUMNS[family.source]
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
            if column not in columns:
                raise SpecError(
                    f"{gwhere}: measure {name!r} reads {column!r}, not a column of the "
                    f"{family.source} events {sorted(columns)}"
                )
    for ref in group.slices:
        if ref.dimension != ALL:
            column = spec.slices[ref.dimension].column
            if column not in columns:
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
