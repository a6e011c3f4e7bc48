"""Bronze -> silver: typed, standardised, one latest version per source record.

Silver tables are rebuilt from all of bronze on every run, so re-running a day or ingesting
days out of order gives the same silver tables. A row that cannot be used at all (no key, an
amount or timestamp that is not one, an amount not written by its currency's rule, an unknown
currency, an event time in the future) goes to ``quarantine/rejects`` with the reason; a bad
field in a usable row is nulled, its landed value kept in ``raw_values`` and the problem listed
in ``field_issues`` (the customer is kept). Amounts are VND (``conf/values.yaml`` converts other
currencies); the expectations of ``conf/expectations.yaml`` are applied by ``quality.audit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import BooleanType

from c360 import standardise
from c360.contract import (
    CRM_CONTACTS,
    ERP_CUSTOMERS,
    LOYALTY_MEMBERS,
    LOYALTY_POINTS,
    SOURCE_TIMEZONE,
    TRANSACTIONS,
    SourceEntity,
)
from c360.standardise import (
    IDENTITY_COLUMNS_BY_SOURCE,
    IdentityColumns,
    standardise_identity_spark,
)
from c360.tables import (
    CONSENT_FIELDS,
    INGEST_DATE,
    QUARANTINE_SCHEMA,
    SILVER_CRM_CONTACTS,
    SILVER_CRM_CONTACTS_SCHEMA,
    SILVER_ERP_CUSTOMERS,
    SILVER_ERP_CUSTOMERS_SCHEMA,
    SILVER_LOYALTY_MEMBERS,
    SILVER_LOYALTY_MEMBERS_SCHEMA,
    SILVER_LOYALTY_POINTS,
    SILVER_LOYALTY_POINTS_SCHEMA,
    SILVER_PERSON_RECORDS,
    SILVER_PERSON_RECORDS_SCHEMA,
    SILVER_TRANSACTIONS,
    SILVER_TRANSACTIONS_SCHEMA,
    SOURCE_LINEAGE_FIELDS,
    Table,
)
from c360.values import ValueRules, load_value_rules

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = (INGEST_DATE, "_source_file", "_row_number")
_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"
# Landed text of each field of a person row (keys as in raw_values), kept until the audit.
LANDED = "_landed"
# The silver columns that hold one identity field: flagging any of them nulls them all.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "full_name": ("full_name", "full_name_folded", "family_name", "middle_name", "given_name"),
    "gender": ("gender",),
    "date_of_birth": ("date_of_birth",),
    "phone": ("phone_e164",),
    "email": ("email",),
    "national_id": ("national_id", "national_id_type"),
    "address": ("address", "address_folded"),
    "province": ("province", "region"),
}


def field_of(column: str) -> str:
    """The raw_values / field_issues name of a silver column (``phone_e164`` -> ``phone``)."""
    return next((f for f, columns in FIELD_COLUMNS.items() if column in columns), column)


class RowAccountingError(RuntimeError):
    """Bronze rows are not all accounted for as silver, superseded or quarantined rows."""


@dataclass
class SilverBuild:
    """A silver table ready to audit and write, its rejects, and the rows latest_version dropped.

    ``rows`` may carry helper columns (``_landed``) until :func:`conform` to ``schema``.
    """

    table: Table
    rows: DataFrame
    rejects: DataFrame
    superseded: DataFrame
    schema: pa.Schema

    def account(self, bronze_rows: int) -> dict[str, int]:
        """Row accounting, each count taken on its own rows (none derived from the others)."""
        return {
            "rows_bronze": bronze_rows,
            "rows_silver": self.rows.count(),
            "rows_quarantined": self.rejects.count(),
            # older versions a newer one replaced: accounted, not lost (bronze keeps them)
            "rows_superseded": self.superseded.count(),
        }

    def check_accounting(self, bronze_rows: int) -> dict[str, int]:
        """:meth:`account`, raising when bronze != silver + superseded + quarantined.

        Raises:
            RowAccountingError: rows were lost or duplicated between bronze and silver.
        """
        counts = self.account(bronze_rows)
        accounted = counts["rows_silver"] + counts["rows_superseded"] + counts["rows_quarantined"]
        if accounted != bronze_rows:
            raise RowAccountingError(
                f"{self.table.qualified_name}: {bronze_rows} bronze rows but {accounted} "
                f"accounted for (silver {counts['rows_silver']} + superseded "
                f"{counts['rows_superseded']} + quarantined {counts['rows_quarantined']}); "
                "rows were lost or duplicated: nothing was written, report this as a bug"
            )
        return counts


# ---- column helpers (built-in Spark functions only) ---------------------------------------
def clean(column: str) -> Column:
    """Trimmed text; empty -> null."""
    trimmed = F.trim(F.col(column))
    return F.when(trimmed == "", None).otherwise(trimmed)


def lower_clean(column: str) -> Column:
    return F.lower(clean(column))


def parse_timestamp(column: str) -> Column:
    """ISO 8601 (an offset is honoured; none means Vietnam local time) or a contract date.

    Returns a UTC timestamp, null when the text is not one.
    """
    text = clean(column)
    with_offset = F.try_to_timestamp(text)
    local = F.coalesce(
        F.try_to_timestamp(text, F.lit("yyyy-MM-dd'T'HH:mm:ss[.SSSSSS]")),
        F.try_to_timestamp(text, F.lit("yyyy-MM-dd HH:mm:ss[.SSSSSS]")),
        F.try_to_timestamp(text, F.lit("yyyy-MM-dd")),
        F.try_to_timestamp(text, F.lit("dd/MM/yyyy")),
        F.try_to_timestamp(text, F.lit("yyyyMMdd")),
    )
    return F.when(text.rlike(_OFFSET), with_offset).otherwise(
        F.to_utc_timestamp(local, SOURCE_TIMEZONE)
    )


def local_date(timestamp: Column) -> Column:
    """The Vietnam calendar day of a UTC timestamp."""
    return F.to_date(F.from_utc_timestamp(timestamp, SOURCE_TIMEZONE))


def in_the_future(timestamp: Column, rules: ValueRules) -> Column:
    """True when ``timestamp`` is more than the configured skew after the landing day's end.

    An extract of day D holds nothing later than the end of D (local time); the landing day
    (``_ingest_date``), not the clock, is the reference, so re-runs give the same answer.
    """
    day_end = F.to_utc_timestamp(
        F.date_add(F.col(INGEST_DATE), 1).cast("timestamp"), SOURCE_TIMEZONE
    )
    skew_seconds = int(rules.future_skew_hours * 3600)
    limit = F.timestamp_seconds(F.unix_timestamp(day_end) + F.lit(skew_seconds))
    return F.coalesce(timestamp > limit, F.lit(False))


def future_reason(column: str, rules: ValueRules) -> str:
    return (
        f"{column}: in the future (more than {rules.future_skew_hours:g} h after the landing day)"
    )


def parse_money(column: str, currency: Column, rules: ValueRules) -> Column:
    """An amount in ``currency`` read by that currency's rule (conf/values.yaml).

    Null when empty, when the currency has no rule, or when the text does not follow the rule
    ("1,5" is no VND amount: its thousands separator must be followed by three digits).
    """
    text = clean(column)
    parsed: Column | None = None
    for code, rule in rules.currencies.items():
        # the decimal separator becomes ".", thousands separators are deleted
        digits = F.translate(text, rule.decimal + "".join(rule.thousands), ".")
        value = F.when(text.rlike(rule.pattern()), digits.try_cast("decimal(18,2)"))
        parsed = (
            F.when(currency == code, value)
            if parsed is None
            else parsed.when(currency == code, value)
        )
    return parsed


def to_vnd(amount: Column, currency: Column, rules: ValueRules) -> Column:
    """``amount`` in VND at the currency's ``rate_to_vnd``; null when too large for the column."""
    converted: Column | None = None
    for code, rule in rules.currencies.items():
        value = F.round(amount * F.lit(rule.rate_to_vnd), 2).try_cast("decimal(18,2)")
        converted = (
            F.when(currency == code, value)
            if converted is None
            else converted.when(currency == code, value)
        )
    return converted


