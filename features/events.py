"""Point-in-time event frames: silver events resolved to customers, strictly before the as-of date.

Every feature is computed from these frames, so the no-leakage rule lives here: an event
counts for ``as_of_date`` D only when its local calendar day is before D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from c360.lakehouse import Lakehouse
from c360.local_time import local_date
from c360.tables import FEATURE_INPUT_TABLES, OPTIONAL_FEATURE_INPUTS, SILVER_SCHEMAS
from features.spec import ENGAGEMENT_SOURCE, POINTS_SOURCE, SERVICE_SOURCE, TX_SOURCE

# Each event's key in its silver table (transaction_id, entry_id): the engine orders a
# customer's events by (day, this id), so sums run in the same order whatever the partitioning.
EVENT_ID = "event_id"


@dataclass(frozen=True)
class FeatureInputs:
    """The tables the features read: one field per table of
    :data:`c360.tables.FEATURE_INPUT_TABLES`, named as the table (schemas there too)."""

    transactions: DataFrame
    loyalty_points: DataFrame
    loyalty_members: DataFrame
    identity_map: DataFrame
    golden_records: DataFrame
    # the optional interaction sources (issue 20): None reads as no events
    engagement_messages: DataFrame | None = None
    service_contacts: DataFrame | None = None


def read_feature_inputs(lake: Lakehouse) -> FeatureInputs:
    """Read the silver and gold inputs of the feature build from the lakehouse (an optional
    source's table that was never written is left out: no events)."""
    return FeatureInputs(
        **{
            table.name: lake.read(table)
            for table in FEATURE_INPUT_TABLES
            if table not in OPTIONAL_FEATURE_INPUTS or lake.exists(table)
        }
    )


def _or_empty(frame: DataFrame | None, like: DataFrame, table: str) -> DataFrame:
    """``frame``, or an empty frame with the silver schema of ``table`` when it is None."""
    if frame is not None:
        return frame
    return like.sparkSession.createDataFrame([], from_arrow_schema(SILVER_SCHEMAS[table]))


def source_events(inputs: FeatureInputs, spec, as_of: date) -> dict[str, DataFrame]:
    """The point-in-time event frame of every windowed-family source, by source name."""
    like = inputs.transactions
    return {
        "transactions": transaction_events(
            inputs.transactions, inputs.identity_map, as_of, spec.timezone
        ),
        "loyalty_points": loyalty_events(
            inputs.loyalty_points, inputs.identity_map, as_of, spec.point_signs
        ),
        "engagement": engagement_events(
            _or_empty(inputs.engagement_messages, like, "engagement_messages"),
            inputs.identity_map,
            as_of,
        ),
        "service": service_events(
            _or_empty(inputs.service_contacts, like, "service_contacts"),
            inputs.identity_map,
            as_of,
        ),
    }


def source_input_rows(inputs: FeatureInputs) -> dict[str, int]:
    """Rows of the table behind each source of :func:`source_events` (an upper bound of its
    events: the point-in-time filter only drops some), counted from the files."""
    tables = {
        TX_SOURCE: inputs.transactions,
        POINTS_SOURCE: inputs.loyalty_points,
        ENGAGEMENT_SOURCE: inputs.engagement_messages,
        SERVICE_SOURCE: inputs.service_contacts,
    }
    return {source: 0 if frame is None else frame.count() for source, frame in tables.items()}


def customer_keys(identity_map: DataFrame) -> DataFrame:
    """``record_key -> customer_id`` from the identity map (``<source_system>:<record id>``)."""
    return identity_map.select(
        F.concat_ws(":", "source_system", "source_record_id").alias("record_key"), "customer_id"
    ).dropDuplicates(["record_key"])


def days_before(day: Column, as_of: date) -> Column:
    """Whole days from ``day`` to the as-of date: 1 for the day before it."""
    return F.datediff(F.lit(as_of), day)


def transaction_events(
    transactions: DataFrame, identity_map: DataFrame, as_of: date, timezone: str
) -> DataFrame:
    """Customer transactions dated before ``as_of``, with the columns the measures read.

    Guest sales (no record key) and references the identity map does not know are left out.
    ``event_id`` is the transaction's key.
    Amounts become doubles (VND); ``gross_amount`` is the amount before the voucher discount;
    ``local_hour`` and ``local_day_of_week`` (1 = Sunday) are in ``timezone``.
    """
    local_ts = F.from_utc_timestamp("transaction_ts", timezone)
    resolved = transactions.where(
        F.col("record_key").isNotNull() & (F.col("transaction_date") < F.lit(as_of))
    ).join(customer_keys(identity_map), "record_key")
    amount = F.col("amount").cast("double")
    discount = F.coalesce(F.col("discount").cast("double"), F.lit(0.0))
    return resolved.select(
        "customer_id",
        F.col("transaction_id").alias(EVENT_ID),
        days_before(F.col("transaction_date"), as_of).alias("days_ago"),
        F.unix_timestamp("transaction_ts").alias("event_epoch"),
        F.lower("status").alias("status"),
        amount.alias("amount"),
        (amount + discount).alias("gross_amount"),
        discount.alias("discount"),
        F.col("quantity").cast("bigint").alias("quantity"),
        "transaction_date",
        "store_id",
        "product_sku",
        F.when(F.trim("voucher_code") != "", F.upper(F.trim("voucher_code"))).alias("voucher_code"),
        F.lower("channel").alias("channel"),
        F.lower("product_category").alias("product_category"),
        F.lower("payment_method").alias("payment_method"),
        F.hour(local_ts).alias("local_hour"),
        F.dayofweek("transaction_date").alias("local_day_of_week"),
    )


def signed_points(point_signs: dict[str, str]) -> Column:
    """Points with the sign the spec gives each event type (see ``point_signs``)."""
    rules = {
        "positive": F.abs("points"),
        "negative": -F.abs("points"),
        "as_landed": F.col("points"),
    }
    default = rules[point_signs.get("default", "as_landed")]
    expression = None
    for event_type, sign in point_signs.items():
        if event_type == "default":
            continue
        condition = F.col("event_type") == event_type
        expression = (
            F.when(condition, rules[sign])
            if expression is None
            else expression.when(condition, rules[sign])
        )
    return default if expression is None else expression.otherwise(default)


def loyalty_events(
    points: DataFrame, identity_map: DataFrame, as_of: date, point_signs: dict[str, str]
) -> DataFrame:
    """Loyalty point events dated before ``as_of`` with signed and absolute points."""
    resolved = (
        points.where(F.col("event_date") < F.lit(as_of))
        .withColumn("event_type", F.lower("event_type"))
        .join(customer_keys(identity_map), "record_key")
    )
    return resolved.select(
        "customer_id",
        F.col("entry_id").alias(EVENT_ID),
        days_before(F.col("event_date"), as_of).alias("days_ago"),
        F.unix_timestamp("event_ts").alias("event_epoch"),
        "event_type",
        "event_date",
        "reference",
        signed_points(point_signs).cast("bigint").alias("points_signed"),
        F.abs("points").cast("bigint").alias("points_magnitude"),
    )


def member_cards(
    members: DataFrame, identity_map: DataFrame, as_of: date, timezone: str
) -> DataFrame:
    """Loyalty cards enrolled before ``as_of``, per customer.

    ``tier`` and ``status`` hold only the latest version of a card; they are kept when that
    version was written before ``as_of`` (so it was already true then) and nulled otherwise.
    """
    keyed = members.select(
        F.concat(F.lit("loyalty:"), F.col("member_id")).alias("record_key"),
        F.lower("tier").alias("tier"),
        F.lower("status").alias("status"),
        local_date(F.col("enrolled_at"), timezone).alias("enrolled_date"),
        local_date(F.col("updated_at"), timezone).alias("updated_date"),
    ).join(customer_keys(identity_map), "record_key")
    known = F.col("updated_date") < F.lit(as_of)
    return keyed.where(F.col("enrolled_date") < F.lit(as_of)).select(
        "customer_id",
        "enrolled_date",
        F.when(known, F.col("updated_date")).alias("updated_date"),
        F.when(known, F.col("tier")).alias("tier"),
        F.when(known, F.col("status")).alias("status"),
    )


def engagement_events(messages: DataFrame, identity_map: DataFrame, as_of: date) -> DataFrame:
    """Message events dated before ``as_of`` of resolved customers (one row per message and
    event, silver's first time of it).

    ``email_journey`` is the journey of an email (null for other channels); ``campaign_rank``
    numbers the customer's campaigns by their first message before D, 1 = the latest (the
    campaign ID breaks a tie), so "the last N campaigns" is known at D alone.
    """
    resolved = messages.where(F.col("event_date") < F.lit(as_of)).join(
        customer_keys(identity_map), "record_key"
    )
    epoch = F.unix_timestamp("event_ts")
    first_of_campaign = F.min(epoch).over(Window.partitionBy("customer_id", "campaign_id"))
    with_first = resolved.withColumn("_campaign_first", first_of_campaign)
    latest_first = Window.partitionBy("customer_id").orderBy(
        F.col("_campaign_first").desc(), F.col("campaign_id").desc()
    )
    ranked = F.when(
        F.col("campaign_id").isNotNull(),
        F.dense_rank().over(latest_first),
    )
    return with_first.select(
        "customer_id",
        F.col("event_id").alias(EVENT_ID),
        days_before(F.col("event_date"), as_of).alias("days_ago"),
        epoch.alias("event_epoch"),
        "message_id",
        "channel",
        "campaign_id",
        "journey_id",
        "message_key",
        "event",
        F.when(F.col("channel") == "email", F.col("journey_id")).alias("email_journey"),
        ranked.alias("campaign_rank"),
        (F.col("event") == "unsubscribed").cast("int").alias("unsubscribe"),
        "event_date",
    )


def service_events(contacts: DataFrame, identity_map: DataFrame, as_of: date) -> DataFrame:
    """Calls, chats and tickets started before ``as_of`` of resolved customers.

    ``unresolved`` (1/0) is the ticket's latest landed status: silver keeps one version per
    contact, so a ticket updated on or after D shows that update (docs/features.md).
    """
    resolved = contacts.where(F.col("started_date") < F.lit(as_of)).join(
        customer_keys(identity_map), "record_key"
    )
    return resolved.select(
        "customer_id",
        F.col("contact_id").alias(EVENT_ID),
        days_before(F.col("started_date"), as_of).alias("days_ago"),
        F.unix_timestamp("started_at").alias("event_epoch"),
        "kind",
        "direction",
        "category",
        "outcome",
        F.col("unresolved").cast("int").alias("unresolved"),
        "satisfaction",
        "duration_s",
        "started_date",
    )
