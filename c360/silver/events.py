"""Silver transactions and loyalty points: typed events, latest landing per id.

A row that cannot be used at all (no key, an amount or timestamp that is not one, an amount not
written by its currency's rule, an unknown currency, an event time in the future) goes to
``quarantine/rejects`` with the reason. Amounts are VND (``conf/values.yaml`` converts other
currencies).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from c360.contract import LOYALTY_POINTS, TRANSACTIONS
from c360.local_time import local_date
from c360.silver.columns import (
    LINEAGE_COLUMNS,
    clean,
    future_reason,
    in_the_future,
    latest_and_superseded,
    lower_clean,
    parse_long,
    parse_money,
    parse_timestamp,
    split_unusable,
    to_vnd,
)
from c360.tables import (
    SILVER_LOYALTY_POINTS,
    SILVER_LOYALTY_POINTS_SCHEMA,
    SILVER_TRANSACTIONS,
    SILVER_TRANSACTIONS_SCHEMA,
)
from c360.values import ValueRules, load_value_rules
from quality.staging import SilverBuild, conform


def _amount_problems(rules: ValueRules) -> list[tuple[Column, Column | str]]:
    """Why a typed transaction's currency or amount cannot be used (quarantine reasons)."""
    known = ", ".join(rules.currencies)
    landed_amount = clean("amount")
    known_currency = F.col("_currency").isin(*rules.currencies)
    numeric = landed_amount.rlike(r"^[+-]?[\d.,\s]*\d[\d.,\s]*$")
    return [
        (F.col("_currency").isNull(), "currency: missing"),
        (F.col("_currency").isNotNull() & ~known_currency,
         f"currency: not one of {known} (conf/values.yaml)"),
        (landed_amount.isNull() | (known_currency & ~numeric & F.col("_amount_landed").isNull()),
         "amount: not a number"),
        (known_currency & numeric & F.col("_amount_landed").isNull(),
         F.concat(F.lit("amount: not written as a "), F.col("_currency"),
                  F.lit(" amount (conf/values.yaml)"))),
        (F.col("_amount_landed").isNotNull() & F.col("_amount").isNull(),
         "amount: too large for decimal(18,2) once converted to VND"),
    ]  # fmt: skip


def build_transactions(bronze: DataFrame, rules: ValueRules | None = None) -> SilverBuild:
    """Typed transactions in VND, latest landing per transaction_id (a refund may re-land one).

    ``amount``, ``unit_price`` and ``discount`` are VND (converted at ``conf/values.yaml``'s
    rates); ``amount_original`` is the landed amount in ``currency``.
    """
    rules = rules or load_value_rules()
    landed = list(TRANSACTIONS.required_columns)
    currency = F.upper(clean("currency"))
    typed = bronze.select(
        *landed,
        *LINEAGE_COLUMNS,
        clean("transaction_id").alias("_id"),
        parse_timestamp("transaction_ts").alias("_ts"),
        currency.alias("_currency"),
        parse_money("amount", currency, rules).alias("_amount_landed"),
    ).withColumn("_amount", to_vnd(F.col("_amount_landed"), F.col("_currency"), rules))
    usable, rejects = split_unusable(
        typed,
        SILVER_TRANSACTIONS,
        landed,
        [
            (F.col("_id").isNull(), "expect_column_values_to_not_be_null: transaction_id"),
            (F.col("_ts").isNull(), "transaction_ts: not an ISO 8601 timestamp"),
            (in_the_future(F.col("_ts"), rules), future_reason("transaction_ts", rules)),
            *_amount_problems(rules),
        ],
    )
    latest, superseded = latest_and_superseded(usable, "_id", [])
    ref_type = lower_clean("customer_ref_type")
    ref = clean("customer_ref")
    in_vnd = {
        name: to_vnd(parse_money(name, F.col("_currency"), rules), F.col("_currency"), rules)
        for name in ("unit_price", "discount")
    }
    rows = latest.select(
        F.col("_id").alias("transaction_id"),
        ref_type.alias("customer_ref_type"),
        ref.alias("customer_ref"),
        F.when(ref_type.isNotNull() & ref.isNotNull(), F.concat_ws(":", ref_type, ref)).alias(
            "record_key"
        ),
        lower_clean("channel").alias("channel"),
        clean("store_id").alias("store_id"),
        clean("product_sku").alias("product_sku"),
        lower_clean("product_category").alias("product_category"),
        parse_long("quantity").alias("quantity"),
        in_vnd["unit_price"].alias("unit_price"),
        F.coalesce(in_vnd["discount"], F.lit(0).cast("decimal(18,2)")).alias("discount"),
        F.col("_amount").alias("amount"),
        F.col("_amount_landed").alias("amount_original"),
        F.col("_currency").alias("currency"),
        lower_clean("payment_method").alias("payment_method"),
        clean("voucher_code").alias("voucher_code"),
        F.col("_ts").alias("transaction_ts"),
        local_date(F.col("_ts")).alias("transaction_date"),
        lower_clean("status").alias("status"),
        *LINEAGE_COLUMNS,
    )
    schema = SILVER_TRANSACTIONS_SCHEMA
    return SilverBuild(SILVER_TRANSACTIONS, conform(rows, schema), rejects, superseded, schema)


def build_loyalty_points(bronze: DataFrame, rules: ValueRules | None = None) -> SilverBuild:
    """Typed points ledger entries, latest landing per entry_id."""
    rules = rules or load_value_rules()
    landed = list(LOYALTY_POINTS.required_columns)
    typed = bronze.select(
        *landed,
        *LINEAGE_COLUMNS,
        clean("entry_id").alias("_id"),
        clean("member_id").alias("_member"),
        parse_timestamp("event_ts").alias("_ts"),
        parse_long("points").alias("_points"),
    )
    usable, rejects = split_unusable(
        typed,
        SILVER_LOYALTY_POINTS,
        landed,
        [
            (F.col("_id").isNull(), "expect_column_values_to_not_be_null: entry_id"),
            (F.col("_member").isNull(), "expect_column_values_to_not_be_null: member_id"),
            (F.col("_ts").isNull(), "event_ts: not an ISO 8601 timestamp"),
            (in_the_future(F.col("_ts"), rules), future_reason("event_ts", rules)),
            (F.col("_points").isNull(), "points: not an integer"),
        ],
    )
    latest, superseded = latest_and_superseded(usable, "_id", [])
    rows = latest.select(
        F.col("_id").alias("entry_id"),
        F.col("_member").alias("member_id"),
        F.concat(F.lit("loyalty:"), F.col("_member")).alias("record_key"),
        F.col("_ts").alias("event_ts"),
        local_date(F.col("_ts")).alias("event_date"),
        lower_clean("event_type").alias("event_type"),
        F.col("_points").alias("points"),
        clean("reference").alias("reference"),
        *LINEAGE_COLUMNS,
    )
    schema = SILVER_LOYALTY_POINTS_SCHEMA
    return SilverBuild(SILVER_LOYALTY_POINTS, conform(rows, schema), rejects, superseded, schema)