def parse_long(column: str) -> Column:
    """An integer ("12" or "12.0"); null when not one."""
    return F.regexp_replace(clean(column), r"\.0+$", "").try_cast("bigint")


@F.pandas_udf(BooleanType())
def _consent_udf(values: pd.Series) -> pd.Series:
    # few distinct spellings: parse each once (rules from conf/standardise.yaml)
    parsed = {v: standardise.parse_consent(v) for v in values.dropna().unique()}
    return values.map(parsed).astype("boolean")


def parse_consent(column: str | None) -> Column:
    """yes / no in the spellings of ``conf/standardise.yaml``; null when absent or unknown."""
    if column is None:
        return F.lit(None).cast("boolean")
    return _consent_udf(clean(column))


def column_or_null(frame: DataFrame, column: str) -> str | None:
    """The column's name when the frame has it (optional extra columns), else None."""
    return column if column in frame.columns else None


def latest_version_ranked(frame: DataFrame, key: str, newest_first: Sequence[Column]) -> DataFrame:
    """``frame`` with ``_version_rank``: 1 for the newest row of each ``key``."""
    order = [
        *newest_first,
        F.col(INGEST_DATE).desc(),
        F.col("_source_file").desc(),
        F.col("_row_number").desc(),
    ]
    window = Window.partitionBy(key).orderBy(*order)
    return frame.withColumn("_version_rank", F.row_number().over(window))


