"""The landing-zone contract (ARCHITECTURE.md section 3), defined once.

The ingest code, the sample-data generator and the tests all import these constants;
nothing else spells a source name, a file pattern or a required column.

Layout: ``<raw_root>/<source>/<YYYY-MM-DD>/<files>``. A source's day folder is closed by the
empty ``_SUCCESS`` marker, which the extract job writes last; a *day* is complete only when every
source holding files that day has its marker (:meth:`LandingZone.is_complete`). Day folders are
named exactly ``YYYY-MM-DD``; every other entry must match a file pattern of its source.
:func:`scan_landing_zone` reads the layout once and says what breaks these rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

from c360.errors import InputError

SUCCESS_MARKER = "_SUCCESS"
DAY_FORMAT = "%Y-%m-%d"
DAY_FOLDER_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")  # exactly YYYY-MM-DD, zero-padded
# A landing-zone entry matching no source or file pattern: stop (error) or warn (conf: landing)
UnknownFilesPolicy = Literal["error", "warn"]
# Accepted spellings of a date inside extracts (timestamps are ISO 8601).
EXTRACT_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d")
# Extract timestamps without an offset are local time of the source systems (Vietnam, UTC+7):
# the one local time zone of the code (c360.local_time; conf schedule.timezone defaults to it).
LOCAL_TIMEZONE = "Asia/Ho_Chi_Minh"
# Optional profile columns a person extract MAY carry (issue 20; conf/profile_fields.yaml, silver
# standardises them, the golden record carries them with provenance). An extract without them
# is valid; declared custom fields (conf/profile_fields.yaml custom_fields) are optional too.
PROFILE_COLUMNS = (
    "lead_source", "occupation", "industry", "education", "marital_status", "device_id",
    "social_ids", "profile_owner",
)  # fmt: skip


@dataclass(frozen=True)
class SourceEntity:
    """One kind of file a source lands, e.g. the CRM's contacts."""

    source: str
    entity: str
    file_globs: tuple[str, ...]
    file_format: str  # "csv", "jsonl" or "csv|parquet"
    required_columns: tuple[str, ...]
    key_column: str
    # the columns naming the person a row belongs to (c360.privacy): a record ID of
    # `person_system`, or (source_system, source_record_id) columns when person_system is None
    person_columns: tuple[str, ...] = ()
    person_system: str | None = None
    # columns the entity may carry besides the required ones (missing: null in silver)
    optional_columns: tuple[str, ...] = ()
    # a column naming the person by phone alone (service contacts): erasure and the
    # suppression list match it by standardised phone (c360.privacy_rules)
    phone_column: str | None = None
    # the columns that identify one landed row when key_column alone does not (a message has
    # one row per event); empty: key_column does
    row_key: tuple[str, ...] = ()

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
    person_columns=("contact_id",),
    person_system="crm",
    optional_columns=PROFILE_COLUMNS,
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
    person_columns=("customer_code",),
    person_system="erp",
    optional_columns=PROFILE_COLUMNS,
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
    person_columns=("customer_ref_type", "customer_ref"),
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
    person_columns=("member_id",),
    person_system="loyalty",
    optional_columns=PROFILE_COLUMNS,
)  # fmt: skip

LOYALTY_POINTS = SourceEntity(
    source="loyalty",
    entity="points",
    file_globs=("points*.csv",),
    file_format="csv",
    required_columns=("entry_id", "member_id", "event_ts", "event_type", "points", "reference"),
    key_column="entry_id",
    person_columns=("member_id",),
    person_system="loyalty",
)

# The optional consent source (issue 17): decisions a consent platform or a channel recorded
# (web form, app, store, call centre), one per row; c360/consent.py turns them into the ledger.
# decision: granted | withdrawn; purpose: one of c360.tables.CONSENT_PURPOSES; decided_at ISO 8601.
CONSENT_EVENTS = SourceEntity(
    source="consent",
    entity="events",
    file_globs=("consent_events*.csv",),
    file_format="csv",
    required_columns=(
        "event_id", "source_system", "source_record_id", "purpose", "decision", "decided_at",
        "channel",
    ),
    key_column="event_id",
    person_columns=("source_system", "source_record_id"),
)  # fmt: skip

