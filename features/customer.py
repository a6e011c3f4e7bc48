"""Customer-level families: first use, RFM, lifetime value, loyalty status and profile (numpy).

They read one narrow row per customer (:class:`CustomerInputs`): the engine's internal
aggregates (:mod:`features.internal`; their columns are ``FeaturePlan.locations``), the card
summary (``_card_*``) and the golden-record profile (``_g_*``) from
:mod:`features.customer_inputs`, joined in Arrow on the driver. Each builder turns one
:class:`FeatureDefinition` into a numpy column over those rows (floats with NaN for null, or
objects with None); :func:`customer_features` types them as the catalog says. The features are
a few vector operations over at most a few million rows, cheaper on the driver than a Spark job
(docs/features.md, "Performance").
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from c360.contract import SOURCE_SYSTEMS
from features.internal import INTERNAL_MEASURES, Locations, lifetime_window
from features.spec import ALL, NUMERIC_DTYPES, FeatureDefinition, FeatureSpec, SpecError

Values = np.ndarray  # float64 (NaN = null) or object (None = null), one per customer


@dataclass
class CustomerInputs:
    """The joined per-customer inputs, read as numpy columns (each converted once)."""

    table: pa.Table
    _cache: dict[str, Values] = field(default_factory=dict)

    def number(self, name: str) -> Values:
        """A numeric, boolean or date column as float64 (dates as days since 1970; NaN = null)."""
        if name not in self._cache:
            column = self.table.column(name)
            if pa.types.is_date(column.type):
                column = pc.cast(column, pa.int32())
            column = pc.cast(column, pa.float64())
            self._cache[name] = column.to_numpy(zero_copy_only=False).astype(np.float64)
        return self._cache[name]

    def text(self, name: str) -> Values:
        """A string column as objects (None = null)."""
        if name not in self._cache:
            self._cache[name] = np.asarray(self.table.column(name).to_pylist(), dtype=object)
        return self._cache[name]

    @property
    def rows(self) -> int:
        return self.table.num_rows


@dataclass
class Context:
    """What the builders read: the spec, the as-of date, the inputs and where each internal
    aggregate is among them (``locations``: (slice key, measure, window) -> column)."""

    spec: FeatureSpec
    as_of: date
    locations: Locations
    inputs: CustomerInputs
    _parts: dict[str, dict[str, Values]] = field(default_factory=dict)

    def value(self, slice_key: str, measure: str, window: str) -> Values:
        """An internal aggregate of one slice key and window (with its fill), per customer."""
        values = self.inputs.number(self.locations[(slice_key, measure, window)])
        _, internal = INTERNAL_MEASURES[measure]
        if internal.dtype in ("bigint", "int"):
            values = np.trunc(values)
        fill = internal.fill
        return values if fill is None else np.where(np.isnan(values), float(fill), values)

    @property
    def as_of_days(self) -> int:
        """The as-of date in days since 1970-01-01."""
        return (self.as_of - date(1970, 1, 1)).days

    @property
    def lifetime(self) -> str:
        return lifetime_window(self.spec)

    def parts(self, family: str) -> dict[str, Values]:
        """Every feature of a grouped family, computed once."""
        if family not in self._parts:
            self._parts[family] = GROUPED_BUILDERS[family](self)
        return self._parts[family]


def quantile_thresholds(values: Values, quantiles: list[float]) -> list[float | None]:
    """The value at each quantile of the non-null ``values``: the smallest value with at least
    that share of values at or below it (``sorted[ceil(q * n) - 1]``). Spark's
    ``percentile_approx`` returns the same when its summary is exact; it allows a rank error of
    n / 10,000 (one rank at 8,390 values). None for every quantile when there is no value."""
    present = np.sort(values[~np.isnan(values)])
    if len(present) == 0:
        return [None] * len(quantiles)
    ranks = [min(max(math.ceil(q * len(present)), 1), len(present)) for q in quantiles]
    return [float(present[rank - 1]) for rank in ranks]


# ---- builders -------------------------------------------------------------------------------
# Each returns one value per customer (see :data:`Values`), in the inputs' row order.


def _coalesce(values: Values, fill: float) -> Values:
    return np.where(np.isnan(values), fill, values)


def _flag(condition: np.ndarray) -> Values:
    """1.0 / 0.0 for a boolean condition (never null)."""
    return condition.astype(np.float64)


def _first_rank(feature: FeatureDefinition, ctx: Context) -> Values:
    """Computed by the engine: 1 + the slice values of the dimension bought strictly earlier."""
    dimension = ctx.spec.slices[feature.slice_dimension or ""]
    return ctx.value(dimension.key(feature.slice_value or ""), "x_first_rank", ctx.lifetime)


def _pick(ctx: Context, dimension_name: str, measure: str, window: str, pick: str) -> Values:
    """The slice value with the least / greatest ``measure`` (ties: the first listed value;
    a value counts when the measure is present, or positive for spend)."""
    dimension = ctx.spec.slices[dimension_name]
    measured = np.column_stack(
        [ctx.value(dimension.key(value.name), measure, window) for value in dimension.values]
    )
    present = measured > 0 if measure == "x_amount" else ~np.isnan(measured)
    if pick == "least":
        chosen = np.where(present, measured, np.inf).argmin(axis=1)  # first index on ties
    else:
        chosen = np.where(present, measured, -np.inf).argmax(axis=1)
    names = np.asarray([value.name for value in dimension.values], dtype=object)
    return np.where(present.any(axis=1), names[chosen], None)


def _first_value(feature: FeatureDefinition, ctx: Context) -> Values:
    return _pick(ctx, feature.param("dimension"), "x_first_epoch", ctx.lifetime, "least")


def _last_value(feature: FeatureDefinition, ctx: Context) -> Values:
    return _pick(ctx, feature.param("dimension"), "x_last_epoch", ctx.lifetime, "greatest")


def _top_value(feature: FeatureDefinition, ctx: Context) -> Values:
    return _pick(ctx, feature.param("dimension"), "x_amount", feature.window or "", "greatest")


def _rfm_parts(ctx: Context) -> dict[str, Values]:
    """Scores count the population quantiles a customer's value passes (recency inverted);
    quantiles are over the customers who ever purchased."""
    window = ctx.spec.rfm["window"]
    recency = ctx.value(ALL, "x_last_days", ctx.lifetime)
    frequency = ctx.value(ALL, "x_count", window)
    monetary = ctx.value(ALL, "x_amount", window)
    purchased = ~np.isnan(recency)
    quantiles = [float(q) for q in ctx.spec.rfm["quantiles"]]

    def score(values: Values) -> Values:
        thresholds = quantile_thresholds(values[purchased], quantiles)
        passed = sum((threshold < values).astype(np.int64) for threshold in thresholds
                     if threshold is not None)  # fmt: skip
        return np.where(purchased, 1.0 + passed, np.nan)

    r = len(quantiles) + 2.0 - score(recency)
    f, m = score(frequency), score(monetary)
    segment = np.full(ctx.inputs.rows, ctx.spec.rfm["fallback_segment"], dtype=object)
    undecided = purchased.copy()
    for rule in ctx.spec.rfm_segments:
        hit = undecided
        for scores, (low, high) in ((r, rule.r), (f, rule.f), (m, rule.m)):
            hit = hit & (scores >= low) & (scores <= high)
        segment[hit] = rule.name
        undecided &= ~hit
    segment[~purchased] = ctx.spec.rfm["no_purchase_segment"]
    return {
        "rfm_recency_days": recency,
        "rfm_frequency": np.where(purchased, frequency, np.nan),
        "rfm_monetary": np.where(purchased, monetary, np.nan),
        "rfm_r_score": r,
        "rfm_f_score": f,
        "rfm_m_score": m,
        "rfm_total_score": r + f + m,
        "rfm_code": r * 100 + f * 10 + m,
        "rfm_segment": segment,
    }


def clv_discount_factor(horizon_years: int, retention: float, discount_rate: float) -> float:
    """Sum over years t = 1..H of retention^(t-1) / (1 + discount)^t."""
    return sum(retention ** (t - 1) / (1 + discount_rate) ** t for t in range(1, horizon_years + 1))


def _ratio(numerator: Values, denominator: Values) -> Values:
    """numerator / denominator where the denominator is positive, else null."""
    positive = denominator > 0
    return np.where(positive, numerator / np.where(positive, denominator, 1.0), np.nan)


def _clv_parts(ctx: Context) -> dict[str, Values]:
    conf = ctx.spec.clv
    window = conf["frequency_window"]
    window_days = float(ctx.spec.windows[window].days or 365)
    life = ctx.lifetime
    count_window = ctx.value(ALL, "x_count", window)
    count_life = ctx.value(ALL, "x_count", life)
    amount_window = ctx.value(ALL, "x_amount", window)
    amount_life = ctx.value(ALL, "x_amount", life)
    first_days = ctx.value(ALL, "x_first_days", life)
    last_days = ctx.value(ALL, "x_last_days", life)
    # tenure in days, at least min_tenure_days (np.fmax: a missing first purchase is ignored)
    tenure = np.fmax(first_days, float(conf["min_tenure_days"]))
    per_year = np.select(
        [count_window > 0, count_life > 0],
        [_ratio(count_window * 365.0, np.fmin(tenure, window_days)),
         _ratio(count_life * 365.0, tenure)],
        0.0,
    )  # fmt: skip
    order_value = _ratio(amount_window, count_window)
    order_value = np.where(np.isnan(order_value), _ratio(amount_life, count_life), order_value)
    decay = float(conf["alive_decay"]) * 365.0
    alive = np.exp(-last_days * per_year / decay)  # null when there was no purchase
    margin = float(conf["margin_rate"])
    annual_margin = _coalesce(per_year * order_value * margin, 0.0)
    return {
        "clv_purchases_per_year": per_year,
        "clv_avg_order_value": order_value,
        "clv_probability_alive": alive,
        "clv_annual_margin": annual_margin,
        "clv_historic_margin": amount_life * margin,
        "_expected": annual_margin * _coalesce(alive, 0.0),
    }


def _clv_estimate(feature: FeatureDefinition, ctx: Context) -> Values:
    conf = ctx.spec.clv
    factor = clv_discount_factor(
        int(feature.param("years")),
        float(conf["annual_retention_rate"]),
        float(conf["annual_discount_rate"]),
    )
    if not math.isfinite(factor):
        raise SpecError("clv: the discount factor is not finite; check the rates")
    return ctx.parts("clv")["_expected"] * factor


def _listed(labels: list[str], ranks: Values) -> Values:
    """The label at each 1-based rank (None where the rank is null)."""
    names = np.asarray([None, *labels], dtype=object)
    return names[np.nan_to_num(ranks, nan=0.0).astype(np.int64)]


def _loyalty_parts(ctx: Context) -> dict[str, Values]:
    conf = ctx.spec.loyalty_status
    inputs = ctx.inputs
    cards = _coalesce(inputs.number("_card_count"), 0.0)
    tier_rank = inputs.number("_card_tier_rank")
    return {
        "points_balance": ctx.value(ALL, "x_points_balance", ctx.lifetime),
        "is_member": _flag(cards > 0),
        "member_cards": cards,
        "tier": _listed(list(conf["tiers"]), tier_rank),
        "tier_rank": tier_rank,
        "tier_tenure_days": ctx.as_of_days - inputs.number("_card_tier_updated"),
        "membership_tenure_days": ctx.as_of_days - inputs.number("_card_first_enrolled"),
        "card_status": _listed(list(conf["card_statuses"]), inputs.number("_card_status_rank")),
        "card_active": _coalesce(inputs.number("_card_active"), 0.0),
    }


def age_years(birth_days: Values, as_of: date) -> Values:
    """Whole years from each birth date (days since 1970; NaN = unknown) to ``as_of``: Spark's
    ``floor(months_between(as_of, birth) / 12)``, null for a birth date on or after ``as_of``.

    ``months_between`` counts whole months plus (day difference) / 31, except that the same day
    of the month, or both last days of their months, make a whole number; scaled by 31 it is an
    integer, so the floor is exact.
    """
    ages = np.full(len(birth_days), np.nan)
    known = ~np.isnan(birth_days) & (birth_days < (as_of - date(1970, 1, 1)).days)
    born = birth_days[known].astype(np.int64).astype("datetime64[D]")
    month = born.astype("datetime64[M]")
    day = (born - month.astype("datetime64[D]")).astype(np.int64) + 1
    month_length = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(
        np.int64
    )
    month_number = month.astype(np.int64)  # months since 1970-01
    months = (as_of.year - 1970) * 12 + as_of.month - 1 - month_number
    as_of_month_end = as_of.day == calendar.monthrange(as_of.year, as_of.month)[1]
    whole = (day == as_of.day) | (as_of_month_end & (day == month_length))
    in_31sts = months * 31 + np.where(whole, 0, as_of.day - day)
    ages[known] = np.floor_divide(in_31sts, 12 * 31)
    return ages


def _lower(values: Values) -> Values:
    return np.asarray([v.lower() if v is not None else None for v in values], dtype=object)


def _profile_parts(ctx: Context) -> dict[str, Values]:
    inputs = ctx.inputs
    age = age_years(inputs.number("_g_date_of_birth"), ctx.as_of)
    band = np.full(inputs.rows, None, dtype=object)
    for low, high, label in reversed(ctx.spec.profile["age_bands"]):  # the first listed wins
        band[(age >= int(low)) & (age <= int(high))] = label
    gender = _lower(inputs.text("_g_gender"))
    first_seen = ctx.as_of_days - inputs.number("_g_first_seen_day")
    first_purchase = ctx.value(ALL, "x_first_days", ctx.lifetime)
    linked = {s: _coalesce(inputs.number(f"_g_linked_records_{s}"), 0.0) for s in SOURCE_SYSTEMS}
    has_phone = np.not_equal(inputs.text("_g_phone_e164"), None)
    has_email = np.not_equal(inputs.text("_g_email"), None)
    consent = {k: inputs.number(f"_g_consent_{k}") for k in ("email", "sms", "data_use")}
    return {
        "age_years": age,
        "age_band": band,
        "gender": gender,
        "is_female": np.select([gender == "female", gender == "male"], [1.0, 0.0], np.nan),
        "region": _lower(inputs.text("_g_region")),
        "province": inputs.text("_g_province"),
        # the longer of: since first seen (when before D) and since the first purchase
        "tenure_days": np.fmax(np.where(first_seen > 0, first_seen, np.nan), first_purchase),
        **{f"linked_records_{s}": values for s, values in linked.items()},
        "linked_sources": sum(_flag(values > 0) for values in linked.values()),
        "has_phone": _flag(has_phone),
        "has_email": _flag(has_email),
        **{f"consent_{k}": values for k, values in consent.items()},
        "contactable_email": _flag(has_email & (consent["email"] == 1)),
        "contactable_sms": _flag(has_phone & (consent["sms"] == 1)),
    }


_SINGLE: dict[str, Callable[[FeatureDefinition, Context], Values]] = {
    "first_rank": _first_rank,
    "first_value": _first_value,
    "last_value": _last_value,
    "top_value": _top_value,
    "clv_estimate": _clv_estimate,
}
GROUPED_BUILDERS: dict[str, Callable[[Context], dict[str, Values]]] = {
    "rfm": _rfm_parts,
    "clv": _clv_parts,
    "loyalty_status": _loyalty_parts,
    "profile": _profile_parts,
}


def build(feature: FeatureDefinition, ctx: Context) -> Values:
    """One customer-level feature's values (before the dtype is applied)."""
    if feature.measure in _SINGLE:
        return _SINGLE[feature.measure](feature, ctx)
    if feature.family not in GROUPED_BUILDERS or feature.measure not in ctx.parts(feature.family):
        raise SpecError(
            f"no builder for feature {feature.name!r} ({feature.family}.{feature.measure})"
        )
    return ctx.parts(feature.family)[feature.measure]


