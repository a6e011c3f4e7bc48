"""The internal aggregates: what the customer-level families read from the engine.

The customer-level features (:mod:`features.customer`: first use, RFM, lifetime value, loyalty
status, profile) are not aggregated themselves; they read a few base aggregates per customer
(purchase counts and spend, first and last purchase, the points balance), whatever windowed
features the spec lists. :data:`INTERNAL_MEASURES` declares them like spec measures and
:func:`required_aggregates` lists, for a spec, every (source, slice key, measure, window) the
builders read; the plan (:mod:`features.plan`) adds them to the engine's work and records where
each lands (``FeaturePlan.locations``).
"""

from __future__ import annotations

from collections.abc import Iterator

from features.spec import ALL, POINTS_SOURCE, TX_SOURCE, FeatureSpec, Measure, SpecError

# Aggregates the customer-level families read (features/customer.py), whatever the spec lists.
INTERNAL_MEASURES: dict[str, tuple[str, Measure]] = {
    name: (source, Measure(name=name, dtype=dtype, en="", vi="", **kwargs))
    for name, source, dtype, kwargs in (
        ("x_count", TX_SOURCE, "bigint", {"agg": "count", "where": "purchase", "fill": 0}),
        ("x_amount", TX_SOURCE, "double",
         {"agg": "sum", "value": "amount", "where": "purchase", "fill": 0}),
        ("x_first_days", TX_SOURCE, "int", {"agg": "first_days_ago", "where": "purchase"}),
        # rank of the key's x_first_days among its dimension's keys (1 = bought first)
        ("x_first_rank", TX_SOURCE, "int", {"agg": "first_rank", "of": "x_first_days"}),
        ("x_last_days", TX_SOURCE, "int", {"agg": "last_days_ago", "where": "purchase"}),
        ("x_first_epoch", TX_SOURCE, "bigint",
         {"agg": "min", "value": "event_epoch", "where": "purchase"}),
        ("x_last_epoch", TX_SOURCE, "bigint",
         {"agg": "max", "value": "event_epoch", "where": "purchase"}),
        ("x_points_balance", POINTS_SOURCE, "bigint",
         {"agg": "sum", "value": "points_signed", "where": "any_points", "fill": 0}),
    )
}  # fmt: skip
# Where each internal aggregate of one slice key and window sits in the customer-level inputs:
# (slice key, measure, window) -> column name.
Locations = dict[tuple[str, str, str], str]


def lifetime_window(spec: FeatureSpec) -> str:
    """Name of the window covering the whole history before D."""
    for window in spec.windows.values():
        if window.days is None and window.offset_days == 0:
            return window.name
    raise SpecError("windows: declare a lifetime window (days: null)")


def required_aggregates(spec: FeatureSpec) -> Iterator[tuple[str, str, str, str]]:
    """(source, slice key, measure, window) of every base aggregate the builders read."""
    life = lifetime_window(spec)
    conf = spec.first_use
    for dimension_name in conf.get("rank_slices", []):
        dimension = spec.slices[dimension_name]
        for value in dimension.values:
            yield TX_SOURCE, dimension.key(value.name), "x_first_rank", life
    for dimension_name in conf.get("first_last_slices", []):
        dimension = spec.slices[dimension_name]
        for value in dimension.values:
            yield TX_SOURCE, dimension.key(value.name), "x_first_epoch", life
            yield TX_SOURCE, dimension.key(value.name), "x_last_epoch", life
    for dimension_name in conf.get("top_slices", []):
        dimension = spec.slices[dimension_name]
        for value in dimension.values:
            yield TX_SOURCE, dimension.key(value.name), "x_amount", conf.get("top_window", "d365")
    for window in {spec.rfm["window"], spec.clv["frequency_window"], life}:
        if window not in spec.windows:
            raise SpecError(f"rfm / clv: unknown window {window!r}")
        yield TX_SOURCE, ALL, "x_count", window
        yield TX_SOURCE, ALL, "x_amount", window
    yield TX_SOURCE, ALL, "x_first_days", life
    yield TX_SOURCE, ALL, "x_last_days", life
    yield POINTS_SOURCE, ALL, "x_points_balance", life
