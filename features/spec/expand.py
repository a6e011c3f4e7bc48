"""Expand a validated spec into its feature columns, in table (catalog) order.

Windowed features are families x groups x measures x windows (or comparisons) x slice values,
minus exclusions; customer-level ones (first use, RFM, CLV, loyalty status, profile) are one
definition per measure the family's builder in :mod:`features.customer` knows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from features.spec.model import (
    ALL,
    DTYPES,
    Family,
    FeatureDefinition,
    FeatureSpec,
    Measure,
    SliceRef,
    SpecError,
)

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


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
