"""Customer-level families: first use, RFM, lifetime value, loyalty status and profile.

Each builder turns one :class:`FeatureDefinition` into a column over the joined wide frame: the
pivoted base aggregates (:mod:`features.compiler`), the card summary, the golden-record
profile (``_g_*``) and the RFM quantile thresholds (literals, computed first).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features import sql
from features.events import local_date
from features.spec import ALL, FeatureDefinition, FeatureSpec, SpecError

if TYPE_CHECKING:
    from features.compiler import Compiler

TX = "transactions"
POINTS = "loyalty_points"


@dataclass
class Context:
    """What the builders read: the spec, the as-of date and the compiler's base values."""

    spec: FeatureSpec
    as_of: date
    compiler: Compiler
    _parts: dict[str, dict[str, str]] = field(default_factory=dict)
    _intermediates: dict[str, tuple[str, int]] = field(default_factory=dict)
    rfm_thresholds: dict[str, list[float | None]] | None = None  # see rfm_thresholds()

    def value(self, slice_key: str, measure: str, window: str) -> str:
        return self.compiler.value(slice_key, measure, window)

    def intermediate(self, name: str, expression: str) -> str:
        """Compute ``expression`` once, as column ``name``, and return a reference to it.

        A part several features (or other parts) repeat, such as an RFM score, is projected
        before the features instead of being inlined into each of them.
        """
        column = sql.ident(name)
        level = 1 + max(
            (
                lvl
                for other, (_, lvl) in self._intermediates.items()
                if sql.ident(other) in expression
            ),
            default=0,
        )
        self._intermediates.setdefault(name, (expression, level))
        return column

    def intermediate_levels(self) -> list[list[str]]:
        """``expr AS name`` of the intermediates, by level: each reads only earlier levels."""
        levels: dict[int, list[str]] = {}
        for name, (expression, level) in self._intermediates.items():
            levels.setdefault(level, []).append(f"{expression} AS {sql.ident(name)}")
        return [levels[level] for level in sorted(levels)]

    @property
    def lifetime(self) -> str:
        return lifetime_window(self.spec)

    def parts(self, family: str) -> dict[str, str]:
        """The SQL of every feature of a grouped family, built once."""
        if family not in self._parts:
            self._parts[family] = GROUPED_BUILDERS[family](self)
        return self._parts[family]


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
            yield TX, dimension.key(value.name), "x_first_rank", life
    for dimension_name in conf.get("first_last_slices", []):
        dimension = spec.slices[dimension_name]
        for value in dimension.values:
            yield TX, dimension.key(value.name), "x_first_epoch", life
            yield TX, dimension.key(value.name), "x_last_epoch", life
    for dimension_name in conf.get("top_slices", []):
        dimension = spec.slices[dimension_name]
        for value in dimension.values:
            yield TX, dimension.key(value.name), "x_amount", conf.get("top_window", "d365")
    for window in {spec.rfm["window"], spec.clv["frequency_window"], life}:
        if window not in spec.windows:
            raise SpecError(f"rfm / clv: unknown window {window!r}")
        yield TX, ALL, "x_count", window
        yield TX, ALL, "x_amount", window
    yield TX, ALL, "x_first_days", life
    yield TX, ALL, "x_last_days", life
    yield POINTS, ALL, "x_points_balance", life


# ---- inputs joined onto the wide frame ------------------------------------------------------


def _rank_expr(column: Column, ordered: list[str]) -> Column:
    """1-based position of ``column`` in ``ordered`` (null when not listed)."""
    expression = None
    for position, value in enumerate(ordered, start=1):
        condition = column == value
        expression = (
            F.when(condition, F.lit(position))
            if expression is None
            else expression.when(condition, F.lit(position))
        )
    return expression if expression is not None else F.lit(None).cast("int")


def card_summary(cards: DataFrame, spec: FeatureSpec) -> DataFrame:
    """Per customer: loyalty cards enrolled before D, best tier and status known at D."""
    conf = spec.loyalty_status
    tier_rank = _rank_expr(F.col("tier"), list(conf["tiers"]))
    status_rank = _rank_expr(F.col("status"), list(conf["card_statuses"]))
    return cards.groupBy("customer_id").agg(
        F.count(F.lit(1)).alias("_card_count"),
        F.min("enrolled_date").alias("_card_first_enrolled"),
        F.max(tier_rank).alias("_card_tier_rank"),
        F.max_by("updated_date", tier_rank).alias("_card_tier_updated"),
        F.min(status_rank).alias("_card_status_rank"),
        F.max(F.when(F.col("status") == conf["active_status"], 1).otherwise(0)).alias(
            "_card_active"
        ),
    )


