"""Spark: the two per-customer inputs of the customer-level families that need a join.

:func:`card_summary` reduces the loyalty cards known at D to one row per customer;
:func:`profile_columns` selects the golden-record fields the profile family reads. Both ride
along the engine's Spark job (:mod:`features.compiler`) and reach :mod:`features.customer` as
Arrow.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360.local_time import local_date
from features.spec import FeatureSpec


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
    """Per customer: loyalty cards enrolled before D, best tier and status known at D.

    ``_card_tier_updated`` is the last change of the card holding the best tier; among several
    cards of that tier, the earliest known change (the customer has held the tier at least that
    long), so the value never depends on row order."""
    conf = spec.loyalty_status
    tier_rank = _rank_expr(F.col("tier"), list(conf["tiers"]))
    status_rank = _rank_expr(F.col("status"), list(conf["card_statuses"]))
    # ordering key: best tier first, then the earliest known update (an unknown one loses)
    tier_then_earliest = F.when(
        tier_rank.isNotNull(), F.struct(tier_rank, -F.unix_date(F.col("updated_date")))
    )
    return cards.groupBy("customer_id").agg(
        F.count(F.lit(1)).alias("_card_count"),
        F.min("enrolled_date").alias("_card_first_enrolled"),
        F.max(tier_rank).alias("_card_tier_rank"),
        F.max_by("updated_date", tier_then_earliest).alias("_card_tier_updated"),
        F.min(status_rank).alias("_card_status_rank"),
        F.max(F.when(F.col("status") == conf["active_status"], 1).otherwise(0)).alias(
            "_card_active"
        ),
    )


GOLDEN_COLUMNS = (
    "gender", "date_of_birth", "region", "province", "phone_e164", "email", "consent_email",
    "consent_sms", "consent_data_use", "linked_records_crm", "linked_records_erp",
    "linked_records_loyalty",
)  # fmt: skip


def profile_columns(golden_records: DataFrame, as_of: date, timezone: str) -> DataFrame:
    """The golden-record fields the profile family reads, as ``_g_<field>``, the local day the
    customer was first seen (``_g_first_seen_day``) and ``_g_known_before``: first seen before
    ``as_of``, so a customer at D."""
    first_seen_day = local_date(F.col("first_seen"), timezone)
    return (
        golden_records.where(F.col("customer_id").isNotNull())
        .select(
            "customer_id",
            *[F.col(c).alias(f"_g_{c}") for c in GOLDEN_COLUMNS],
            first_seen_day.alias("_g_first_seen_day"),
            F.coalesce(first_seen_day < F.lit(as_of), F.lit(False)).alias("_g_known_before"),
        )
        .dropDuplicates(["customer_id"])
    )
