"""Silver person tables (crm contacts, erp customers, loyalty members) and person_records.

Latest version per source record, identity fields standardised (:mod:`c360.standardise`). A
bad field in a usable row is nulled, its landed value kept in ``raw_values`` and the problem
listed in ``field_issues`` (the customer is kept); a row without its key is quarantined. The
optional profile columns and the declared custom fields (``conf/profile_fields.yaml``) are read
by :mod:`c360.silver.profile` the same way: a value that does not read is flagged, never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS, SourceEntity
from c360.profile_fields import (
    CustomField,
    ProfileFieldRules,
    load_profile_fields,
    person_records_schema,
    silver_person_schema,
)
from c360.silver.columns import (
    LINEAGE_COLUMNS,
    clean,
    column_or_null,
    field_issues,
    future_reason,
    in_the_future,
    latest_and_superseded,
    lower_clean,
    parse_consent,
    parse_timestamp,
    split_unusable,
)
from c360.silver.profile import profile_issues, profile_raw_values, with_profile_columns
from c360.standardise import (
    IDENTITY_COLUMNS_BY_SOURCE,
    IdentityColumns,
    standardise_identity_spark,
)
from c360.tables import (
    CONSENT_FIELDS,
    INGEST_DATE,
    LANDED,
    QUARANTINE_SCHEMA,
    SILVER_PERSON_RECORDS,
    SILVER_PERSON_TABLES,
    SOURCE_LINEAGE_FIELDS,
    Table,
)
from c360.values import ValueRules, load_value_rules
from quality.staging import SilverBuild, conform


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
    # the custom fields of conf/profile_fields.yaml this source lands
    custom: tuple[CustomField, ...] = ()


def person_sources(profile: ProfileFieldRules | None = None) -> dict[str, PersonSource]:
    """The three person-bearing sources, keyed by source system (crm, erp, loyalty); schemas
    and custom fields from ``profile`` (default conf/profile_fields.yaml)."""
    profile = profile or load_profile_fields()
    tables = SILVER_PERSON_TABLES
    schemas = {system: silver_person_schema(system, profile) for system in tables}
    custom = {system: profile.custom_of(system) for system in tables}
    return {
        "crm": PersonSource(
            CRM_CONTACTS, tables["crm"], schemas["crm"],
            IDENTITY_COLUMNS_BY_SOURCE["crm"],
            "created_at", "updated_at", custom=custom["crm"],
        ),
        "erp": PersonSource(
            ERP_CUSTOMERS, tables["erp"], schemas["erp"],
            IDENTITY_COLUMNS_BY_SOURCE["erp"],
            "created_date", "modified_date",
            (("tax_code", clean, "tax_code"), ("customer_type", lower_clean, "customer_type")),
            custom["erp"],
        ),
        "loyalty": PersonSource(
            LOYALTY_MEMBERS, tables["loyalty"], schemas["loyalty"],
            IDENTITY_COLUMNS_BY_SOURCE["loyalty"],
            "enrolled_at", "updated_at",
            (("card_number", clean, "card_number"), ("tier", lower_clean, "tier"),
             ("status", lower_clean, "status"),
             # the enrolment time as checked for the future (created_column)
             ("enrolled_at", lambda _: F.col("_created"), "enrolled_at")),
            custom["loyalty"],
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


def _with_stamps(
    bronze: DataFrame, key_column: str, stamps: dict[str, str], rules: ValueRules
) -> DataFrame:
    """``bronze`` with ``_key`` and each record timestamp parsed (``<name>_parsed``), flagged
    when in the future (``_future_<column>``) and kept only when not (``<name>``)."""
    parsed = bronze.select(
        *bronze.columns,
        clean(key_column).alias("_key"),
        *[parse_timestamp(column).alias(f"{name}_parsed") for name, column in stamps.items()],
    )
    return parsed.select(
        *parsed.columns,
        *[in_the_future(F.col(f"{name}_parsed"), rules).alias(f"_future_{column}")
          for name, column in stamps.items()],
    ).select(
        "*",
        *[F.when(~F.col(f"_future_{column}"), F.col(f"{name}_parsed")).alias(name)
          for name, column in stamps.items()],
    )  # fmt: skip


def build_person_table(
    bronze: DataFrame,
    source: PersonSource,
    rules: ValueRules | None = None,
    profile: ProfileFieldRules | None = None,
) -> SilverBuild:
    """A silver person table: latest version per key, identity fields standardised, profile
    and custom fields typed (:mod:`c360.silver.profile`).

    A ``created`` / ``updated`` time more than the configured skew after the landing day is
    nulled and flagged (raw kept), so a future ``updated_at`` never makes a version the latest
    nor wins survivorship.
    """
    rules = rules or load_value_rules()
    entity = source.entity
    landed = [c for c in bronze.columns if not c.startswith("_")]
    stamps = {"_created": source.created_column, "_updated": source.updated_column}
    typed = _with_stamps(bronze, entity.key_column, stamps, rules)
    usable, rejects = split_unusable(
        typed,
        source.table,
        landed,
        [(F.col("_key").isNull(), f"expect_column_values_to_not_be_null: {entity.key_column}")],
    )
    latest, superseded = latest_and_superseded(
        usable, "_key", [F.col("_updated").desc_nulls_last()]
    )
    latest, profile_fields = with_profile_columns(
        latest, profile or load_profile_fields(), source.custom
    )
    identity_landed = list(dict.fromkeys(source.identity.landed().values()))
    consent = {name: parse_consent(column_or_null(bronze, name)) for name, _ in CONSENT_FIELDS}
    landed_consent = [name for name, _ in CONSENT_FIELDS if name in bronze.columns]
    issues = field_issues(
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
        *[column.value.alias(column.name) for column in profile_fields],
        F.concat(issues, profile_issues(profile_fields)).alias("_issues"),
        F.map_concat(
            _future_raw_values(list(dict.fromkeys(stamps.values()))),
            profile_raw_values(latest, profile_fields),
        ).alias("_raw_stamps"),
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


def build_person_records(
    silver_tables: dict[str, DataFrame], profile: ProfileFieldRules | None = None
) -> DataFrame:
    """``silver/person_records``: every person-bearing record in one schema (a custom field a
    source does not land is null in its rows).

    Args:
        silver_tables: silver person tables keyed by source system (crm, erp, loyalty).
    """
    profile = profile or load_profile_fields()
    sources = person_sources(profile)
    schema = person_records_schema(profile)
    names = schema.names
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
                *[
                    _column_or_null(frame, created if c == "created_at" else c).alias(c)
                    for c in names[3:]
                ],
            )
        )
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    return conform(union, schema)


def _column_or_null(frame: DataFrame, column: str) -> Column:
    return F.col(column) if column in frame.columns else F.lit(None)


def person_records_build(records: DataFrame) -> SilverBuild:
    """``silver/person_records`` as a build to audit: no rejects, nothing superseded."""
    spark = records.sparkSession
    empty_rejects = spark.createDataFrame([], from_arrow_schema(QUARANTINE_SCHEMA))
    lineage = pa.schema([pa.field(name, dtype) for name, dtype in SOURCE_LINEAGE_FIELDS])
    empty_lineage = spark.createDataFrame([], from_arrow_schema(lineage))
    schema = person_records_schema()
    # records written before a custom field was declared lack its column: null
    missing = {f.name: F.lit(None) for f in schema if f.name not in records.columns}
    records = records.withColumns(missing) if missing else records
    return SilverBuild(SILVER_PERSON_RECORDS, records, empty_rejects, empty_lineage, schema)
