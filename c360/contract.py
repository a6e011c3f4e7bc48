"""The landing-zone contract (ARCHITECTURE.md section 3), defined once.

The ingest code, the sample-data generator and the tests all import these constants;
nothing else spells a source name, a file pattern or a required column.

Layout: ``<raw_root>/<source>/<YYYY-MM-DD>/<files>``; a day's folder is complete once it
holds the empty ``_SUCCESS`` marker, which the extract job writes last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

SUCCESS_MARKER = "_SUCCESS"
DAY_FORMAT = "%Y-%m-%d"
# Accepted spellings of a date inside extracts (timestamps are ISO 8601).
EXTRACT_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d")
# Extract timestamps without an offset are local time of the source systems.
SOURCE_TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class SourceEntity:
    """One kind of file a source lands, e.g. the CRM's contacts."""

    source: str
    entity: str
    file_globs: tuple[str, ...]
    file_format: str  # "csv", "jsonl" or "csv|parquet"
    required_columns: tuple[str, ...]
    key_column: str

    @property
    def name(self) -> str:
        """Table-friendly name: ``crm_contacts``; just ``transactions`` when both agree."""
        return self.source if self.source == self.entity else f"{self.source}_{self.entity}"


CRM_CONTACTS = SourceEntity(
    source="crm",
    entity="contacts",
    file_globs=("contacts*.csv",),
    file_format="csv",
    required_columns=(
        "contact_id", "full_name", "gender", "date_of_birth", "phone", "email", "national_id",
        "address", "province", "created_at", "updated_at",
    ),
    key_column="contact_id",
)  # fmt: skip

ERP_CUSTOMERS = SourceEntity(
    source="erp",
    entity="customers",
    file_globs=("customers*.jsonl",),
    file_format="jsonl",
    required_columns=(
        "customer_code", "name", "national_id", "tax_code", "phone", "email", "billing_address",
        "province", "customer_type", "created_date", "modified_date",
    ),
    key_column="customer_code",
)  # fmt: skip

TRANSACTIONS = SourceEntity(
    source="transactions",
    entity="transactions",
    file_globs=("transactions*.csv", "transactions*.parquet"),
    file_format="csv|parquet",
    required_columns=(
        "transaction_id", "customer_ref_type", "customer_ref", "channel", "store_id",
        "product_sku", "product_category", "quantity", "unit_price", "discount", "amount",
        "currency", "payment_method", "voucher_code", "transaction_ts", "status",
    ),
    key_column="transaction_id",
)  # fmt: skip

LOYALTY_MEMBERS = SourceEntity(
    source="loyalty",
    entity="members",
    file_globs=("members*.csv",),
    file_format="csv",
    required_columns=(
        "member_id", "card_number", "full_name", "phone", "email", "date_of_birth", "gender",
        "tier", "status", "enrolled_at", "updated_at",
    ),
    key_column="member_id",
)  # fmt: skip

LOYALTY_POINTS = SourceEntity(
    source="loyalty",
    entity="points",
    file_globs=("points*.csv",),
    file_format="csv",
    required_columns=("entry_id", "member_id", "event_ts", "event_type", "points", "reference"),
    key_column="entry_id",
)

SOURCE_ENTITIES: tuple[SourceEntity, ...] = (
    CRM_CONTACTS,
    ERP_CUSTOMERS,
    TRANSACTIONS,
    LOYALTY_MEMBERS,
    LOYALTY_POINTS,
)
SOURCES: tuple[str, ...] = tuple(dict.fromkeys(e.source for e in SOURCE_ENTITIES))

# Person-bearing sources and the key column that identifies a record in each
# (the `source_record_id` of silver.person_records and gold.identity_map).
PERSON_SOURCES: dict[str, SourceEntity] = {
    "crm": CRM_CONTACTS,
    "erp": ERP_CUSTOMERS,
    "loyalty": LOYALTY_MEMBERS,
}
CUSTOMER_REF_TYPES = ("crm", "erp", "loyalty", "")
POINT_EVENT_TYPES = ("earn", "redeem", "expire", "adjust")


def day_folder(raw_root: Path, source: str, day: date) -> Path:
    """Folder of one source's extracts for one day."""
    return Path(raw_root) / source / day.strftime(DAY_FORMAT)


def is_day_complete(raw_root: Path, source: str, day: date) -> bool:
    """True once the extract job has written the day's ``_SUCCESS`` marker."""
    return (day_folder(raw_root, source, day) / SUCCESS_MARKER).exists()


def landed_days(
    raw_root: Path, source: str | None = None, complete_only: bool = True
) -> list[date]:
    """Days present in the landing zone (for one source, or any), sorted ascending.

    Folders whose name is not a ``YYYY-MM-DD`` date are ignored.
    """
    sources = [source] if source else list(SOURCES)
    days: set[date] = set()
    for src in sources:
        src_root = Path(raw_root) / src
        if not src_root.is_dir():
            continue
        for folder in src_root.iterdir():
            try:
                day = datetime.strptime(folder.name, DAY_FORMAT).date()
            except ValueError:
                continue
            if not complete_only or (folder / SUCCESS_MARKER).exists():
                days.add(day)
    return sorted(days)
