"""Bronze -> silver: typed, standardised, one latest version per source record.

Silver tables are rebuilt from all of bronze on every run, so re-running a day or ingesting
days out of order gives the same silver tables. A row that cannot be used at all (no key, an
amount or timestamp that is not one) goes to ``quarantine/rejects`` with the reason; a bad field
in a usable row is nulled, its landed value kept in ``raw_values`` and the problem listed in
``field_issues`` (the customer is kept).
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
    SILVER_CRM_CONTACTS,
    SILVER_CRM_CONTACTS_SCHEMA,
    SILVER_ERP_CUSTOMERS,
    SILVER_ERP_CUSTOMERS_SCHEMA,
    SILVER_LOYALTY_MEMBERS,
    SILVER_LOYALTY_MEMBERS_SCHEMA,
    SILVER_LOYALTY_POINTS,
    SILVER_LOYALTY_POINTS_SCHEMA,
    SILVER_PERSON_RECORDS_SCHEMA,
    SILVER_TRANSACTIONS,
    SILVER_TRANSACTIONS_SCHEMA,
    Table,
)

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = (INGEST_DATE, "_source_file", "_row_number")
_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"


@dataclass
class SilverBuild:
    """A silver table ready to write, its rejects, and the row accounting."""

    table: Table
    rows: DataFrame
    rejects: DataFrame

    def account(self, bronze_rows: int) -> dict[str, int]:
        """Row accounting: bronze rows = silver + superseded versions + quarantined."""
        silver_rows = self.rows.count()
        quarantined = self.rejects.count()
        return {
            "rows_bronze": bronze_rows,
            "rows_silver": silver_rows,
            "rows_quarantined": quarantined,
            # older versions a newer one replaced: accounted, not lost (bronze keeps them)
            "rows_superseded": bronze_rows - silver_rows - quarantined,
        }


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


def parse_money(column: str) -> Column:
    """A decimal amount; spaces and thousands commas ignored; null when not a number."""
    return F.regexp_replace(clean(column), r"[\s,]", "").try_cast("decimal(18,2)")


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


def latest_version(frame: DataFrame, key: str, newest_first: Sequence[Column]) -> DataFrame:
    """One row per ``key``: the newest by ``newest_first``, then the latest landing."""
    order = [
        *newest_first,
        F.col(INGEST_DATE).desc(),
        F.col("_source_file").desc(),
        F.col("_row_number").desc(),
    ]
    window = Window.partitionBy(key).orderBy(*order)
    return frame.withColumn("_version_rank", F.row_number().over(window)).where("_version_rank = 1")


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


def _split_unusable(
    frame: DataFrame, table: Table, landed: Sequence[str], problems: Sequence[tuple[Column, str]]
) -> tuple[DataFrame, DataFrame]:
    """(usable rows, rejects) where a reject has at least one of ``problems``."""
    reasons = F.array_compact(F.array(*[F.when(bad, F.lit(why)) for bad, why in problems]))
    flagged = frame.withColumn("_reasons", reasons)
    usable = flagged.where(F.size("_reasons") == 0).drop("_reasons")
    rejects = rejects_frame(flagged.where(F.size("_reasons") > 0), table, landed, F.col("_reasons"))
    return usable, rejects


def _field_issues(checks: Sequence[tuple[Column, str]]) -> Column:
    return F.array_compact(F.array(*[F.when(bad, F.lit(issue)) for bad, issue in checks]))


def conform(frame: DataFrame, schema: pa.Schema) -> DataFrame:
    """Select the schema's columns in order, cast to its types (one definition of the table)."""
    spark_schema = from_arrow_schema(schema)
    return frame.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in spark_schema])