def latest_version(frame: DataFrame, key: str, newest_first: Sequence[Column]) -> DataFrame:
    """One row per ``key``: the newest by ``newest_first``, then the latest landing."""
    return latest_version_ranked(frame, key, newest_first).where("_version_rank = 1")


def rejects_frame(
    frame: DataFrame, table: Table, landed: Sequence[str], reasons: Column
) -> DataFrame:
    """Rows of ``frame`` as ``quarantine/rejects`` rows (raw = the landed row as JSON)."""
    return frame.select(
        F.lit("silver").alias("layer"),
        F.lit(table.name).alias("table"),
        F.col(INGEST_DATE),
        F.col("_source_file"),
        F.col("_row_number"),
        F.to_json(F.struct(*[F.col(c) for c in landed])).alias("raw"),
        reasons.alias("reasons"),
        F.current_timestamp().alias("detected_at"),
    )


def _why(reason: Column | str) -> Column:
    return F.lit(reason) if isinstance(reason, str) else reason


def _split_unusable(
    frame: DataFrame,
    table: Table,
    landed: Sequence[str],
    problems: Sequence[tuple[Column, Column | str]],
) -> tuple[DataFrame, DataFrame]:
    """(usable rows, rejects) where a reject has at least one of ``problems``."""
    reasons = F.array_compact(F.array(*[F.when(bad, _why(why)) for bad, why in problems]))
    flagged = frame.withColumn("_reasons", reasons)
    usable = flagged.where(F.size("_reasons") == 0).drop("_reasons")
    rejects = rejects_frame(flagged.where(F.size("_reasons") > 0), table, landed, F.col("_reasons"))
    return usable, rejects


def _field_issues(checks: Sequence[tuple[Column, str]]) -> Column:
    return F.array_compact(F.array(*[F.when(bad, F.lit(issue)) for bad, issue in checks]))


def latest_and_superseded(
    frame: DataFrame, key: str, newest_first: Sequence[Column]
) -> tuple[DataFrame, DataFrame]:
    """:func:`latest_version` and the older versions it drops (lineage columns only)."""
    ranked = latest_version_ranked(frame, key, newest_first)
    superseded = ranked.where("_version_rank > 1").select(*LINEAGE_COLUMNS)
    return ranked.where("_version_rank = 1"), superseded