# The optional interaction sources (issue 20; vocabularies in conf/interactions.yaml). A row names
# its person as transactions do (customer_ref_type crm | erp | loyalty, customer_ref the record ID).
# Engagement: one row per message event (sent, delivered, opened, ...); event_ts ISO 8601.
ENGAGEMENT_MESSAGES = SourceEntity(
    source="engagement",
    entity="messages",
    file_globs=("messages*.csv",),
    file_format="csv",
    required_columns=(
        "message_id", "customer_ref_type", "customer_ref", "channel", "campaign_id",
        "journey_id", "message_key", "event", "event_ts",
    ),
    key_column="message_id",
    person_columns=("customer_ref_type", "customer_ref"),
    row_key=("message_id", "event"),
)  # fmt: skip
# Service: one row per call, chat or ticket; a caller may be known only by `phone` (resolved
# through silver person records' standardised phone). satisfaction 1-5, duration_s seconds.
SERVICE_CONTACTS = SourceEntity(
    source="service",
    entity="contacts",
    file_globs=("contacts*.csv",),
    file_format="csv",
    required_columns=(
        "contact_id", "customer_ref_type", "customer_ref", "phone", "kind", "direction",
        "started_at", "duration_s", "category", "outcome", "satisfaction",
    ),
    key_column="contact_id",
    person_columns=("customer_ref_type", "customer_ref"),
    phone_column="phone",
)  # fmt: skip

SOURCE_ENTITIES: tuple[SourceEntity, ...] = (
    CRM_CONTACTS,
    ERP_CUSTOMERS,
    TRANSACTIONS,
    LOYALTY_MEMBERS,
    LOYALTY_POINTS,
    CONSENT_EVENTS,
    ENGAGEMENT_MESSAGES,
    SERVICE_CONTACTS,
)
SOURCES: tuple[str, ...] = tuple(dict.fromkeys(e.source for e in SOURCE_ENTITIES))

# Person-bearing sources and the key column that identifies a record in each
# (the `source_record_id` of silver.person_records and gold.identity_map).
PERSON_SOURCES: dict[str, SourceEntity] = {
    "crm": CRM_CONTACTS,
    "erp": ERP_CUSTOMERS,
    "loyalty": LOYALTY_MEMBERS,
}
# The person-bearing source systems, in the order every table and report lists them.
SOURCE_SYSTEMS: tuple[str, ...] = tuple(PERSON_SOURCES)
CUSTOMER_REF_TYPES = (*SOURCE_SYSTEMS, "")
POINT_EVENT_TYPES = ("earn", "redeem", "expire", "adjust")

# Erasure requests (c360.privacy; docs/runbook.md "Erasure"): <raw_root>/privacy/<YYYY-MM-DD>/
# erasure_requests*.csv with ERASURE_REQUEST_COLUMNS. Not a source: never ingested into bronze
# (the files hold the identifier values) and no _SUCCESS needed; the privacy stage reads them.
# `value` of a source_record request is "<source_system>:<source_record_id>".
PRIVACY_FOLDER = "privacy"
ERASURE_REQUEST_GLOB = "erasure_requests*.csv"
ERASURE_REQUEST_COLUMNS = ("request_id", "received_at", "kind", "value")
ERASURE_KINDS = ("customer_id", "phone", "email", "national_id", "source_record")


class LandingZoneError(InputError):
    """The landing zone breaks the contract (folder names, file names, completeness)."""


def day_folder(raw_root: Path, source: str, day: date) -> Path:
    """Folder of one source's extracts for one day."""
    return Path(raw_root) / source / day.strftime(DAY_FORMAT)


def parse_day_folder(name: str) -> date:
    """The day a folder name stands for; only ``YYYY-MM-DD`` exactly (``2025-10-03``).

    Raises:
        LandingZoneError: any other spelling (``2025-10-3``, ``20251003``) or no such date
            (``2025-13-01``); the message gives the expected form.
    """
    if not DAY_FOLDER_NAME.fullmatch(name):
        raise LandingZoneError(f"{name!r} is not named YYYY-MM-DD (e.g. 2025-10-03)")
    try:
        return datetime.strptime(name, DAY_FORMAT).date()
    except ValueError:
        raise LandingZoneError(f"{name!r} is not a calendar date (expected YYYY-MM-DD)") from None


