"""Silver engagement messages and service contacts (the optional interaction sources, issue 20).

Values are trimmed, lower-cased and mapped to the vocabularies of ``conf/interactions.yaml``;
an unlisted channel, direction, category or outcome is kept and flagged in ``value_issues``.
A row that cannot be used (no key, an unknown event or kind, a time that is none or in the
future, a negative or non-integer duration, a satisfaction outside the scale) goes to
``quarantine/rejects`` with the reasons. Rows whose person is not known are kept with a null
``record_key`` and counted (``unresolved``), never dropped.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from c360.contract import ENGAGEMENT_MESSAGES, SERVICE_CONTACTS, SOURCE_SYSTEMS
from c360.interactions import InteractionVocabularies, load_vocabularies
from c360.local_time import local_date
from c360.silver.columns import (
    LINEAGE_COLUMNS,
    clean,
    future_reason,
    in_the_future,
    latest_and_superseded,
    lower_clean,
    parse_long,
    parse_timestamp,
    split_unusable,
)
from c360.standardise import standardise_phone
from c360.tables import (
    SILVER_ENGAGEMENT_MESSAGES,
    SILVER_ENGAGEMENT_MESSAGES_SCHEMA,
    SILVER_SERVICE_CONTACTS,
    SILVER_SERVICE_CONTACTS_SCHEMA,
)
from c360.values import ValueRules, load_value_rules
from quality.staging import SilverBuild, conform

VOCABULARY_FILE = "conf/interactions.yaml"


def canonical(column: str, aliases: dict[str, str]) -> Column:
    """The column trimmed and lower-cased, a listed alias replaced by its canonical value."""
    value = lower_clean(column)
    if not aliases:
        return value
    mapping = F.create_map(*[F.lit(v) for pair in sorted(aliases.items()) for v in pair])
    return F.coalesce(mapping[value], value)


def value_issues(columns: dict[str, tuple[str, ...]]) -> Column:
    """Flags of the kept values outside their vocabulary (the landed value is in the row)."""
    flags = [
        F.when(
            F.col(f"_{c}").isNotNull() & ~F.col(f"_{c}").isin(*allowed),
            F.concat(F.lit(f"{c}: "), F.col(f"_{c}"), F.lit(f" not in {VOCABULARY_FILE}")),
        )
        for c, allowed in columns.items()
    ]
    return F.array_compact(F.array(*flags))


def record_key(ref_type: Column, ref: Column) -> Column:
    """``<system>:<record id>`` when the reference names a person-bearing system."""
    known = ref_type.isin(*SOURCE_SYSTEMS) & ref.isNotNull()
    return F.when(known, F.concat_ws(":", ref_type, ref))


def _one_of(column: str, allowed: tuple[str, ...]) -> tuple[Column, str]:
    return (
        ~F.coalesce(F.col(f"_{column}").isin(*allowed), F.lit(False)),
        f"{column}: not one of {', '.join(allowed)} ({VOCABULARY_FILE})",
    )


def build_engagement_messages(
    bronze: DataFrame,
    rules: ValueRules | None = None,
    vocabularies: InteractionVocabularies | None = None,
) -> SilverBuild:
    """Typed message events, one row per message and event: its first time (a repeated open
    or a re-landed row is superseded, not lost)."""
    rules = rules or load_value_rules()
    vocab = (vocabularies or load_vocabularies()).engagement
    landed = list(ENGAGEMENT_MESSAGES.required_columns)
    aliases = vocab.aliases
    typed = bronze.select(
        *landed,
        *LINEAGE_COLUMNS,
        clean("message_id").alias("_id"),
        canonical("channel", aliases.get("channel", {})).alias("_channel"),
        canonical("event", aliases.get("event", {})).alias("_event"),
        parse_timestamp("event_ts").alias("_ts"),
    )
    usable, rejects = split_unusable(
        typed,
        SILVER_ENGAGEMENT_MESSAGES,
        landed,
        [
            (F.col("_id").isNull(), "expect_column_values_to_not_be_null: message_id"),
            _one_of("event", vocab.events),
            (F.col("_ts").isNull(), "event_ts: not an ISO 8601 timestamp"),
            (in_the_future(F.col("_ts"), rules), future_reason("event_ts", rules)),
        ],
    )
    keyed = usable.withColumn("_key", F.concat_ws(":", "_id", "_event"))
    first, superseded = latest_and_superseded(keyed, "_key", [F.col("_ts").asc()])
    ref_type, ref = lower_clean("customer_ref_type"), clean("customer_ref")
    rows = first.select(
        F.col("_key").alias("event_id"),
        F.col("_id").alias("message_id"),
        ref_type.alias("customer_ref_type"),
        ref.alias("customer_ref"),
        record_key(ref_type, ref).alias("record_key"),
        F.col("_channel").alias("channel"),
        clean("campaign_id").alias("campaign_id"),
        lower_clean("journey_id").alias("journey_id"),
        lower_clean("message_key").alias("message_key"),
        F.col("_event").alias("event"),
        F.col("_ts").alias("event_ts"),
        local_date(F.col("_ts")).alias("event_date"),
        value_issues({"channel": vocab.channels}).alias("value_issues"),
        *LINEAGE_COLUMNS,
    )
    schema = SILVER_ENGAGEMENT_MESSAGES_SCHEMA
    return SilverBuild(
        SILVER_ENGAGEMENT_MESSAGES, conform(rows, schema), rejects, superseded, schema
    )


@F.pandas_udf(StringType())
def _phone_udf(values: pd.Series) -> pd.Series:
    # few distinct numbers per batch: standardise each once (c360.standardise)
    parsed = {v: standardise_phone(v)[0] for v in values.dropna().unique()}
    # a plain object column: an all-null batch or an Arrow-backed input must not change its type
    return pd.Series([parsed.get(v) for v in values], index=values.index, dtype=object)


def phone_owners(person_records: DataFrame) -> DataFrame:
    """``_phone -> _phone_record``: the person record of each standardised phone (the
    smallest record_key when several records share it, so the choice never depends on order)."""
    return (
        person_records.where(F.col("phone_e164").isNotNull())
        .groupBy(F.col("phone_e164").alias("_phone"))
        .agg(F.min("record_key").alias("_phone_record"))
    )


def _contact_problems(vocab) -> list[tuple[Column, str]]:
    scale = vocab.satisfaction
    return [
        (F.col("_id").isNull(), "expect_column_values_to_not_be_null: contact_id"),
        _one_of("kind", vocab.kinds),
        (F.col("_ts").isNull(), "started_at: not an ISO 8601 timestamp"),
        (clean("duration_s").isNotNull() & F.col("_duration").isNull(),
         "duration_s: not a whole number of seconds"),
        (F.coalesce(F.col("_duration") < 0, F.lit(False)), "duration_s: negative"),
        (clean("satisfaction").isNotNull()
         & ~F.coalesce(F.col("_satisfaction").between(scale.min, scale.max), F.lit(False)),
         f"satisfaction: not a whole number from {scale.min} to {scale.max}"),
    ]  # fmt: skip


def build_service_contacts(
    bronze: DataFrame,
    person_records: DataFrame,
    rules: ValueRules | None = None,
    vocabularies: InteractionVocabularies | None = None,
) -> SilverBuild:
    """Typed calls, chats and tickets, latest landing per contact_id.

    The person: the customer reference when it names a record, else the silver person record
    with the same standardised phone (``resolved_by`` says which); the phone is not kept.
    """
    rules = rules or load_value_rules()
    vocab = (vocabularies or load_vocabularies()).service
    landed = list(SERVICE_CONTACTS.required_columns)
    columns = ("kind", "direction", "category", "outcome")
    typed = bronze.select(
        *landed,
        *LINEAGE_COLUMNS,
        clean("contact_id").alias("_id"),
        *[canonical(c, vocab.aliases.get(c, {})).alias(f"_{c}") for c in columns],
        parse_timestamp("started_at").alias("_ts"),
        parse_long("duration_s").alias("_duration"),
        parse_long("satisfaction").alias("_satisfaction"),
    )
    problems = _contact_problems(vocab)
    problems.append((in_the_future(F.col("_ts"), rules), future_reason("started_at", rules)))
    usable, rejects = split_unusable(typed, SILVER_SERVICE_CONTACTS, landed, problems)
    latest, superseded = latest_and_superseded(usable, "_id", [])
    by_ref = record_key(lower_clean("customer_ref_type"), clean("customer_ref"))
    with_phone = latest.withColumn("_phone", _phone_udf(clean("phone"))).join(
        F.broadcast(phone_owners(person_records)), "_phone", "left"
    )
    resolved = F.coalesce(by_ref, F.col("_phone_record"))
    unresolved_ticket = (F.col("_kind") == "ticket") & F.col("_outcome").isin(
        *vocab.unresolved_outcomes
    )
    rows = with_phone.select(
        F.col("_id").alias("contact_id"),
        lower_clean("customer_ref_type").alias("customer_ref_type"),
        clean("customer_ref").alias("customer_ref"),
        resolved.alias("record_key"),
        F.when(by_ref.isNotNull(), "customer_ref")
        .when(F.col("_phone_record").isNotNull(), "phone")
        .alias("resolved_by"),
        *[F.col(f"_{c}").alias(c) for c in columns],
        F.col("_ts").alias("started_at"),
        local_date(F.col("_ts")).alias("started_date"),
        F.col("_duration").alias("duration_s"),
        F.coalesce(unresolved_ticket, F.lit(False)).alias("unresolved"),
        F.col("_satisfaction").alias("satisfaction"),
        value_issues({c: vocab.vocabulary(c) for c in columns[1:]}).alias("value_issues"),
        *LINEAGE_COLUMNS,
    )
    schema = SILVER_SERVICE_CONTACTS_SCHEMA
    return SilverBuild(SILVER_SERVICE_CONTACTS, conform(rows, schema), rejects, superseded, schema)


def resolution_figures(rows: DataFrame) -> dict[str, int]:
    """How the rows of an interaction table name their person, for the asset's metadata:
    ``rows_unresolved`` (no record: kept, not dropped) and, for service contacts,
    ``rows_resolved_by_phone``."""
    resolved_by = "resolved_by" in rows.columns
    row = rows.agg(
        F.count(F.when(F.col("record_key").isNull(), 1)).alias("unresolved"),
        F.count(F.when(F.col("resolved_by") == "phone", 1)).alias("by_phone")
        if resolved_by
        else F.lit(0).alias("by_phone"),
    ).first()
    figures = {"rows_unresolved": int(row["unresolved"])}
    if resolved_by:
        figures["rows_resolved_by_phone"] = int(row["by_phone"])
    return figures
