"""Which windowed features the population's events cannot make vary.

A column such as ``tx_count_cat_electronics_d7`` is constant (all zeros) when no customer bought
electronics in the 7 days before the as-of date, and a standard deviation is null for everyone
when no customer has two such purchases: facts about the data, not defects of the build.
:func:`features_without_events` finds those columns from the most events any one customer has in
each (slice key, filter, window); a windowed feature none of whose base aggregates reaches the
events it needs (two for ``std``, one otherwise) is reported by the check as degenerate for lack
of events instead of failing it (see :mod:`features.checks`). Columns with enough events that
still come out constant or all-null remain defects.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features import engine, sql
from features.events import (
    FeatureInputs,
    loyalty_events,
    member_cards,
    source_events,
    transaction_events,
)
from features.internal import INTERNAL_MEASURES, lifetime_window
from features.plan import FeaturePlan
from features.prepare import flagged, slice_key_expr, window_condition_sql
from features.spec import (
    ALL,
    SOURCES,
    FeatureDefinition,
    FeatureSpec,
    expand,
)

EventKey = tuple[str, str, str]  # (slice key, filter, window)


Needs = set[tuple[str, str, int]]  # (filter, window, events one customer must have)


def _event_inputs(plan: FeaturePlan, feature: FeatureDefinition) -> tuple[str, str, Needs] | None:
    """(source, slice key, needs) of a feature built from sliced events; None for the others.

    Windowed features read their base aggregates; the first-use rank of a slice value
    (``rec_first_rank_ch_app``) reads the slice's first purchase over the whole history.
    """
    if feature.source is not None:
        pairs = plan.base_pairs(feature.measure, feature.window or "")
        needs = {
            (plan.measures[m].where or "", w, 2 if plan.measures[m].agg == "std" else 1)
            for m, w in pairs
        }
        return feature.source, feature.slice_key, needs
    if feature.measure == "first_rank" and feature.slice_dimension is not None:
        source, measure = INTERNAL_MEASURES["x_first_days"]
        key = plan.spec.slices[feature.slice_dimension].key(feature.slice_value or "")
        return source, key, {(measure.where or "", lifetime_window(plan.spec), 1)}
    return None


def event_counts(
    plan: FeaturePlan,
    events: DataFrame,
    source: str,
    slice_keys: set[str],
    needed: set[tuple[str, str]],
) -> dict[EventKey, int]:
    """The most events one customer has per (slice key, filter, window) of one source.

    Args:
        plan: the spec's plan (slice dimensions, filters and windows).
        events: the source's events before the as-of date.
        source: ``transactions`` or ``loyalty_points``.
        slice_keys: the slice keys the source's features use.
        needed: the (filter, window) pairs to count.
    """
    if not needed:
        return {}
    dimensions = sorted({ALL if k == ALL else plan.dimension_of(k) for k in slice_keys})
    key_array = f"array({', '.join(slice_key_expr(plan.spec, d) for d in dimensions)})"
    exploded = (
        flagged(plan, events, source)
        .selectExpr("*", f"explode({key_array}) AS slice_key")
        .where("slice_key IS NOT NULL")
    )
    ordered = sorted(needed)
    per_customer = []
    for number, (filter_name, window) in enumerate(ordered):
        condition = sql.ident(engine.flag_column(filter_name))
        if (window_condition := window_condition_sql(plan.spec, window)) is not None:
            condition = f"{condition} AND {window_condition}"
        per_customer.append(F.expr(f"count(CASE WHEN {condition} THEN 1 END) AS n{number}"))
    rows = (
        exploded.groupBy("customer_id", "slice_key")
        .agg(*per_customer)
        .groupBy("slice_key")
        .agg(*[F.max(f"n{number}").alias(f"n{number}") for number in range(len(ordered))])
        .collect()
    )
    counts: dict[EventKey, int] = {}
    for row in rows:
        for number, (filter_name, window) in enumerate(ordered):
            counts[(row["slice_key"], filter_name, window)] = int(row[f"n{number}"])
    return counts


def features_without_events(
    inputs: FeatureInputs,
    spec: FeatureSpec,
    as_of: date,
    features: list[FeatureDefinition] | None = None,
) -> set[str]:
    """Features built from sliced events that no customer has enough events to make vary, and
    customer-level features without evidence (:func:`customer_features_without_evidence`).

    Args:
        inputs: the silver and gold input tables.
        spec: the validated feature spec.
        as_of: the snapshot's as-of date.
        features: the expanded spec (default: ``expand(spec)``).
    """
    features = features if features is not None else expand(spec)
    plan = FeaturePlan(spec, features)
    events = source_events(inputs, spec, as_of)
    needed: dict[str, set[tuple[str, str]]] = {source: set() for source in SOURCES}
    slice_keys: dict[str, set[str]] = {source: set() for source in SOURCES}
    inputs_by_feature = {}
    for feature in plan.features:
        if (found := _event_inputs(plan, feature)) is None:
            continue
        source, key, needs = found
        inputs_by_feature[feature.name] = (key, needs)
        needed[source].update((f, w) for f, w, _ in needs)
        slice_keys[source].add(key)
    counts: dict[EventKey, int] = {}
    for source in SOURCES:
        counts.update(
            event_counts(plan, events[source], source, slice_keys[source], needed[source])
        )
    windowed = {
        name
        for name, (key, needs) in inputs_by_feature.items()
        if not any(counts.get((key, f, w), 0) >= events for f, w, events in needs)
    }
    return windowed | customer_features_without_evidence(inputs, spec, as_of, plan.features)


# The golden-record fields each profile feature reads: no variation in them, no evidence.
PROFILE_EVIDENCE: dict[str, tuple[str, ...]] = {
    "age_years": ("date_of_birth",),
    "age_band": ("date_of_birth",),
    "gender": ("gender",),
    "is_female": ("gender",),
    "region": ("region",),
    "province": ("province",),
    "tenure_days": ("first_seen",),
    "linked_records_crm": ("linked_records_crm",),
    "linked_records_erp": ("linked_records_erp",),
    "linked_records_loyalty": ("linked_records_loyalty",),
    "linked_sources": ("linked_records_crm", "linked_records_erp", "linked_records_loyalty"),
    "has_phone": ("phone_e164",),
    "has_email": ("email",),
    "consent_email": ("consent_email",),
    "consent_sms": ("consent_sms",),
    "consent_data_use": ("consent_data_use",),
    "contactable_email": ("email", "consent_email"),
    "contactable_sms": ("phone_e164", "consent_sms"),
}
TRANSACTION_FAMILIES = ("rfm", "clv")
TRANSACTION_MEASURES = ("first_value", "last_value", "top_value")


def varying_fields(frame: DataFrame, fields: set[str]) -> set[str]:
    """The ``fields`` that take two values over ``frame``'s rows (a null counts as a value)."""
    if not fields:
        return set()
    ordered = sorted(fields)
    row = frame.agg(
        F.count(F.lit(1)).alias("rows"),
        *[F.count_distinct(f).alias(f"d{n}") for n, f in enumerate(ordered)],
        *[F.count(f).alias(f"v{n}") for n, f in enumerate(ordered)],
    ).first()
    return {
        f
        for n, f in enumerate(ordered)
        if row[f"d{n}"] >= 2 or (row[f"d{n}"] == 1 and row[f"v{n}"] < row["rows"])
    }