GOLDEN_COLUMNS = (
    "gender", "date_of_birth", "region", "province", "phone_e164", "email", "consent_email",
    "consent_sms", "consent_data_use", "linked_records_crm", "linked_records_erp",
    "linked_records_loyalty", "first_seen",
)  # fmt: skip


def profile_columns(golden_records: DataFrame, as_of: date, timezone: str) -> DataFrame:
    """The golden-record fields the profile family reads, as ``_g_<field>``, and
    ``_g_known_before``: first seen before ``as_of`` (local day), so a customer at D."""
    first_seen_day = local_date(F.col("first_seen"), timezone)
    return (
        golden_records.where(F.col("customer_id").isNotNull())
        .select(
            "customer_id",
            *[F.col(c).alias(f"_g_{c}") for c in GOLDEN_COLUMNS],
            F.coalesce(first_seen_day < F.lit(as_of), F.lit(False)).alias("_g_known_before"),
        )
        .dropDuplicates(["customer_id"])
    )


def rfm_thresholds(wide: DataFrame, ctx: Context) -> dict[str, list[float | None]]:
    """Recency, frequency and monetary quantiles over the customers who ever purchased.

    Read from the customer-level frame (the lifetime recency and the RFM window's count and
    spend of the unsliced key), so the transactions are not scanned again.
    """
    window = ctx.spec.rfm["window"]
    recency = ctx.value(ALL, "x_last_days", ctx.lifetime)
    frequency = ctx.value(ALL, "x_count", window)
    monetary = ctx.value(ALL, "x_amount", window)
    quantiles = f"array({', '.join(sql.literal(float(q)) for q in ctx.spec.rfm['quantiles'])})"
    row = (
        wide.where(f"{recency} IS NOT NULL")
        .selectExpr(
            f"percentile_approx(CAST({recency} AS DOUBLE), {quantiles}) AS r",
            f"percentile_approx(CAST({frequency} AS DOUBLE), {quantiles}) AS f",
            f"percentile_approx(CAST({monetary} AS DOUBLE), {quantiles}) AS m",
        )
        .first()
    )
    levels = len(ctx.spec.rfm["quantiles"])
    return {
        name: list(row[name]) if row is not None and row[name] is not None else [None] * levels
        for name in ("r", "f", "m")
    }


# ---- builders -------------------------------------------------------------------------------
# Each returns Spark SQL text over the wide frame (see features/sql.py for why text).


def _first_rank(feature: FeatureDefinition, ctx: Context) -> str:
    """Computed by the engine: 1 + the slice values of the dimension bought strictly earlier."""
    dimension = ctx.spec.slices[feature.slice_dimension or ""]
    return ctx.value(dimension.key(feature.slice_value or ""), "x_first_rank", ctx.lifetime)


def _pick(ctx: Context, dimension_name: str, measure: str, window: str, pick: str) -> str:
    """The slice value with the least / greatest ``measure`` (ties: the first listed value)."""
    dimension = ctx.spec.slices[dimension_name]
    candidates = []
    for index, value in enumerate(dimension.values):
        column = ctx.value(dimension.key(value.name), measure, window)
        order = index if pick == "least" else -index
        present = f"{column} > 0" if measure == "x_amount" else f"{column} IS NOT NULL"
        candidates.append(
            f"CASE WHEN {present} THEN named_struct('m', {column}, 'o', {order}, "
            f"'v', {sql.literal(value.name)}) END"
        )
    function = "least" if pick == "least" else "greatest"
    chosen = f"{function}({', '.join(candidates)})" if len(candidates) > 1 else candidates[0]
    return f"({chosen}).v"


def _first_value(feature: FeatureDefinition, ctx: Context) -> str:
    return _pick(ctx, feature.param("dimension"), "x_first_epoch", ctx.lifetime, "least")


def _last_value(feature: FeatureDefinition, ctx: Context) -> str:
    return _pick(ctx, feature.param("dimension"), "x_last_epoch", ctx.lifetime, "greatest")


def _top_value(feature: FeatureDefinition, ctx: Context) -> str:
    return _pick(ctx, feature.param("dimension"), "x_amount", feature.window or "", "greatest")