def conform(frame: DataFrame, schema: pa.Schema, keep: Sequence[str] = ()) -> DataFrame:
    """Select the schema's columns in order, cast to its types (one definition of the table).

    ``keep`` names helper columns carried after them (e.g. ``_landed`` until the audit).
    """
    spark_schema = from_arrow_schema(schema)
    typed = [F.col(f.name).cast(f.dataType).alias(f.name) for f in spark_schema]
    return frame.select(*typed, *keep)


# ---- transactions and loyalty points ------------------------------------------------------
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
    usable, rejects = _split_unusable(
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
    usable, rejects = _split_unusable(
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


# ---- person-bearing tables ------------------------------------------------------------------
@dataclass(frozen=True)
class PersonSource:
    """How one person-bearing source maps onto the silver identity schema."""

    entity: SourceEntity
    table: Table
    schema: pa.Schema
    identity: IdentityColumns
    created_column: str
    updated_column: str
    # (silver column, transform, landed column): source-specific columns beyond identity
    extra: tuple[tuple[str, Callable[[str], Column], str], ...] = ()


def person_sources() -> dict[str, PersonSource]:
    """The three person-bearing sources, keyed by source system (crm, erp, loyalty)."""
    return {
        "crm": PersonSource(
            CRM_CONTACTS, SILVER_CRM_CONTACTS, SILVER_CRM_CONTACTS_SCHEMA,
            IDENTITY_COLUMNS_BY_SOURCE["crm"],
            "created_at", "updated_at",
        ),
        "erp": PersonSource(
            ERP_CUSTOMERS, SILVER_ERP_CUSTOMERS, SILVER_ERP_CUSTOMERS_SCHEMA,
            IDENTITY_COLUMNS_BY_SOURCE["erp"],
            "created_date", "modified_date",
            (("tax_code", clean, "tax_code"), ("customer_type", lower_clean, "customer_type")),
        ),
        "loyalty": PersonSource(
            LOYALTY_MEMBERS, SILVER_LOYALTY_MEMBERS, SILVER_LOYALTY_MEMBERS_SCHEMA,
            IDENTITY_COLUMNS_BY_SOURCE["loyalty"],
            "enrolled_at", "updated_at",
            (("card_number", clean, "card_number"), ("tier", lower_clean, "tier"),
             ("status", lower_clean, "status"),
             # the enrolment time as checked for the future (created_column)
             ("enrolled_at", lambda _: F.col("_created"), "enrolled_at")),
        ),
    }  # fmt: skip


def _landed_fields(source: PersonSource) -> Column:
    """Map of field name -> landed text, for the audit to keep a flagged field's raw value."""
    pairs = {**source.identity.landed(), **{name: col for name, _, col in source.extra}}
    return F.create_map(*[part for f, col in pairs.items() for part in (F.lit(f), clean(col))])


def _future_raw_values(columns: Sequence[str]) -> Column:
    """raw_values entries for the record timestamps nulled as in the future."""
    entries = [
        part for c in columns for part in (F.lit(c), F.when(F.col(f"_future_{c}"), clean(c)))
    ]
    return F.map_filter(F.create_map(*entries), lambda _, value: value.isNotNull())


def build_person_table(
    bronze: DataFrame, source: PersonSource, rules: ValueRules | None = None
) -> SilverBuild:
    """A silver person table: latest version per key, identity fields standardised.

    A ``created`` / ``updated`` time more than the configured skew after the landing day is
    nulled and flagged (raw kept), so a future ``updated_at`` never makes a version the latest
    nor wins survivorship.
    """
    rules = rules or load_value_rules()
    entity = source.entity
    landed = [c for c in bronze.columns if not c.startswith("_")]
    stamps = {"_created": source.created_column, "_updated": source.updated_column}
    parsed = bronze.select(
        *bronze.columns,
        clean(entity.key_column).alias("_key"),
        *[parse_timestamp(column).alias(f"{name}_parsed") for name, column in stamps.items()],
    )
    typed = parsed.select(
        *parsed.columns,
        *[in_the_future(F.col(f"{name}_parsed"), rules).alias(f"_future_{column}")
          for name, column in stamps.items()],
    ).select(
        "*",
        *[F.when(~F.col(f"_future_{column}"), F.col(f"{name}_parsed")).alias(name)
          for name, column in stamps.items()],
    )  # fmt: skip
    usable, rejects = _split_unusable(
        typed,
        source.table,
        landed,
        [(F.col("_key").isNull(), f"expect_column_values_to_not_be_null: {entity.key_column}")],
    )
    latest, superseded = latest_and_superseded(
        usable, "_key", [F.col("_updated").desc_nulls_last()]
    )
    identity_landed = list(dict.fromkeys(source.identity.landed().values()))
    consent = {name: parse_consent(column_or_null(bronze, name)) for name, _ in CONSENT_FIELDS}
    landed_consent = [name for name, _ in CONSENT_FIELDS if name in bronze.columns]
    issues = _field_issues(
        [
            *[(clean(column).isNotNull() & F.col(f"{name}_parsed").isNull(),
               f"{column}: not a timestamp") for name, column in stamps.items()],
            *[(F.col(f"_future_{column}"), future_reason(column, rules))
              for column in stamps.values()],
            *[(clean(name).isNotNull() & consent[name].isNull(), f"{name}: not yes/no")
              for name in landed_consent],
        ]
    )  # fmt: skip
    prepared = latest.select(
        F.col("_key").alias(entity.key_column),
        *[F.col(c) for c in identity_landed],
        F.col("_created").alias("created_at"),
        F.col("_updated").alias("updated_at"),
        *[expr.alias(name) for name, expr in consent.items()],
        *[transform(landed).alias(name) for name, transform, landed in source.extra],
        issues.alias("_issues"),
        _future_raw_values(list(dict.fromkeys(stamps.values()))).alias("_raw_stamps"),
        _landed_fields(source).alias(LANDED),
        *LINEAGE_COLUMNS,
    )
    passthrough = [c for c in prepared.columns if c not in identity_landed]
    standardised = standardise_identity_spark(
        prepared, source.identity, keep=passthrough, as_of_column=INGEST_DATE
    )
    rows = standardised.withColumns(
        {
            "field_issues": F.concat(F.col("field_issues"), F.col("_issues")),
            "raw_values": F.map_concat(F.col("raw_values"), F.col("_raw_stamps")),
        }
    )
    conformed = conform(rows, source.schema, keep=[LANDED])
    return SilverBuild(source.table, conformed, rejects, superseded, source.schema)


def build_person_records(silver_tables: dict[str, DataFrame]) -> DataFrame:
    """``silver/person_records``: every person-bearing record in one schema.

    Args:
        silver_tables: silver person tables keyed by source system (crm, erp, loyalty).
    """
    sources = person_sources()
    names = SILVER_PERSON_RECORDS_SCHEMA.names
    parts = []
    for system, frame in silver_tables.items():
        key = sources[system].entity.key_column
        # a loyalty member's record is created when they enrol
        created = "enrolled_at" if "created_at" not in frame.columns else "created_at"
        parts.append(
            frame.select(
                F.concat(F.lit(f"{system}:"), F.col(key)).alias("record_key"),
                F.lit(system).alias("source_system"),
                F.col(key).alias("source_record_id"),
                *[F.col(created if c == "created_at" else c).alias(c) for c in names[3:]],
            )
        )
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    return conform(union, SILVER_PERSON_RECORDS_SCHEMA)


def person_records_build(records: DataFrame) -> SilverBuild:
    """``silver/person_records`` as a build to audit: no rejects, nothing superseded."""
    spark = records.sparkSession
    empty_rejects = spark.createDataFrame([], from_arrow_schema(QUARANTINE_SCHEMA))
    lineage = pa.schema([pa.field(name, dtype) for name, dtype in SOURCE_LINEAGE_FIELDS])
    empty_lineage = spark.createDataFrame([], from_arrow_schema(lineage))
    return SilverBuild(
        SILVER_PERSON_RECORDS, records, empty_rejects, empty_lineage, SILVER_PERSON_RECORDS_SCHEMA
    )