def customer_features_without_evidence(
    inputs: FeatureInputs, spec: FeatureSpec, as_of: date, features: list[FeatureDefinition]
) -> set[str]:
    """Customer-level features (``source`` None) the population's data cannot make vary."""
    customer_level = [f for f in features if f.source is None]
    purchases = transaction_events(inputs.transactions, inputs.identity_map, as_of, spec.timezone)
    points = loyalty_events(inputs.loyalty_points, inputs.identity_map, as_of, spec.point_signs)
    cards = member_cards(inputs.loyalty_members, inputs.identity_map, as_of, spec.timezone)
    has_purchases = not purchases.isEmpty()
    has_points, has_cards = not points.isEmpty(), not cards.isEmpty()
    wanted = {field for f in customer_level for field in PROFILE_EVIDENCE.get(f.measure, ())}
    population = inputs.golden_records.where(F.col("customer_id").isNotNull())
    varying = varying_fields(population, wanted & set(population.columns))
    missing: set[str] = set()
    for feature in customer_level:
        if feature.family in TRANSACTION_FAMILIES or feature.measure in TRANSACTION_MEASURES:
            evidence = has_purchases
        elif feature.family == "loyalty_status":
            evidence = has_points if feature.measure == "points_balance" else has_cards
        elif feature.family == "profile" and feature.measure in PROFILE_EVIDENCE:
            evidence = bool(varying & set(PROFILE_EVIDENCE[feature.measure]))
        else:
            continue
        if not evidence:
            missing.add(feature.name)
    return missing