def _rfm_parts(ctx: Context) -> dict[str, str]:
    window = ctx.spec.rfm["window"]
    recency = ctx.value(ALL, "x_last_days", ctx.lifetime)
    frequency = ctx.value(ALL, "x_count", window)
    monetary = ctx.value(ALL, "x_amount", window)
    levels = len(ctx.spec.rfm["quantiles"])

    if ctx.rfm_thresholds is None:
        raise SpecError("rfm: compute the quantile thresholds (rfm_thresholds) before the SQL")
    thresholds = ctx.rfm_thresholds

    def above(column: str, name: str) -> str:
        return " + ".join(
            f"CASE WHEN {sql.literal(threshold)} < {column} THEN 1 ELSE 0 END"
            for threshold in thresholds[name]
        )

    recency = ctx.intermediate("_rfm_recency", recency)
    frequency = ctx.intermediate("_rfm_frequency", frequency)
    monetary = ctx.intermediate("_rfm_monetary", monetary)
    purchased = f"{recency} IS NOT NULL"
    r = ctx.intermediate(
        "_rfm_r", f"CASE WHEN {purchased} THEN {levels + 1} - ({above(recency, 'r')}) END"
    )
    f = ctx.intermediate("_rfm_f", f"CASE WHEN {purchased} THEN 1 + {above(frequency, 'f')} END")
    m = ctx.intermediate("_rfm_m", f"CASE WHEN {purchased} THEN 1 + {above(monetary, 'm')} END")
    rules = [
        (
            f"({r}) BETWEEN {rule.r[0]} AND {rule.r[1]} AND ({f}) BETWEEN {rule.f[0]} AND "
            f"{rule.f[1]} AND ({m}) BETWEEN {rule.m[0]} AND {rule.m[1]}",
            sql.literal(rule.name),
        )
        for rule in ctx.spec.rfm_segments
    ]
    segment = sql.case(
        [(f"NOT ({purchased})", sql.literal(ctx.spec.rfm["no_purchase_segment"])), *rules],
        sql.literal(ctx.spec.rfm["fallback_segment"]),
    )
    return {
        "rfm_recency_days": recency,
        "rfm_frequency": f"CASE WHEN {purchased} THEN {frequency} END",
        "rfm_monetary": f"CASE WHEN {purchased} THEN {monetary} END",
        "rfm_r_score": r,
        "rfm_f_score": f,
        "rfm_m_score": m,
        "rfm_total_score": f"({r}) + ({f}) + ({m})",
        "rfm_code": f"({r}) * 100 + ({f}) * 10 + ({m})",
        "rfm_segment": segment,
    }


def clv_discount_factor(horizon_years: int, retention: float, discount_rate: float) -> float:
    """Sum over years t = 1..H of retention^(t-1) / (1 + discount)^t."""
    return sum(retention ** (t - 1) / (1 + discount_rate) ** t for t in range(1, horizon_years + 1))


def _clv_parts(ctx: Context) -> dict[str, str]:
    conf = ctx.spec.clv
    window = conf["frequency_window"]
    window_days = float(ctx.spec.windows[window].days or 365)
    life = ctx.lifetime
    count_window = ctx.value(ALL, "x_count", window)
    count_life = ctx.value(ALL, "x_count", life)
    amount_window = ctx.value(ALL, "x_amount", window)
    amount_life = ctx.value(ALL, "x_amount", life)
    first_days = f"CAST({ctx.value(ALL, 'x_first_days', life)} AS DOUBLE)"
    last_days = f"CAST({ctx.value(ALL, 'x_last_days', life)} AS DOUBLE)"
    min_tenure = sql.literal(float(conf["min_tenure_days"]))
    per_year = sql.case(
        [
            (f"{count_window} > 0", f"{count_window} * 365.0D / least(greatest({first_days}, "
             f"{min_tenure}), {sql.literal(window_days)})"),
            (f"{count_life} > 0", f"{count_life} * 365.0D / greatest({first_days}, {min_tenure})"),
        ],
        "0.0D",
    )  # fmt: skip
    order_value = (
        f"coalesce(CASE WHEN {count_window} > 0 THEN {amount_window} / {count_window} END, "
        f"CASE WHEN {count_life} > 0 THEN {amount_life} / {count_life} END)"
    )
    per_year = ctx.intermediate("_clv_per_year", per_year)
    order_value = ctx.intermediate("_clv_order_value", order_value)
    decay = sql.literal(float(conf["alive_decay"]) * 365.0)
    alive = f"CASE WHEN {last_days} IS NOT NULL THEN exp(-{last_days} * ({per_year}) / {decay}) END"
    margin = sql.literal(float(conf["margin_rate"]))
    alive = ctx.intermediate("_clv_alive", alive)
    annual_margin = ctx.intermediate(
        "_clv_annual_margin", f"coalesce(({per_year}) * ({order_value}) * {margin}, 0.0D)"
    )
    return {
        "clv_purchases_per_year": per_year,
        "clv_avg_order_value": order_value,
        "clv_probability_alive": alive,
        "clv_annual_margin": annual_margin,
        "clv_historic_margin": f"{amount_life} * {margin}",
        "_expected": ctx.intermediate(
            "_clv_expected", f"({annual_margin}) * coalesce({alive}, 0.0D)"
        ),
    }


