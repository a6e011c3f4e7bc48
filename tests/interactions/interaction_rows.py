"""Hand-made landing-zone files of the interaction sources and silver person records (tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from c360.tables import SILVER_PERSON_RECORDS, SILVER_PERSON_RECORDS_SCHEMA

DAY = "2026-11-01"
MESSAGES_HEADER = (
    "message_id,customer_ref_type,customer_ref,channel,campaign_id,journey_id,message_key,"
    "event,event_ts"
)
# 10 rows: 5 silver rows, 1 superseded (a second open of M1), 4 quarantined
MESSAGES_CSV = "\n".join(
    [
        MESSAGES_HEADER,
        "M1,crm,CT1,email,CMP1,welcome,welcome_1,sent,2026-11-01T08:00:00+07:00",
        "M1,crm,CT1,email,CMP1,welcome,welcome_1,delivered,2026-11-01T08:00:05+07:00",
        "M1,crm,CT1,E-Mail,CMP1,Welcome,welcome_1,open,2026-11-01T09:00:00+07:00",
        "M1,crm,CT1,email,CMP1,welcome,welcome_1,opened,2026-11-01T10:00:00+07:00",
        "M2, LOYALTY ,LM1,fax,CMP1,,main,sent,2026-11-01 08:00:00",
        "M3,crm,CT2,sms,CMP2,,main,teleported,2026-11-01T08:00:00+07:00",
        "M4,crm,CT2,sms,CMP2,,main,sent,yesterday",
        ",crm,CT2,sms,CMP2,,main,sent,2026-11-01T08:00:00+07:00",
        "M5,,,push,CMP2,,main,sent,2026-11-01T08:00:00+07:00",
        "M6,crm,CT3,zalo,CMP2,,main,sent,2026-11-05T08:00:00+07:00",
    ]
)
CONTACTS_HEADER = (
    "contact_id,customer_ref_type,customer_ref,phone,kind,direction,started_at,duration_s,"
    "category,outcome,satisfaction"
)
# 9 rows: 5 silver rows, 4 quarantined; S2 is known only by phone (resolved), S5 by nobody
CONTACTS_CSV = "\n".join(
    [
        CONTACTS_HEADER,
        "S1,crm,CT1,,call,in,2026-11-01T09:00:00+07:00,300,refund,answered,4",
        "S2,,,091 234 5678,Phone,inbound,2026-11-01T10:00:00+07:00,120.0,order,no_answer,",
        "S3,erp,KH1,,ticket,inbound,2026-11-01T11:00:00+07:00,,delivery,pending,2",
        "S4,loyalty,LM1,,chat,sideways,2026-11-01T12:00:00+07:00,600,weather,resolved,5",
        "S5,,,0987000111,call,outbound,2026-11-01T13:00:00+07:00,60,other,answered,",
        "S6,crm,CT1,,call,inbound,2026-11-01T14:00:00+07:00,-30,order,answered,",
        "S7,crm,CT1,,ticket,inbound,2026-11-01T15:00:00+07:00,,order,open,7",
        "S8,crm,CT1,,fax,inbound,2026-11-01T16:00:00+07:00,,order,open,",
        "S9,crm,CT1,,call,inbound,not a time,10,order,answered,",
    ]
)


def person_records(rows: list[tuple[str, str | None]]) -> pa.Table:
    """silver/person_records rows with only ``record_key`` and ``phone_e164`` filled."""
    now = datetime(2026, 10, 1, tzinfo=UTC)
    data = []
    for key, phone in rows:
        system, _, record_id = key.partition(":")
        data.append(
            {
                "record_key": key,
                "source_system": system,
                "source_record_id": record_id,
                "phone_e164": phone,
                "created_at": now,
                "updated_at": now,
            }
        )
    columns = {f.name: [r.get(f.name) for r in data] for f in SILVER_PERSON_RECORDS_SCHEMA}
    return pa.table(columns, schema=SILVER_PERSON_RECORDS_SCHEMA)


def write_person_records(lake, rows: list[tuple[str, str | None]]) -> None:
    lake.overwrite(person_records(rows), SILVER_PERSON_RECORDS)


LANDING_DAY = date.fromisoformat(DAY)


# ---- silver rows for the feature tests (AS_OF = D; days_ago 1 = the day before D) ----------
AS_OF = date(2026, 3, 1)


def _on(days_ago: int, hour: int = 10) -> tuple[date, datetime]:
    """The local date ``days_ago`` before AS_OF and the UTC time of ``hour`` local on it."""
    from datetime import timedelta

    day = AS_OF - timedelta(days=days_ago)
    return day, datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=7)


def _table(schema: pa.Schema, rows: list[dict]) -> pa.Table:
    return pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)


def message_events(
    message_id: str,
    record_key: str | None,
    channel: str,
    campaign: str,
    events: dict[str, int],
    journey: str | None = None,
) -> list[dict]:
    """silver/engagement_messages rows of one message: ``{event: days_ago}``."""
    ref_type, _, ref = (record_key or "").partition(":")
    rows = []
    for event, days_ago in events.items():
        day, ts = _on(days_ago)
        rows.append({
            "event_id": f"{message_id}:{event}", "message_id": message_id,
            "customer_ref_type": ref_type or None, "customer_ref": ref or None,
            "record_key": record_key, "channel": channel, "campaign_id": campaign,
            "journey_id": journey, "message_key": f"{journey or 'main'}_1", "event": event,
            "event_ts": ts, "event_date": day, "value_issues": [],
            "_ingest_date": day, "_source_file": "messages.csv", "_row_number": len(rows) + 2,
        })  # fmt: skip
    return rows


def contact(
    contact_id: str,
    record_key: str | None,
    kind: str,
    days_ago: int,
    *,
    outcome: str = "resolved",
    duration_s: int | None = None,
    satisfaction: int | None = None,
    unresolved: bool = False,
) -> dict:
    """One silver/service_contacts row."""
    day, ts = _on(days_ago)
    return {
        "contact_id": contact_id, "record_key": record_key,
        "resolved_by": "customer_ref" if record_key else None, "kind": kind,
        "direction": "inbound", "started_at": ts, "started_date": day,
        "duration_s": duration_s, "category": "order", "outcome": outcome,
        "unresolved": unresolved, "satisfaction": satisfaction, "value_issues": [],
        "_ingest_date": day, "_source_file": "contacts.csv", "_row_number": 2,
    }  # fmt: skip


def write_interactions(lake, messages: list[dict], contacts: list[dict]) -> None:
    from c360.tables import (
        SILVER_ENGAGEMENT_MESSAGES,
        SILVER_ENGAGEMENT_MESSAGES_SCHEMA,
        SILVER_SERVICE_CONTACTS,
        SILVER_SERVICE_CONTACTS_SCHEMA,
    )

    lake.overwrite(_table(SILVER_ENGAGEMENT_MESSAGES_SCHEMA, messages), SILVER_ENGAGEMENT_MESSAGES)
    lake.overwrite(_table(SILVER_SERVICE_CONTACTS_SCHEMA, contacts), SILVER_SERVICE_CONTACTS)


def write_customers(lake, identity: dict[str, str], golden: dict[str, int]) -> None:
    """gold/identity_map (record_key -> customer) and gold/golden_records (customer -> days
    since first seen), and empty transactions, points and members."""
    from c360.tables import (
        GOLD_GOLDEN_RECORDS,
        GOLD_GOLDEN_RECORDS_SCHEMA,
        GOLD_IDENTITY_MAP,
        GOLD_IDENTITY_MAP_SCHEMA,
        SILVER_LOYALTY_MEMBERS,
        SILVER_LOYALTY_MEMBERS_SCHEMA,
        SILVER_LOYALTY_POINTS,
        SILVER_LOYALTY_POINTS_SCHEMA,
        SILVER_TRANSACTIONS,
        SILVER_TRANSACTIONS_SCHEMA,
    )

    ids = [
        {"source_system": k.partition(":")[0], "source_record_id": k.partition(":")[2],
         "customer_id": c}
        for k, c in identity.items()
    ]  # fmt: skip
    people = [
        {"customer_id": c, "first_seen": _on(d)[1], "last_seen": _on(1)[1]}
        for c, d in golden.items()
    ]
    lake.overwrite(_table(GOLD_IDENTITY_MAP_SCHEMA, ids), GOLD_IDENTITY_MAP)
    lake.overwrite(_table(GOLD_GOLDEN_RECORDS_SCHEMA, people), GOLD_GOLDEN_RECORDS)
    for schema, table in (
        (SILVER_TRANSACTIONS_SCHEMA, SILVER_TRANSACTIONS),
        (SILVER_LOYALTY_POINTS_SCHEMA, SILVER_LOYALTY_POINTS),
        (SILVER_LOYALTY_MEMBERS_SCHEMA, SILVER_LOYALTY_MEMBERS),
    ):
        lake.overwrite(schema.empty_table(), table)
