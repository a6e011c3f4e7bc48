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