def _clv_estimate(feature: FeatureDefinition, ctx: Context) -> str:
    conf = ctx.spec.clv
    factor = clv_discount_factor(
        int(feature.param("years")),
        float(conf["annual_retention_rate"]),
        float(conf["annual_discount_rate"]),
    )
    if not math.isfinite(factor):
        raise SpecError("clv: the discount factor is not finite; check the rates")
    return f"({ctx.parts('clv')['_expected']}) * {sql.literal(factor)}"


def _loyalty_parts(ctx: Context) -> dict[str, str]:
    conf = ctx.spec.loyalty_status
    tiers = f"array({', '.join(sql.literal(t) for t in conf['tiers'])})"
    statuses = f"array({', '.join(sql.literal(s) for s in conf['card_statuses'])})"
    as_of = sql.literal(ctx.as_of)
    cards = "coalesce(_card_count, 0)"
    return {
        "points_balance": ctx.value(ALL, "x_points_balance", ctx.lifetime),
        "is_member": f"CASE WHEN {cards} > 0 THEN 1 ELSE 0 END",
        "member_cards": cards,
        "tier": (
            f"CASE WHEN _card_tier_rank IS NOT NULL THEN element_at({tiers}, _card_tier_rank) END"
        ),
        "tier_rank": "_card_tier_rank",
        "tier_tenure_days": f"datediff({as_of}, _card_tier_updated)",
        "membership_tenure_days": f"datediff({as_of}, _card_first_enrolled)",
        "card_status": (
            "CASE WHEN _card_status_rank IS NOT NULL "
            f"THEN element_at({statuses}, _card_status_rank) END"
        ),
        "card_active": "coalesce(_card_active, 0)",
    }


def _profile_parts(ctx: Context) -> dict[str, str]:
    as_of = sql.literal(ctx.as_of)
    age = (
        f"CASE WHEN _g_date_of_birth < {as_of} "
        f"THEN floor(months_between({as_of}, _g_date_of_birth) / 12) END"
    )
    band = sql.case(
        [
            (f"({age}) BETWEEN {int(low)} AND {int(high)}", sql.literal(label))
            for low, high, label in ctx.spec.profile["age_bands"]
        ]
    )
    timezone = sql.literal(ctx.spec.timezone)
    first_seen = f"datediff({as_of}, to_date(from_utc_timestamp(_g_first_seen, {timezone})))"
    first_purchase = ctx.value(ALL, "x_first_days", ctx.lifetime)
    tenure = f"greatest(CASE WHEN {first_seen} > 0 THEN {first_seen} END, {first_purchase})"
    linked = {s: f"coalesce(_g_linked_records_{s}, 0)" for s in ("crm", "erp", "loyalty")}
    has_phone = "CASE WHEN _g_phone_e164 IS NOT NULL THEN 1 ELSE 0 END"
    has_email = "CASE WHEN _g_email IS NOT NULL THEN 1 ELSE 0 END"
    return {
        "age_years": age,
        "age_band": band,
        "gender": "lower(_g_gender)",
        "is_female": "CASE lower(_g_gender) WHEN 'female' THEN 1 WHEN 'male' THEN 0 END",
        "region": "lower(_g_region)",
        "province": "_g_province",
        "tenure_days": tenure,
        **{f"linked_records_{s}": c for s, c in linked.items()},
        "linked_sources": " + ".join(
            f"CASE WHEN {c} > 0 THEN 1 ELSE 0 END" for c in linked.values()
        ),
        "has_phone": has_phone,
        "has_email": has_email,
        **{f"consent_{k}": f"CAST(_g_consent_{k} AS INT)" for k in ("email", "sms", "data_use")},
        "contactable_email": (
            "CASE WHEN _g_email IS NOT NULL AND _g_consent_email THEN 1 ELSE 0 END"
        ),
        "contactable_sms": (
            "CASE WHEN _g_phone_e164 IS NOT NULL AND _g_consent_sms THEN 1 ELSE 0 END"
        ),
    }


_SINGLE: dict[str, Callable[[FeatureDefinition, Context], str]] = {
    "first_rank": _first_rank,
    "first_value": _first_value,
    "last_value": _last_value,
    "top_value": _top_value,
    "clv_estimate": _clv_estimate,
}
GROUPED_BUILDERS: dict[str, Callable[[Context], dict[str, str]]] = {
    "rfm": _rfm_parts,
    "clv": _clv_parts,
    "loyalty_status": _loyalty_parts,
    "profile": _profile_parts,
}


def build(feature: FeatureDefinition, ctx: Context) -> str:
    """SQL of one customer-level feature (before the dtype cast)."""
    if feature.measure in _SINGLE:
        return _SINGLE[feature.measure](feature, ctx)
    if feature.family not in GROUPED_BUILDERS or feature.measure not in ctx.parts(feature.family):
        raise SpecError(
            f"no builder for feature {feature.name!r} ({feature.family}.{feature.measure})"
        )
    return ctx.parts(feature.family)[feature.measure]