def entities_of(source: str) -> tuple[SourceEntity, ...]:
    """The entities one source lands (loyalty: members and points)."""
    return tuple(e for e in SOURCE_ENTITIES if e.source == source)


def source_patterns(source: str) -> tuple[str, ...]:
    """Every file pattern of one source, in contract order."""
    return tuple(g for e in entities_of(source) for g in e.file_globs)


def matches_entity(entity: SourceEntity, file_name: str) -> bool:
    """True when ``file_name`` matches one of the entity's patterns (case-sensitive)."""
    return any(fnmatchcase(file_name, glob) for glob in entity.file_globs)


def is_day_complete(raw_root: Path, source: str, day: date) -> bool:
    """True once the extract job has written the source's ``_SUCCESS`` marker for the day."""
    return (day_folder(raw_root, source, day) / SUCCESS_MARKER).exists()


@dataclass(frozen=True)
class SourceDay:
    """One source's folder for one day: its entries (the marker aside) and the marker."""

    source: str
    folder: Path
    entries: tuple[Path, ...]
    has_marker: bool

    @property
    def waits_for_marker(self) -> bool:
        """Files landed but no ``_SUCCESS`` yet: the extract job has not finished."""
        return bool(self.entries) and not self.has_marker

    def unknown_entries(self) -> list[Path]:
        """Entries no entity of the source reads (wrong name or case, sub-folders)."""
        entities = entities_of(self.source)
        return [
            p
            for p in self.entries
            if not (p.is_file() and any(matches_entity(e, p.name) for e in entities))
        ]


def read_source_day(raw_root: Path, source: str, day: date) -> SourceDay | None:
    """The source's folder for ``day`` as it is now, or None when there is none."""
    folder = day_folder(raw_root, source, day)
    if not folder.is_dir():
        return None
    entries = tuple(sorted(p for p in folder.iterdir() if p.name != SUCCESS_MARKER))
    return SourceDay(source, folder, entries, (folder / SUCCESS_MARKER).exists())


def unknown_file_message(raw_root: Path, path: Path, source: str) -> str:
    """Why ``path`` (in a day folder of ``source``) is not read, and what to do about it."""
    what = "a folder" if path.is_dir() else "a file"
    patterns = ", ".join(source_patterns(source))
    return (
        f"{path.relative_to(raw_root).as_posix()}: {what} that matches no file pattern of "
        f"source {source!r} ({patterns}; names are case-sensitive): rename or move it, "
        "or set landing.unknown_files: warn to ingest the rest without it"
    )


@dataclass
class LandingZone:
    """The landing zone as listed once: day folders per source, and what breaks the contract.

    ``layout_errors`` (a day folder not named ``YYYY-MM-DD``) always stop a run: the day it
    was meant to be cannot be told. ``unknown_entries`` (a source folder that is not a source,
    a stray file outside day folders) stop it unless ``landing.unknown_files`` is ``warn``.
    """

    root: Path
    days: dict[date, dict[str, SourceDay]] = field(default_factory=dict)
    layout_errors: list[str] = field(default_factory=list)
    unknown_entries: list[str] = field(default_factory=list)

    def landed_days(self) -> list[date]:
        """Days with anything in a source folder (files or a marker), sorted."""
        return sorted(
            d
            for d, sources in self.days.items()
            if any(s.entries or s.has_marker for s in sources.values())
        )

    def waiting_sources(self, day: date) -> list[str]:
        """Sources holding files on ``day`` without their ``_SUCCESS`` marker."""
        return [s for s, folder in self.days.get(day, {}).items() if folder.waits_for_marker]

    def is_complete(self, day: date) -> bool:
        """Landed, and every source with files that day has its ``_SUCCESS`` marker."""
        return day in self.landed_days() and not self.waiting_sources(day)

    def complete_days(self) -> list[date]:
        return [d for d in self.landed_days() if not self.waiting_sources(d)]

    def incomplete_days(self) -> list[date]:
        return [d for d in self.landed_days() if self.waiting_sources(d)]

    def why_not_complete(self, day: date) -> str:
        """One line: which sources lack the marker, or that the day is not there at all."""
        if day not in self.landed_days():
            return f"{day}: not in the landing zone {self.root} (no <source>/{day}/ folder)"
        waiting = self.waiting_sources(day)
        folders = ", ".join(f"{s}/{day}/" for s in waiting)
        return (
            f"{day}: day not complete, {SUCCESS_MARKER} missing in {folders} (the extract job "
            "writes it last: wait for it, or write it once the files are all there); nothing of "
            "this day is ingested until then"
        )

    def unknown_files(self, days: list[date]) -> list[str]:
        """Messages for entries of these days' folders that no entity reads."""
        return [
            unknown_file_message(self.root, path, source)
            for day in days
            for source, folder in sorted(self.days.get(day, {}).items())
            for path in folder.unknown_entries()
        ]

    def check_layout(self) -> None:
        """Raise :class:`LandingZoneError` naming every badly named day folder, if any."""
        if self.layout_errors:
            raise LandingZoneError(_problem_list(self.layout_errors))

    def check(self, days: list[date], unknown_files: UnknownFilesPolicy = "error") -> list[str]:
        """Contract problems of the landing zone and of ``days``; returns the warnings.

        Raises:
            LandingZoneError: a day folder badly named; a day of ``days`` not complete; an
                unknown source or file (unless ``unknown_files`` is ``warn``). The one-line
                message lists every problem, each naming its folder or file.
        """
        unknown = self.unknown_entries + self.unknown_files(days)
        errors = list(self.layout_errors)
        errors += [self.why_not_complete(d) for d in days if not self.is_complete(d)]
        if unknown_files == "error":
            errors += unknown
        if errors:
            raise LandingZoneError(_problem_list(errors))
        return unknown


