"""Silver consent events (the optional ``consent/<day>/consent_events*.csv`` source).

A row that cannot be a decision (no event ID, an unknown source system, no record ID, a purpose
not in CONSENT_PURPOSES, a decision other than granted / withdrawn, a time that is none or in
the future) goes to ``quarantine/rejects`` with the reason. The latest landing per event_id wins.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from c360.contract import CONSENT_EVENTS, SOURCE_SYSTEMS
from c360.silver.columns import (
    LINEAGE_COLUMNS,
    clean,
    future_reason,
    in_the_future,
    latest_and_superseded,
    lower_clean,
    parse_timestamp,
    split_unusable,
)
from c360.tables import (
    CONSENT_DECISIONS,
    CONSENT_PURPOSES,
    SILVER_CONSENT_EVENTS,
    SILVER_CONSENT_EVENTS_SCHEMA,
)
from c360.values import ValueRules, load_value_rules
from quality.staging import SilverBuild, conform


def build_consent_events(bronze: DataFrame, rules: ValueRules | None = None) -> SilverBuild:
    """Typed consent decisions, latest landing per event_id."""
    rules = rules or load_value_rules()
    landed = list(CONSENT_EVENTS.required_columns)
    typed = bronze.select(
        *landed,
        *LINEAGE_COLUMNS,
        clean("event_id").alias("_id"),
        lower_clean("source_system").alias("_system"),
        clean("source_record_id").alias("_record"),
        lower_clean("purpose").alias("_purpose"),
        lower_clean("decision").alias("_decision"),
        parse_timestamp("decided_at").alias("_ts"),
    )
    usable, rejects = split_unusable(
        typed,
        SILVER_CONSENT_EVENTS,
        landed,
        [
            (F.col("_id").isNull(), "expect_column_values_to_not_be_null: event_id"),
            (~F.coalesce(F.col("_system").isin(*SOURCE_SYSTEMS), F.lit(False)),
             f"source_system: not one of {', '.join(SOURCE_SYSTEMS)}"),
            (F.col("_record").isNull(), "expect_column_values_to_not_be_null: source_record_id"),
            (~F.coalesce(F.col("_purpose").isin(*CONSENT_PURPOSES), F.lit(False)),
             f"purpose: not one of {', '.join(CONSENT_PURPOSES)} (conf/privacy.yaml)"),
            (~F.coalesce(F.col("_decision").isin(*CONSENT_DECISIONS), F.lit(False)),
             "decision: not granted or withdrawn"),
            (F.col("_ts").isNull(), "decided_at: not an ISO 8601 timestamp"),
            (in_the_future(F.col("_ts"), rules), future_reason("decided_at", rules)),
        ],
    )  # fmt: skip
    latest, superseded = latest_and_superseded(usable, "_id", [])
    rows = latest.select(
        F.col("_id").alias("event_id"),
        F.col("_system").alias("source_system"),
        F.col("_record").alias("source_record_id"),
        F.col("_purpose").alias("purpose"),
        F.col("_decision").alias("decision"),
        F.col("_ts").alias("decided_at"),
        lower_clean("channel").alias("channel"),
        *LINEAGE_COLUMNS,
    )
    schema = SILVER_CONSENT_EVENTS_SCHEMA
    return SilverBuild(SILVER_CONSENT_EVENTS, conform(rows, schema), rejects, superseded, schema)
