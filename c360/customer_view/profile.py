"""One customer's profile: golden fields with provenance, consent, linked records, identity
history, the key features of the latest snapshot and the segments they are in.

Everything is read by ``customer_id`` (or the customer's record keys) with dataset filters.
The result is plain JSON-able data: ``c360 customer show --json`` prints it, the web page
renders it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from c360.contract import SOURCE_ENTITIES
from c360.customer_view.config import CustomerViewConfig
from c360.customer_view.consent import consent_columns, current_consent
from c360.customer_view.store import ViewStore
from c360.customer_view.timeline import timeline_page
from c360.profile_fields import load_profile_fields
from c360.standardise import IDENTITY_COLUMNS_BY_SOURCE
from c360.tables import (
    BRONZE_TABLES,
    FIELD_COLUMNS,
    GOLD_CUSTOMER_FEATURES,
    GOLD_GOLDEN_RECORDS,
    GOLD_IDENTITY_HISTORY,
    GOLD_IDENTITY_MAP,
    GOLD_SEGMENT_MEMBERS,
    GOLDEN_PROFILE_FIELDS,
    GOLDEN_SURVIVING_FIELDS,
    GOLDEN_UNION_FIELDS,
    IDENTITY_FIELDS,
    INGEST_DATE,
    SILVER_PERSON_TABLES,
)

_IDENTITY_COLUMNS = [name for name, _ in IDENTITY_FIELDS if name not in {"raw_values"}]
_KEY_COLUMN = {system: table.keys[0] for system, table in SILVER_PERSON_TABLES.items()}
# the landing-zone entity of each person table (loyalty also lands points: match by table name)
_ENTITY_OF = {
    system: next(e for e in SOURCE_ENTITIES if e.name == table.name)
    for system, table in SILVER_PERSON_TABLES.items()
}


class CustomerNotFound(LookupError):
    """No golden record has this customer ID (and the history merged it into none)."""


def plain(value: Any) -> Any:
    """A table value as JSON: dates and times in ISO 8601, decimals as numbers."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def golden_record(store: ViewStore, customer_id: str) -> dict[str, Any] | None:
    """The golden row of ``customer_id`` (every column), or None."""
    rows = store.rows(GOLD_GOLDEN_RECORDS, pc.field("customer_id") == customer_id).to_pylist()
    return rows[0] if rows else None


def _merged_once(store: ViewStore, customer_id: str) -> str | None:
    rows = store.rows(
        GOLD_IDENTITY_HISTORY,
        (pc.field("customer_id") == customer_id) & (pc.field("event") == "merge"),
        ["related_customer_id", "at"],
    ).to_pylist()
    rows.sort(key=lambda r: r["at"])
    return rows[-1]["related_customer_id"] if rows else None


def merged_into(store: ViewStore, customer_id: str, max_hops: int = 50) -> str | None:
    """The current ID when ``customer_id`` was retired by merges (followed hop by hop until
    an ID with a golden record), else None."""
    current, seen = customer_id, {customer_id}
    for _ in range(max_hops):
        survivor = _merged_once(store, current)
        if survivor is None or survivor in seen:
            break
        current = survivor
        seen.add(current)
        if golden_record(store, current) is not None:
            return current
    return current if current != customer_id else None


def _fields(golden: dict[str, Any]) -> list[dict[str, Any]]:
    """Each surviving field: value, source record key and system; then the profile fields,
    the union fields (lists of values and of source records) and the custom fields."""
    custom = [c.name for c in load_profile_fields().custom_fields if c.name in golden]
    out = []
    for name in (*GOLDEN_SURVIVING_FIELDS, *GOLDEN_PROFILE_FIELDS, *custom):
        source = golden.get(f"{name}_source")
        out.append(
            {
                "field": name,
                "value": plain(golden.get(name)),
                "source_record": source,
                "source_system": source.partition(":")[0] if source else None,
            }
        )
    for name in GOLDEN_UNION_FIELDS:
        sources = list(golden.get(f"{name}_source") or [])
        out.append(
            {
                "field": name,
                "value": plain(golden.get(name)),
                "source_record": ", ".join(sources) or None,
                "source_system": ", ".join(dict.fromkeys(k.partition(":")[0] for k in sources))
                or None,
            }
        )
    return out


def linked_record_keys(store: ViewStore, customer_id: str) -> list[dict[str, Any]]:
    """The identity-map rows of the customer, with their ``record_key``, sorted."""
    rows = store.rows(GOLD_IDENTITY_MAP, pc.field("customer_id") == customer_id).to_pylist()
    for row in rows:
        row["record_key"] = f"{row['source_system']}:{row['source_record_id']}"
    return sorted(rows, key=lambda r: r["record_key"])


def _landed_row(store: ViewStore, system: str, silver: dict[str, Any]) -> dict[str, Any]:
    """The bronze row the silver record came from (partition, file and row number)."""
    entity = _ENTITY_OF[system]
    where = (
        (pc.field(INGEST_DATE) == pa.scalar(silver[INGEST_DATE], pa.date32()))
        & (pc.field("_source_file") == silver["_source_file"])
        & (pc.field("_row_number") == silver["_row_number"])
    )
    columns = list(IDENTITY_COLUMNS_BY_SOURCE[system].landed().values())
    rows = store.rows(BRONZE_TABLES[entity.name], where, columns).to_pylist()
    return rows[0] if rows else {}