def _problem_list(problems: list[str]) -> str:
    """Problems as one line: the problem itself, or ``N problems ...: (1) ...; (2) ...``."""
    if len(problems) == 1:
        return problems[0]
    numbered = "; ".join(f"({i}) {problem}" for i, problem in enumerate(problems, start=1))
    return f"{len(problems)} problems in the landing zone: {numbered}"


def scan_landing_zone(raw_root: Path) -> LandingZone:
    """List ``<raw_root>/<source>/<day>/`` once, checking names against the contract."""
    zone = LandingZone(Path(raw_root))
    if not zone.root.is_dir():
        return zone
    for entry in sorted(zone.root.iterdir()):
        relative = entry.relative_to(zone.root).as_posix()
        if entry.name == PRIVACY_FOLDER and entry.is_dir():
            continue  # erasure requests: read by the privacy stage, not ingested
        if entry.name not in SOURCES:
            kind = "folder" if entry.is_dir() else "file"
            zone.unknown_entries.append(
                f"{relative}: a {kind} that is not a source folder (sources: "
                f"{', '.join(SOURCES)}): rename or move it, or set landing.unknown_files: warn"
            )
            continue
        if not entry.is_dir():
            zone.unknown_entries.append(f"{relative}: a file where a source folder is expected")
            continue
        _scan_source(zone, entry)
    return zone


def _scan_source(zone: LandingZone, source_root: Path) -> None:
    source = source_root.name
    for entry in sorted(source_root.iterdir()):
        relative = entry.relative_to(zone.root).as_posix()
        if not entry.is_dir():
            zone.unknown_entries.append(
                f"{relative}: a file outside any day folder (expected "
                f"{source}/YYYY-MM-DD/<file>): move it into its day folder"
            )
            continue
        try:
            day = parse_day_folder(entry.name)
        except LandingZoneError as exc:
            zone.layout_errors.append(
                f"{relative}/: day folder {exc}; rename it (its files are not read until then)"
            )
            continue
        folder = read_source_day(zone.root, source, day)
        if folder is not None:
            zone.days.setdefault(day, {})[source] = folder


def landed_days(
    raw_root: Path, source: str | None = None, complete_only: bool = True
) -> list[date]:
    """Days present in the landing zone (for one source, or any), sorted ascending.

    ``complete_only`` keeps the complete days (every source with files has its marker); with a
    ``source``, the days that source landed (files or marker) among them. Badly named folders
    are not days: :meth:`LandingZone.check` reports them.
    """
    zone = scan_landing_zone(raw_root)
    days = zone.complete_days() if complete_only else zone.landed_days()
    if source is None:
        return days
    return [d for d in days if source in zone.days.get(d, {})]
