"""Every lakehouse table, named once (ARCHITECTURE.md section 4).

Code refers to tables by these constants; only :mod:`c360.lakehouse` turns them into paths.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pyarrow as pa

from c360.contract import SOURCE_ENTITIES, SourceEntity

if TYPE_CHECKING:
    import dagster as dg

LAYERS = ("bronze", "silver", "gold", "quarantine")

# How a table's rows name a person (c360.privacy erases by it; docs/runbook.md "Erasure"):
# customer_id    the columns hold customer IDs of gold/identity_map
# record_key     the columns hold "<source_system>:<source_record_id>"
# source_record  the columns hold (source_system, source_record_id), or just the record ID when
#                `source_system` is fixed (a source's own table)
# raw            free text (quarantine's raw rows): searched for the person's identifiers
# none           the rows hold no person (a catalogue, an audit log of counts)
PersonKind = Literal["customer_id", "record_key", "source_record", "raw", "none"]


@dataclass(frozen=True)
class PersonKey:
    """Which columns of a table identify a person, so an erasure finds every row of them."""

    kind: PersonKind
    columns: tuple[str, ...] = ()
    source_system: str | None = None
    # columns holding a phone as landed: rows whose standardised phone is the person's are theirs
    # too (a caller known only by phone; c360.privacy)
    phone_columns: tuple[str, ...] = ()


NO_PERSON = PersonKey("none")
# Rows per row group of the tables the customer view reads one customer at a time: sorted by
# that customer's column, a lookup reads one group of each instead of the table (issue 19).
POINT_READ_ROWS = 16_384


@dataclass(frozen=True)
class Table:
    """A Delta table under the lakehouse root: ``<root>/<layer>/<name>``.

    ``person`` says how its rows identify a person (None: undeclared, which the privacy stage
    refuses to guess: it stops naming the table).
    """

    layer: str
    name: str
    partition_by: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    description: str = ""
    person: PersonKey | None = None
    # Rows per Parquet row group (delta-rs writes; None: its default of about a million). Small
    # groups on a table sorted by its key let a reader of one key skip the rest by statistics.
    row_group_rows: int | None = None
    # Columns every write sorts its rows by (then by ``keys``, so the order is deterministic):
    # with small row groups, a reader of one value (a customer's records) reads one group.
    sort_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}; expected one of {LAYERS}")

    @property
    def qualified_name(self) -> str:
        """``layer.name``, as used in logs, metadata and SQL views."""
        return f"{self.layer}.{self.name}"

    @property
    def asset_key(self) -> dg.AssetKey:
        """The Dagster asset that writes the table: ``["<layer>", "<name>"]``."""
        import dagster as dg  # here, not at the top: the core loads without Dagster

        return dg.AssetKey([self.layer, self.name])


# Lineage columns every bronze table carries besides the landed columns (all strings as landed).
INGEST_DATE = "_ingest_date"
BRONZE_LINEAGE_SCHEMA = pa.schema(
    [
        pa.field(INGEST_DATE, pa.date32(), nullable=False),
        pa.field("_source_file", pa.string(), nullable=False),
        pa.field("_row_number", pa.int64(), nullable=False),
        pa.field("_ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("_record_hash", pa.string(), nullable=False),
    ]
)


def bronze_person_key(entity: SourceEntity) -> PersonKey:
    """How a bronze table names a person: its own record ID, or a reference to a record
    (and, for a source with a ``phone_column``, that phone)."""
    if not entity.person_columns:
        return NO_PERSON
    phones = (entity.phone_column,) if entity.phone_column else ()
    return PersonKey("source_record", entity.person_columns, entity.person_system, phones)


def bronze_table(entity: SourceEntity) -> Table:
    """The bronze table for one landing-zone source entity."""
    return Table(
        layer="bronze",
        name=entity.name,
        partition_by=(INGEST_DATE,),
        keys=(INGEST_DATE, "_source_file", "_row_number"),
        description=f"{entity.source} {entity.entity} as landed (strings) plus lineage columns",
        person=bronze_person_key(entity),
        row_group_rows=POINT_READ_ROWS,  # landed order: a landed row is read by file and row
    )


BRONZE_TABLES: dict[str, Table] = {e.name: bronze_table(e) for e in SOURCE_ENTITIES}

QUARANTINE_REJECTS = Table(
    layer="quarantine",
    name="rejects",
    partition_by=(INGEST_DATE,),
    keys=("layer", "table", INGEST_DATE, "_source_file", "_row_number"),
    description="rows that could not be used, with their raw text and the reasons",
    person=PersonKey("raw", ("raw",)),
)
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("layer", pa.string(), nullable=False),
        pa.field("table", pa.string(), nullable=False),
        pa.field(INGEST_DATE, pa.date32(), nullable=False),
        pa.field("_source_file", pa.string(), nullable=False),
        pa.field("_row_number", pa.int64()),
        pa.field("raw", pa.string()),
        pa.field("reasons", pa.list_(pa.string()), nullable=False),
        pa.field("detected_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype) for name, dtype in fields])


UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 2)  # VND amounts; two decimals for other currencies

# ---- silver ------------------------------------------------------------------------------
# Standardised identity fields shared by every person-bearing silver table (ARCHITECTURE §5).
# `*_raw` / `*_issue` pairs keep a bad field's landed value and the problem when the field is
# nulled (the customer row is kept).
IDENTITY_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("full_name", pa.string()),  # NFC, single spaces, as written (diacritics kept)
    ("full_name_folded", pa.string()),  # lower-case, diacritics folded: "nguyen van an"
    ("family_name", pa.string()),  # folded; Vietnamese order: first token
    ("middle_name", pa.string()),  # folded; tokens between family and given name, or null
    ("given_name", pa.string()),  # folded; last token
    ("gender", pa.string()),  # "male" | "female" | null
    ("date_of_birth", pa.date32()),
    ("phone_e164", pa.string()),  # "+84912345678"; old 11-digit mobile prefixes remapped
    ("email", pa.string()),  # lower-cased, trimmed, syntactically valid
    ("national_id", pa.string()),  # upper-case letters and digits, no separators
    # "cmnd" (9 digits) | "cccd" (12 digits) | "passport" | "other" (foreign or legacy IDs)
    ("national_id_type", pa.string()),
    ("address", pa.string()),  # NFC, single spaces
    ("address_folded", pa.string()),
    ("province", pa.string()),  # canonical 2025 name (old names mapped to merged units)
    ("region", pa.string()),  # "north" | "centre" | "south"
    ("field_issues", pa.list_(pa.string())),  # e.g. ["phone: not a phone number (raw kept)"]
    ("raw_values", pa.map_(pa.string(), pa.string())),  # landed value of each nulled field
)
# Consent as the source states it; null when the source says nothing. Landed as optional extra
# columns consent_email / consent_sms / consent_data_use (yes/no, true/false, 1/0, có/không).
CONSENT_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("consent_email", pa.bool_()),
    ("consent_sms", pa.bool_()),
    ("consent_data_use", pa.bool_()),
)
# Optional profile columns (c360.contract.PROFILE_COLUMNS, conf/profile_fields.yaml), null when
# the extract lacks them; a value outside its vocabulary is nulled and flagged like an identity
# field (raw_values / field_issues). Custom fields (conf/profile_fields.yaml custom_fields) follow
# them in the tables of the sources that land them (c360.profile_fields.custom_columns).
PROFILE_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("lead_source", pa.string()),  # vocabulary code: landing_page, facebook_ads, store, ...
    ("occupation", pa.string()),  # vocabulary code
    ("industry", pa.string()),  # vocabulary code
    ("education", pa.string()),  # vocabulary code
    ("marital_status", pa.string()),  # vocabulary code: single | married | divorced | widowed
    ("device_id", pa.string()),  # trimmed, as landed
    ("social_ids", pa.list_(pa.string())),  # sorted unique "network:id", e.g. "zalo:123"
    ("profile_owner", pa.string()),  # the account owner as landed (NFC, single spaces)
)
# The silver columns that hold one identity field (keys as in raw_values / field_issues):
# flagging any of them nulls them all.
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
# Helper column of a staged person build: the landed text of each field (keys as in
# raw_values), kept until the audit, never written.
LANDED = "_landed"


def field_of(column: str) -> str:
    """The raw_values / field_issues name of a silver column (``phone_e164`` -> ``phone``)."""
    return next((f for f, columns in FIELD_COLUMNS.items() if column in columns), column)


SOURCE_LINEAGE_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    (INGEST_DATE, pa.date32()),
    ("_source_file", pa.string()),
    ("_row_number", pa.int64()),
)

SILVER_CRM_CONTACTS = Table(
    "silver", "crm_contacts", keys=("contact_id",),
    person=PersonKey("source_record", ("contact_id",), "crm"),
    sort_by=("contact_id",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
SILVER_CRM_CONTACTS_SCHEMA = _schema(
    ("contact_id", pa.string()),
    *IDENTITY_FIELDS,
    ("created_at", UTC_TIMESTAMP),
    ("updated_at", UTC_TIMESTAMP),
    *CONSENT_FIELDS,
    *PROFILE_FIELDS,
    *SOURCE_LINEAGE_FIELDS,
)

SILVER_ERP_CUSTOMERS = Table(
    "silver", "erp_customers", keys=("customer_code",),
    person=PersonKey("source_record", ("customer_code",), "erp"),
    sort_by=("customer_code",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
SILVER_ERP_CUSTOMERS_SCHEMA = _schema(
    ("customer_code", pa.string()),
    *IDENTITY_FIELDS,
    ("tax_code", pa.string()),
    ("customer_type", pa.string()),
    ("created_at", UTC_TIMESTAMP),  # landed as created_date
    ("updated_at", UTC_TIMESTAMP),  # landed as modified_date
    *CONSENT_FIELDS,
    *PROFILE_FIELDS,
    *SOURCE_LINEAGE_FIELDS,
)

SILVER_LOYALTY_MEMBERS = Table(
    "silver", "loyalty_members", keys=("member_id",),
    person=PersonKey("source_record", ("member_id",), "loyalty"),
    sort_by=("member_id",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
SILVER_LOYALTY_MEMBERS_SCHEMA = _schema(
    ("member_id", pa.string()),
    *IDENTITY_FIELDS,
    ("card_number", pa.string()),
    ("tier", pa.string()),  # lower-case
    ("status", pa.string()),  # lower-case
    ("enrolled_at", UTC_TIMESTAMP),
    ("updated_at", UTC_TIMESTAMP),
    *CONSENT_FIELDS,
    *PROFILE_FIELDS,
    *SOURCE_LINEAGE_FIELDS,
)

SILVER_TRANSACTIONS = Table(
    "silver", "transactions", keys=("transaction_id",),
    person=PersonKey("record_key", ("record_key",)),
    sort_by=("record_key",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
SILVER_TRANSACTIONS_SCHEMA = _schema(
    ("transaction_id", pa.string()),
    ("customer_ref_type", pa.string()),  # "crm" | "erp" | "loyalty" | null (guest)
    ("customer_ref", pa.string()),
    ("record_key", pa.string()),  # "<customer_ref_type>:<customer_ref>", null for guests
    ("channel", pa.string()),  # lower-case
    ("store_id", pa.string()),
    ("product_sku", pa.string()),
    ("product_category", pa.string()),  # lower-case
    ("quantity", pa.int64()),
    ("unit_price", MONEY),  # VND (converted at conf/values.yaml's rate)
    ("discount", MONEY),  # VND
    ("amount", MONEY),  # VND: what features sum
    ("amount_original", MONEY),  # the landed amount, in `currency`
    ("currency", pa.string()),  # ISO 4217, upper-case: the landed currency
    ("payment_method", pa.string()),  # lower-case
    ("voucher_code", pa.string()),
    ("transaction_ts", UTC_TIMESTAMP),
    ("transaction_date", pa.date32()),  # local (Asia/Ho_Chi_Minh) calendar day
    ("status", pa.string()),  # lower-case
    *SOURCE_LINEAGE_FIELDS,
)

SILVER_LOYALTY_POINTS = Table(
    "silver", "loyalty_points", keys=("entry_id",),
    person=PersonKey("record_key", ("record_key",)),
    sort_by=("record_key",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
SILVER_LOYALTY_POINTS_SCHEMA = _schema(
    ("entry_id", pa.string()),
    ("member_id", pa.string()),
    ("record_key", pa.string()),  # "loyalty:<member_id>"
    ("event_ts", UTC_TIMESTAMP),
    ("event_date", pa.date32()),  # local calendar day
    ("event_type", pa.string()),  # earn | redeem | expire | adjust
    ("points", pa.int64()),  # signed as landed
    ("reference", pa.string()),
    *SOURCE_LINEAGE_FIELDS,
)

# The silver person table of each person-bearing source system (c360.contract.SOURCE_SYSTEMS).
SILVER_PERSON_TABLES: dict[str, Table] = {
    "crm": SILVER_CRM_CONTACTS,
    "erp": SILVER_ERP_CUSTOMERS,
    "loyalty": SILVER_LOYALTY_MEMBERS,
}

# Every person-bearing record from crm, erp and loyalty in one schema: Splink's input.
SILVER_PERSON_RECORDS = Table(
    "silver", "person_records", keys=("record_key",),
    person=PersonKey("record_key", ("record_key",)),
)  # fmt: skip
SILVER_PERSON_RECORDS_SCHEMA = _schema(
    ("record_key", pa.string()),  # "<source_system>:<source_record_id>"
    ("source_system", pa.string()),  # "crm" | "erp" | "loyalty"
    ("source_record_id", pa.string()),  # contact_id | customer_code | member_id
    *[f for f in IDENTITY_FIELDS if f[0] not in {"field_issues", "raw_values"}],
    *CONSENT_FIELDS,
    *PROFILE_FIELDS,
    ("created_at", UTC_TIMESTAMP),
    ("updated_at", UTC_TIMESTAMP),
)

# The optional consent source (consent/<day>/consent_events*.csv): one decision per row.
SILVER_CONSENT_EVENTS = Table(
    "silver", "consent_events", keys=("event_id",),
    person=PersonKey("source_record", ("source_system", "source_record_id")),
)  # fmt: skip
SILVER_CONSENT_EVENTS_SCHEMA = _schema(
    ("event_id", pa.string()),
    ("source_system", pa.string()),  # crm | erp | loyalty: the record the decision is about
    ("source_record_id", pa.string()),
    ("purpose", pa.string()),  # one of CONSENT_PURPOSES (c360/tables.py, conf/privacy.yaml)
    ("decision", pa.string()),  # granted | withdrawn
    ("decided_at", UTC_TIMESTAMP),
    ("channel", pa.string()),  # where it was given: web, app, store, call_centre, ... (lower-case)
    *SOURCE_LINEAGE_FIELDS,
)

# The optional interaction sources (issue 20; conf/interactions.yaml). value_issues lists the
# values kept although not in the vocabulary ("channel: not in conf/interactions.yaml").
SILVER_ENGAGEMENT_MESSAGES = Table(
    "silver", "engagement_messages", keys=("event_id",),
    description="message events (sent, delivered, opened, ...): first time per message and event",
    person=PersonKey("record_key", ("record_key",)),
    sort_by=("record_key",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
SILVER_ENGAGEMENT_MESSAGES_SCHEMA = _schema(
    ("event_id", pa.string()),  # "<message_id>:<event>": one row per message and event
    ("message_id", pa.string()),
    ("customer_ref_type", pa.string()),  # crm | erp | loyalty
    ("customer_ref", pa.string()),
    ("record_key", pa.string()),  # "<customer_ref_type>:<customer_ref>"; null: unresolved
    ("channel", pa.string()),  # email | sms | zalo | push (else flagged)
    ("campaign_id", pa.string()),
    ("journey_id", pa.string()),
    ("message_key", pa.string()),  # the message within its journey ("welcome_1")
    # sent | delivered | opened | clicked | bounced | unsubscribed | replied
    ("event", pa.string()),
    ("event_ts", UTC_TIMESTAMP),  # the first time of the event for the message
    ("event_date", pa.date32()),  # local calendar day
    ("value_issues", pa.list_(pa.string())),
    *SOURCE_LINEAGE_FIELDS,
)
SILVER_SERVICE_CONTACTS = Table(
    "silver", "service_contacts", keys=("contact_id",),
    description="calls, chats and tickets; the caller resolved by reference or by phone",
    person=PersonKey("record_key", ("record_key",)),
    sort_by=("record_key",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
SILVER_SERVICE_CONTACTS_SCHEMA = _schema(
    ("contact_id", pa.string()),
    ("customer_ref_type", pa.string()),
    ("customer_ref", pa.string()),
    # the person's record: from the reference, else the one silver person record with the
    # standardised phone (the phone itself is not kept); null: unresolved
    ("record_key", pa.string()),
    ("resolved_by", pa.string()),  # "customer_ref" | "phone" | null
    ("kind", pa.string()),  # call | chat | ticket
    ("direction", pa.string()),  # inbound | outbound (else flagged)
    ("started_at", UTC_TIMESTAMP),
    ("started_date", pa.date32()),  # local calendar day
    ("duration_s", pa.int64()),
    ("category", pa.string()),
    ("outcome", pa.string()),
    ("unresolved", pa.bool_()),  # a ticket whose outcome is an unresolved one
    ("satisfaction", pa.int32()),  # 1-5; null when not rated
    ("value_issues", pa.list_(pa.string())),
    *SOURCE_LINEAGE_FIELDS,
)

# The schema of every silver table, by table name.
SILVER_SCHEMAS: dict[str, pa.Schema] = {
    SILVER_CRM_CONTACTS.name: SILVER_CRM_CONTACTS_SCHEMA,
    SILVER_ERP_CUSTOMERS.name: SILVER_ERP_CUSTOMERS_SCHEMA,
    SILVER_LOYALTY_MEMBERS.name: SILVER_LOYALTY_MEMBERS_SCHEMA,
    SILVER_TRANSACTIONS.name: SILVER_TRANSACTIONS_SCHEMA,
    SILVER_LOYALTY_POINTS.name: SILVER_LOYALTY_POINTS_SCHEMA,
    SILVER_PERSON_RECORDS.name: SILVER_PERSON_RECORDS_SCHEMA,
    SILVER_CONSENT_EVENTS.name: SILVER_CONSENT_EVENTS_SCHEMA,
    SILVER_ENGAGEMENT_MESSAGES.name: SILVER_ENGAGEMENT_MESSAGES_SCHEMA,
    SILVER_SERVICE_CONTACTS.name: SILVER_SERVICE_CONTACTS_SCHEMA,
}

# ---- gold --------------------------------------------------------------------------------
GOLD_IDENTITY_MAP = Table(
    "gold", "identity_map", keys=("source_system", "source_record_id"),
    description="one row per source record: its stable customer_id",
    person=PersonKey("customer_id", ("customer_id",)),
    sort_by=("customer_id",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
GOLD_IDENTITY_MAP_SCHEMA = _schema(
    ("source_system", pa.string()),
    ("source_record_id", pa.string()),
    ("customer_id", pa.string()),
    ("match_probability", pa.float64()),
    ("first_seen", UTC_TIMESTAMP),
    ("last_seen", UTC_TIMESTAMP),
)
GOLD_IDENTITY_HISTORY = Table(
    "gold", "identity_history", keys=("run_id", "event", "customer_id"),
    description="merges and splits of customer IDs, one row per event and affected ID",
    person=PersonKey("customer_id", ("customer_id", "related_customer_id")),
    sort_by=("customer_id",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
GOLD_IDENTITY_HISTORY_SCHEMA = _schema(
    ("run_id", pa.string()),
    ("event", pa.string()),  # "new" | "merge" | "split"
    # new: the new ID; merge: the retired ID; split: the ID carved out of related_customer_id
    ("customer_id", pa.string()),
    ("related_customer_id", pa.string()),  # merge: the surviving ID; split: the origin; new: null
    ("records_moved", pa.int64()),  # records that came with customer_id into the event
    ("customer_records", pa.int64()),  # records of the resulting customer after the run
    ("at", UTC_TIMESTAMP),
)
# Consent purposes (conf/privacy.yaml declares them; c360.privacy checks it lists exactly these).
CONSENT_PURPOSES: tuple[str, ...] = (
    "email", "sms", "zalo", "call", "profiling", "third_party_sharing",
)  # fmt: skip
CONSENT_DECISIONS = ("granted", "withdrawn")
GOLD_CONSENT_HISTORY = Table(
    "gold", "consent_history", keys=("event_id",),
    description="every consent decision: who, purpose, granted / withdrawn, when, which record",
    person=PersonKey("customer_id", ("customer_id",)),
    sort_by=("customer_id",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
GOLD_CONSENT_HISTORY_SCHEMA = _schema(
    ("customer_id", pa.string()),
    ("purpose", pa.string()),  # one of CONSENT_PURPOSES
    ("decision", pa.string()),  # "granted" | "withdrawn"
    ("decided_at", UTC_TIMESTAMP),
    ("source_system", pa.string()),  # crm | erp | loyalty | the consent event's source system
    ("source_record_id", pa.string()),
    ("event_id", pa.string()),  # "<record_key>:<column>" or "consent:<event_id>"
)
# Per purpose p the golden record carries consent_<p> (bool), consent_<p>_source, consent_<p>_at.
GOLDEN_CONSENT_SCHEMA = _schema(
    *[
        column
        for p in CONSENT_PURPOSES
        for column in (
            (f"consent_{p}", pa.bool_()),
            (f"consent_{p}_source", pa.string()),
            (f"consent_{p}_at", UTC_TIMESTAMP),
        )
    ]
)
GOLD_GOLDEN_RECORDS = Table(
    "gold", "golden_records", keys=("customer_id",),
    person=PersonKey("customer_id", ("customer_id",)),
    sort_by=("customer_id",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
# The columns every consumer may rely on; identity resolution may add more (the custom fields
# of conf/profile_fields.yaml, each with `<name>_source`, come last). Each surviving field `f`
# has `f_source`: the record_key it came from.
GOLDEN_SURVIVING_FIELDS = (
    "full_name", "gender", "date_of_birth", "phone_e164", "email", "national_id",
    "national_id_type", "address", "province", "region",
)  # fmt: skip
# Profile fields chosen by a survivorship rule (conf/survivorship.yaml), each with `f_source`.
GOLDEN_PROFILE_FIELDS = (
    "lead_source", "occupation", "industry", "education", "marital_status", "profile_owner",
)  # fmt: skip
# List fields that are the union over the customer's records (golden field -> silver column);
# `f_source` lists the record_keys that contributed, sorted.
GOLDEN_UNION_FIELDS: dict[str, str] = {"device_ids": "device_id", "social_ids": "social_ids"}
GOLD_GOLDEN_RECORDS_SCHEMA = _schema(
    ("customer_id", pa.string()),
    ("full_name", pa.string()),
    ("full_name_source", pa.string()),
    ("gender", pa.string()),
    ("gender_source", pa.string()),
    ("date_of_birth", pa.date32()),
    ("date_of_birth_source", pa.string()),
    ("phone_e164", pa.string()),
    ("phone_e164_source", pa.string()),
    ("email", pa.string()),
    ("email_source", pa.string()),
    ("national_id", pa.string()),
    ("national_id_source", pa.string()),
    ("national_id_type", pa.string()),
    ("national_id_type_source", pa.string()),
    ("address", pa.string()),
    ("address_source", pa.string()),
    ("province", pa.string()),
    ("province_source", pa.string()),
    ("region", pa.string()),
    ("region_source", pa.string()),
    *[(c, pa.string()) for f in GOLDEN_PROFILE_FIELDS for c in (f, f"{f}_source")],
    *[(c, pa.list_(pa.string())) for f in GOLDEN_UNION_FIELDS for c in (f, f"{f}_source")],
    # consent: the consent ledger's current decision (c360/consent.py); see GOLDEN_CONSENT_SCHEMA
    ("consent_email", pa.bool_()),
    ("consent_sms", pa.bool_()),
    ("consent_data_use", pa.bool_()),  # the extracts' flag, = consent_profiling
    *[
        (f.name, f.type)
        for f in GOLDEN_CONSENT_SCHEMA
        if f.name not in {"consent_email", "consent_sms"}
    ],
    ("linked_records_crm", pa.int32()),
    ("linked_records_erp", pa.int32()),
    ("linked_records_loyalty", pa.int32()),
    ("first_seen", UTC_TIMESTAMP),  # earliest created_at of its records
    ("last_seen", UTC_TIMESTAMP),  # latest updated_at of its records
)
GOLD_CUSTOMER_FEATURES = Table(
    "gold", "customer_features", partition_by=("as_of_date",), keys=("customer_id", "as_of_date"),
    person=PersonKey("customer_id", ("customer_id",)),
)  # fmt: skip
GOLD_FEATURE_CATALOG = Table("gold", "feature_catalog", keys=("name",), person=NO_PERSON)
GOLD_FEATURE_CATALOG_SCHEMA = _schema(
    ("name", pa.string()),
    ("family", pa.string()),
    ("window_days", pa.int32()),  # null for lifetime / not windowed
    ("slice", pa.string()),
    ("measure", pa.string()),
    ("dtype", pa.string()),
    ("description_en", pa.string()),
    ("description_vi", pa.string()),
    ("version", pa.string()),
)

# The tables the feature build reads (features/events.py), in `FeatureInputs` field order.
FEATURE_INPUT_TABLES: tuple[Table, ...] = (
    SILVER_TRANSACTIONS,
    SILVER_LOYALTY_POINTS,
    SILVER_LOYALTY_MEMBERS,
    GOLD_IDENTITY_MAP,
    GOLD_GOLDEN_RECORDS,
    SILVER_ENGAGEMENT_MESSAGES,
    SILVER_SERVICE_CONTACTS,
)
# Inputs of optional sources: an empty frame when the table was never written.
OPTIONAL_FEATURE_INPUTS: tuple[Table, ...] = (SILVER_ENGAGEMENT_MESSAGES, SILVER_SERVICE_CONTACTS)

# ---- segments (issue 18; docs/segments.md) -----------------------------------------------
GOLD_SEGMENT_MEMBERS = Table(
    "gold", "segment_members", partition_by=("as_of_date",),
    keys=("segment", "customer_id", "as_of_date"),
    description="members of each conf/segments.yaml segment per snapshot day (consent applied)",
    person=PersonKey("customer_id", ("customer_id",)),
    sort_by=("customer_id",), row_group_rows=POINT_READ_ROWS,
)  # fmt: skip
GOLD_SEGMENT_MEMBERS_SCHEMA = _schema(
    ("segment", pa.string()),
    ("customer_id", pa.string()),
    ("as_of_date", pa.date32()),
    ("entered", pa.bool_()),  # not a member of the segment's previous snapshot
)
GOLD_EXPORT_LOG = Table(
    "gold", "export_log", keys=("export_id",),
    description="one row per segment export: who, when, segment, rows, fields (never values)",
    person=NO_PERSON,  # counts, field names and file names only
)  # fmt: skip
GOLD_EXPORT_LOG_SCHEMA = _schema(
    ("export_id", pa.string()),
    ("exported_at", UTC_TIMESTAMP),
    ("exported_by", pa.string()),
    ("segment", pa.string()),  # the segment's name, or "ad-hoc" for --where
    ("rows", pa.int64()),
    ("fields", pa.list_(pa.string())),
    ("format", pa.string()),
    ("files", pa.list_(pa.string())),
)

# ---- why records were linked (issue 19; resolution/explain.py writes, c360/customer_view reads)
# One row per scored pair filed under the customer it explains: the accepted edges holding each
# cluster together, and each record's top refused pairs (filed under that record's customer).
# Partitioned by a hash bucket of customer_id so one customer reads one small partition.
IDENTITY_LINK_BUCKETS = 32
GOLD_IDENTITY_LINKS = Table(
    "gold", "identity_links", partition_by=("customer_bucket",),
    keys=("customer_id", "record_key_l", "record_key_r"),
    description="scored pairs that hold each customer together or kept records apart, and why",
    person=PersonKey("customer_id", ("customer_id", "customer_id_l", "customer_id_r")),
)  # fmt: skip
IDENTITY_LINK_COMPARISON = pa.struct(
    [
        pa.field("name", pa.string()),  # the comparison of conf/identity.yaml
        pa.field("level", pa.string()),  # its level label ("exact", "fuzzy", "else", "null")
        pa.field("gamma", pa.int32()),  # Splink's comparison-vector value
        pa.field("log2_bayes_factor", pa.float64()),  # the level's weight (0 for null)
    ]
)
GOLD_IDENTITY_LINKS_SCHEMA = _schema(
    ("customer_bucket", pa.int32()),  # identity_link_bucket(customer_id)
    ("customer_id", pa.string()),  # the customer this row explains
    ("link", pa.string()),  # "accepted" | "refused"
    # refused: "below_threshold" | "guard.personal_evidence" | "guard.contradictions"
    #          | "guard.split_conflicting_clusters"; accepted: null
    ("reason", pa.string()),
    ("record_key_l", pa.string()),
    ("record_key_r", pa.string()),
    ("customer_id_l", pa.string()),
    ("customer_id_r", pa.string()),
    ("match_weight", pa.float64()),
    ("match_probability", pa.float64()),
    ("comparisons", pa.list_(IDENTITY_LINK_COMPARISON)),
    ("run_id", pa.string()),
)


def identity_link_bucket(customer_id: str) -> int:
    """The ``customer_bucket`` partition of a customer's rows in gold/identity_links."""
    return zlib.crc32(customer_id.encode("utf-8")) % IDENTITY_LINK_BUCKETS