def _differences(system: str, silver: dict[str, Any], landed: dict[str, Any]) -> dict[str, str]:
    """Landed text of each identity field whose standardised value reads differently."""
    raw_values = dict(silver.get("raw_values") or {})
    out = {}
    for field_name, column in IDENTITY_COLUMNS_BY_SOURCE[system].landed().items():
        text = raw_values.get(field_name, landed.get(column))
        if text is None or not str(text).strip():
            continue
        standardised = silver.get(FIELD_COLUMNS[field_name][0])
        if standardised is None or str(text) != str(plain(standardised)):
            out[field_name] = str(text)
    return out


def linked_records(store: ViewStore, customer_id: str) -> list[dict[str, Any]]:
    """Every source record of the customer: as standardised, and landed values that differ."""
    out = []
    for entry in linked_record_keys(store, customer_id):
        system = entry["source_system"]
        table = SILVER_PERSON_TABLES[system]
        rows = store.rows(
            table, pc.field(_KEY_COLUMN[system]) == entry["source_record_id"]
        ).to_pylist()
        silver = rows[0] if rows else {}
        landed = _landed_row(store, system, silver) if silver else {}
        standardised = {c: plain(silver[c]) for c in _IDENTITY_COLUMNS if silver.get(c)}
        standardised.pop("field_issues", None)
        out.append(
            {
                "record_key": entry["record_key"],
                "source_system": system,
                "source_record_id": entry["source_record_id"],
                "match_probability": entry["match_probability"],
                "first_seen": plain(entry["first_seen"]),
                "last_seen": plain(entry["last_seen"]),
                "standardised": standardised,
                "consent": {c: silver[c] for c in consent_columns(list(silver))},
                "updated_at": plain(silver.get("updated_at")),
                "landed": _differences(system, silver, landed) if silver else {},
                "field_issues": list(silver.get("field_issues") or []),
            }
        )
    return out


def identity_history(store: ViewStore, customer_id: str) -> list[dict[str, Any]]:
    """Merges and splits (and the creation) that touched this customer, newest first."""
    where = (pc.field("customer_id") == customer_id) | (
        pc.field("related_customer_id") == customer_id
    )
    rows = store.rows(GOLD_IDENTITY_HISTORY, where).to_pylist()
    rows.sort(key=lambda r: (r["at"], r["event"], r["customer_id"]), reverse=True)
    return [plain(r) for r in rows]


def key_features(store: ViewStore, customer_id: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The customer's key features in the latest snapshot (one partition, filtered by id)."""
    as_of = store.latest_snapshot()
    if as_of is None:
        return {"as_of_date": None, "values": {}}
    where = (pc.field("as_of_date") == pa.scalar(as_of, pa.date32())) & (
        pc.field("customer_id") == customer_id
    )
    rows = store.rows(GOLD_CUSTOMER_FEATURES, where, ["customer_id", *names]).to_pylist()
    values = {n: plain(rows[0][n]) for n in names if rows and n in rows[0]}
    return {"as_of_date": as_of.isoformat(), "values": values}


def segments_of(store: ViewStore, customer_id: str) -> dict[str, Any]:
    """The segments the customer is a member of in the latest membership snapshot."""
    as_of = store.latest_partition(GOLD_SEGMENT_MEMBERS, "as_of_date")
    if as_of is None:
        return {"as_of_date": None, "names": []}
    where = (pc.field("as_of_date") == pa.scalar(as_of, pa.date32())) & (
        pc.field("customer_id") == customer_id
    )
    names = store.rows(GOLD_SEGMENT_MEMBERS, where, ["segment"]).column(0).to_pylist()
    return {"as_of_date": as_of.isoformat(), "names": sorted(names)}


def customer_profile(
    store: ViewStore, customer_id: str, config: CustomerViewConfig, page: int = 1
) -> dict[str, Any]:
    """Everything ``show`` prints about one customer (``page`` of the timeline, 1-based).

    Raises:
        CustomerNotFound: no golden record has ``customer_id``; the message names the
            surviving ID when it was merged into another.
    """
    golden = golden_record(store, customer_id)
    if golden is None:
        survivor = merged_into(store, customer_id)
        hint = f"; it was merged into {survivor}" if survivor else ""
        raise CustomerNotFound(f"no customer {customer_id} in gold.golden_records{hint}")
    records = linked_records(store, customer_id)
    keys = [r["record_key"] for r in records]
    return {
        "customer_id": customer_id,
        "fields": _fields(golden),
        "first_seen": plain(golden.get("first_seen")),
        "last_seen": plain(golden.get("last_seen")),
        "consent": current_consent(golden),
        "linked_records": records,
        "identity_history": identity_history(store, customer_id),
        "timeline": timeline_page(store, customer_id, keys, page, config.timeline_page_size),
        "features": key_features(store, customer_id, config.key_features),
        "segments": segments_of(store, customer_id),
    }


__all__ = ["CustomerNotFound", "customer_profile", "plain"]
