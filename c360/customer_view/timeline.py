"""A customer's timeline, newest first: transactions and refunds, loyalty points (earn, redeem,
expire, adjust), consent changes (when ``gold/consent_history`` exists), message events and
contact-centre calls, chats and tickets (the optional interaction sources), paged."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow.compute as pc

from c360.customer_view.store import ViewStore, is_in
from c360.tables import (
    GOLD_CONSENT_HISTORY,
    SILVER_ENGAGEMENT_MESSAGES,
    SILVER_LOYALTY_POINTS,
    SILVER_SERVICE_CONTACTS,
    SILVER_TRANSACTIONS,
)

_TRANSACTION_COLUMNS = [
    "transaction_id", "record_key", "transaction_ts", "status", "amount", "currency",
    "amount_original", "channel", "store_id", "product_category", "product_sku", "quantity",
]  # fmt: skip
_POINTS_COLUMNS = ["entry_id", "record_key", "event_ts", "event_type", "points", "reference"]
_MESSAGE_COLUMNS = [
    "event_id", "record_key", "event_ts", "event", "channel", "campaign_id", "journey_id",
    "message_key",
]  # fmt: skip
_CONTACT_COLUMNS = [
    "contact_id", "record_key", "started_at", "kind", "direction", "category", "outcome",
    "duration_s", "satisfaction",
]  # fmt: skip
_CONSENT_COLUMNS = [
    "event_id", "purpose", "decision", "decided_at", "source_system", "source_record_id",
]  # fmt: skip


def _transactions(store: ViewStore, keys: list[str]) -> list[dict[str, Any]]:
    rows = store.rows(SILVER_TRANSACTIONS, is_in("record_key", keys), _TRANSACTION_COLUMNS)
    out = []
    for row in rows.to_pylist():
        refund = row["status"] == "refunded"
        out.append(
            {
                "at": row["transaction_ts"],
                "kind": "refund" if refund else "purchase",
                "id": row["transaction_id"],
                "source_record": row["record_key"],
                "amount": float(row["amount"]) if row["amount"] is not None else None,
                "points": None,
                "detail": " ".join(
                    str(v)
                    for v in (
                        row["status"], row["channel"], row["product_category"],
                        f"x{row['quantity']}" if row["quantity"] is not None else None,
                    )
                    if v is not None
                ),
            }
        )  # fmt: skip
    return out


def _points(store: ViewStore, keys: list[str]) -> list[dict[str, Any]]:
    rows = store.rows(SILVER_LOYALTY_POINTS, is_in("record_key", keys), _POINTS_COLUMNS)
    return [
        {
            "at": row["event_ts"],
            "kind": f"loyalty_{row['event_type']}",
            "id": row["entry_id"],
            "source_record": row["record_key"],
            "amount": None,
            "points": row["points"],
            "detail": row["reference"] or "",
        }
        for row in rows.to_pylist()
    ]


def _detail(*values: object) -> str:
    return " ".join(str(v) for v in values if v is not None and v != "")


def _messages(store: ViewStore, keys: list[str]) -> list[dict[str, Any]]:
    """Message events (kind ``message_<event>``): channel, campaign, journey and message."""
    rows = store.rows(SILVER_ENGAGEMENT_MESSAGES, is_in("record_key", keys), _MESSAGE_COLUMNS)
    return [
        {
            "at": row["event_ts"],
            "kind": f"message_{row['event']}",
            "id": row["event_id"],
            "source_record": row["record_key"],
            "amount": None,
            "points": None,
            "detail": _detail(
                row["channel"], row["campaign_id"], row["journey_id"], row["message_key"]
            ),
        }
        for row in rows.to_pylist()
    ]


def _contacts(store: ViewStore, keys: list[str]) -> list[dict[str, Any]]:
    """Calls, chats and tickets (kind ``service_<kind>``): category, outcome, duration, score."""
    rows = store.rows(SILVER_SERVICE_CONTACTS, is_in("record_key", keys), _CONTACT_COLUMNS)
    return [
        {
            "at": row["started_at"],
            "kind": f"service_{row['kind']}",
            "id": row["contact_id"],
            "source_record": row["record_key"],
            "amount": None,
            "points": None,
            "detail": _detail(
                row["direction"], row["category"], row["outcome"],
                f"{row['duration_s']}s" if row["duration_s"] is not None else None,
                f"satisfaction {row['satisfaction']}/5" if row["satisfaction"] is not None
                else None,
            ),
        }
        for row in rows.to_pylist()
    ]  # fmt: skip


def _consent_changes(store: ViewStore, customer_id: str) -> list[dict[str, Any]]:
    if not store.exists(GOLD_CONSENT_HISTORY):
        return []
    rows = store.rows(
        GOLD_CONSENT_HISTORY, pc.field("customer_id") == customer_id, _CONSENT_COLUMNS
    )
    return [
        {
            "at": row["decided_at"],
            "kind": "consent_change",
            "id": row["event_id"],
            "source_record": f"{row['source_system']}:{row['source_record_id']}",
            "amount": None,
            "points": None,
            "detail": f"{row['purpose']}: {row['decision']}",
        }
        for row in rows.to_pylist()
    ]


def timeline(store: ViewStore, customer_id: str, keys: list[str]) -> list[dict[str, Any]]:
    """Every event of the customer's records, newest first (ties: kind, then id)."""
    sources = (_transactions, _points, _messages, _contacts)
    events = [e for source in sources for e in source(store, keys)] if keys else []
    events += _consent_changes(store, customer_id)
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    events.sort(key=lambda e: (e["kind"], e["id"] or ""))
    events.sort(key=lambda e: e["at"] or oldest, reverse=True)
    return events


def timeline_page(
    store: ViewStore, customer_id: str, keys: list[str], page: int, page_size: int
) -> dict[str, Any]:
    """One page (1-based) of :func:`timeline`, with the counts a pager needs."""
    events = timeline(store, customer_id, keys)
    pages = max(1, math.ceil(len(events) / page_size))
    page = min(max(1, page), pages)
    rows = events[(page - 1) * page_size : page * page_size]
    for row in rows:
        row["at"] = row["at"].isoformat() if row["at"] is not None else None
    return {"page": page, "pages": pages, "page_size": page_size, "total": len(events),
            "rows": rows}  # fmt: skip