def typed(values: Values, dtype: str) -> pa.Array:
    """A feature column of the catalog's dtype: NaN / None are null; integers truncate toward
    zero, as Spark's cast does."""
    if dtype == "string":
        return pa.array(values, pa.string())
    numbers = np.asarray(values, dtype=np.float64)
    missing = np.isnan(numbers)
    arrow_type = NUMERIC_DTYPES[dtype]
    if dtype != "double":
        numbers = np.trunc(np.where(missing, 0.0, numbers)).astype(arrow_type.to_pandas_dtype())
    return pa.array(numbers, arrow_type, mask=missing if missing.any() else None)


def customer_features(
    inputs: pa.Table,
    spec: FeatureSpec,
    features: list[FeatureDefinition],
    locations: Locations,
    as_of: date,
) -> pa.Table:
    """``customer_id`` and every customer-level feature, one row per row of ``inputs``.

    Args:
        inputs: ``customer_id``, the engine's internal aggregates (``_i_<source>_<n>``), the card
            summary (``_card_*``) and the profile (``_g_*``), one row per customer.
        spec: the validated feature spec.
        features: the customer-level features (``source`` None), in catalog order.
        locations: the column of each internal aggregate (``FeaturePlan.locations``).
        as_of: the as-of date D.
    """
    ctx = Context(spec=spec, as_of=as_of, locations=locations, inputs=CustomerInputs(inputs))
    columns = {"customer_id": inputs.column("customer_id")}
    for feature in features:
        columns[feature.name] = typed(build(feature, ctx), feature.dtype)
    return pa.table(columns)