# ---- consent and privacy (issue 17; docs/runbook.md "Erasure") ---------------------------
GOLD_PRIVACY_REQUESTS = Table(
    "gold", "privacy_requests", keys=("request_id",),
    description="erasure requests: kind, received, completed, status, rows deleted per table",
    person=NO_PERSON,  # request IDs and counts, never the identifier's value
)  # fmt: skip
GOLD_PRIVACY_REQUESTS_SCHEMA = _schema(
    ("request_id", pa.string()),
    ("kind", pa.string()),  # customer_id | phone | email | national_id | source_record
    ("received_at", UTC_TIMESTAMP),
    ("completed_at", UTC_TIMESTAMP),
    ("status", pa.string()),  # "completed" | "no_match"
    ("customers_erased", pa.int64()),
    ("records_erased", pa.int64()),
    ("rows_deleted", pa.map_(pa.string(), pa.int64())),  # layer.table -> rows
    ("files_redacted", pa.int64()),
)
PRIVACY_SUPPRESSION = Table(
    "gold", "privacy_suppression", keys=("identifier_hash",),
    description="salted hashes of erased identifiers: bronze quarantines rows carrying them",
    person=NO_PERSON,  # HMAC-SHA256 digests only
)  # fmt: skip
PRIVACY_SUPPRESSION_SCHEMA = _schema(
    ("identifier_hash", pa.string()),  # hex HMAC-SHA256 of "<kind>:<standardised value>"
    ("kind", pa.string()),  # phone | email | national_id | source_record
    ("request_id", pa.string()),
    ("added_at", UTC_TIMESTAMP),
)


def all_tables() -> dict[str, Table]:
    """Every table this module defines, by ``layer.name`` (the privacy stage erases from each)."""
    tables = [v for v in globals().values() if isinstance(v, Table)] + list(BRONZE_TABLES.values())
    return {t.qualified_name: t for t in tables}