# ---- transactions and loyalty points ------------------------------------------------------
def build_transactions(bronze: DataFrame) -> SilverBuild:
    """Typed transactions, latest landing per transaction_id (a refund may re-land one)."""
    landed = list(TRANSACTIONS.required_columns)
    typed = bronze.select(
        *landed,
        *LINEAGE_COLUMNS,
        clean("transaction_id").alias("_id"),
        parse_timestamp("transaction_ts").alias("_ts"),
        parse_money("amount").alias("_amount"),
    )
    usable, rejects = _split_unusable(
        typed,
        SILVER_TRANSACTIONS,
        landed,
        [
            (F.col("_id").isNull(), "expect_column_values_to_not_be_null: transaction_id"),
            (F.col("_ts").isNull(), "transaction_ts: not an ISO 8601 timestamp"),
            (F.col("_amount").isNull(), "amount: not a number"),
        ],
    )
    latest = latest_version(usable, "_id", [])
    ref_type = lower_clean("customer_ref_type")
    ref = clean("customer_ref")
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
        parse_money("unit_price").alias("unit_price"),
        F.coalesce(parse_money("discount"), F.lit(0).cast("decimal(18,2)")).alias("discount"),
        F.col("_amount").alias("amount"),
        F.upper(clean("currency")).alias("currency"),
        lower_clean("payment_method").alias("payment_method"),
        clean("voucher_code").alias("voucher_code"),
        F.col("_ts").alias("transaction_ts"),
        local_date(F.col("_ts")).alias("transaction_date"),
        lower_clean("status").alias("status"),
        *LINEAGE_COLUMNS,
    )
    return SilverBuild(SILVER_TRANSACTIONS, conform(rows, SILVER_TRANSACTIONS_SCHEMA), rejects)


def build_loyalty_points(bronze: DataFrame) -> SilverBuild:
    """Typed points ledger entries, latest landing per entry_id."""
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
            (F.col("_points").isNull(), "points: not an integer"),
        ],
    )
    rows = latest_version(usable, "_id", []).select(
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
    return SilverBuild(SILVER_LOYALTY_POINTS, conform(rows, SILVER_LOYALTY_POINTS_SCHEMA), rejects)


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
             ("status", lower_clean, "status"), ("enrolled_at", parse_timestamp, "enrolled_at")),
        ),
    }  # fmt: skip


def build_person_table(bronze: DataFrame, source: PersonSource) -> SilverBuild:
    """A silver person table: latest version per key, identity fields standardised."""
    entity = source.entity
    landed = [c for c in bronze.columns if not c.startswith("_")]
    typed = bronze.select(
        *bronze.columns,
        clean(entity.key_column).alias("_key"),
        parse_timestamp(source.created_column).alias("_created"),
        parse_timestamp(source.updated_column).alias("_updated"),
    )
    usable, rejects = _split_unusable(
        typed,
        source.table,
        landed,
        [(F.col("_key").isNull(), f"expect_column_values_to_not_be_null: {entity.key_column}")],
    )
    latest = latest_version(usable, "_key", [F.col("_updated").desc_nulls_last()])
    identity_landed = list(dict.fromkeys(source.identity.landed().values()))
    consent = {name: parse_consent(column_or_null(bronze, name)) for name, _ in CONSENT_FIELDS}
    landed_consent = [name for name, _ in CONSENT_FIELDS if name in bronze.columns]
    issues = _field_issues(
        [
            (clean(source.created_column).isNotNull() & F.col("_created").isNull(),
             f"{source.created_column}: not a timestamp"),
            (clean(source.updated_column).isNotNull() & F.col("_updated").isNull(),
             f"{source.updated_column}: not a timestamp"),
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
        *LINEAGE_COLUMNS,
    )
    passthrough = [c for c in prepared.columns if c not in identity_landed]
    standardised = standardise_identity_spark(
        prepared, source.identity, keep=passthrough, as_of_column=INGEST_DATE
    )
    rows = standardised.withColumn(
        "field_issues", F.concat(F.col("field_issues"), F.col("_issues"))
    )
    return SilverBuild(source.table, conform(rows, source.schema), rejects)


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
