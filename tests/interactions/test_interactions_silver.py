"""Both interaction sources through bronze and silver on hand-made rows: typed values, the
vocabularies of conf/interactions.yaml (aliases mapped, unknown values flagged), quarantine with
reasons, phone-resolved callers, row accounting (nothing lost) and an idempotent re-run."""

from __future__ import annotations

import pytest
from interaction_rows import (
    CONTACTS_CSV,
    DAY,
    LANDING_DAY,
    MESSAGES_CSV,
    write_person_records,
)

from c360.bronze.ingest import ingest_days
from c360.contract import ENGAGEMENT_MESSAGES, SERVICE_CONTACTS
from c360.silver.interactions import build_engagement_messages, build_service_contacts
from c360.silver.publish import publish
from c360.tables import (
    BRONZE_TABLES,
    QUARANTINE_REJECTS,
    SILVER_ENGAGEMENT_MESSAGES,
    SILVER_PERSON_RECORDS,
    SILVER_SERVICE_CONTACTS,
)

pytestmark = pytest.mark.spark


def _silver_rejects(lake, table: str) -> dict[str, list[str]]:
    """Reasons by source line (line 1 is the header)."""
    rejects = lake.read_arrow(QUARANTINE_REJECTS).to_pylist()
    return {
        str(r["_row_number"]): r["reasons"]
        for r in rejects
        if r["layer"] == "silver" and r["table"] == table
    }


def _published(lake, land, tmp_path, entity, files, build):
    raw = land(entity.source, DAY, files)
    ingest_days(lake, raw, entity, [LANDING_DAY])
    bronze = BRONZE_TABLES[entity.name]
    return publish(lake, build(lake.read(bronze)), [bronze], tmp_path / "reports")


def test_messages_typed_flagged_quarantined_and_accounted(lake, land, tmp_path):
    published = _published(
        lake, land, tmp_path, ENGAGEMENT_MESSAGES, {"messages_1.csv": MESSAGES_CSV},
        build_engagement_messages,
    )  # fmt: skip
    assert published.figures["rows_bronze"] == 10
    assert published.figures["rows_silver"] == 5
    assert published.figures["rows_superseded"] == 1  # M1's second open
    assert published.figures["rows_quarantined"] == 4
    assert published.figures["rows_unresolved"] == 1  # M5: no customer reference
    rows = {r["event_id"]: r for r in lake.read_arrow(SILVER_ENGAGEMENT_MESSAGES).to_pylist()}
    assert sorted(rows) == ["M1:delivered", "M1:opened", "M1:sent", "M2:sent", "M5:sent"]
    opened = rows["M1:opened"]
    # "E-Mail" / "open" are aliases; the first open (09:00 local = 02:00 UTC) is kept
    assert (opened["channel"], opened["event"], opened["journey_id"]) == (
        "email", "opened", "welcome",
    )  # fmt: skip
    assert opened["event_ts"].hour == 2 and opened["record_key"] == "crm:CT1"
    # an unlisted channel is kept and flagged; a spaced, upper-case ref type is cleaned
    assert rows["M2:sent"]["channel"] == "fax"
    assert rows["M2:sent"]["value_issues"] == ["channel: fax not in conf/interactions.yaml"]
    assert rows["M2:sent"]["record_key"] == "loyalty:LM1"
    assert rows["M2:sent"]["event_ts"].hour == 1  # no offset: Vietnam local time
    assert rows["M5:sent"]["record_key"] is None  # unresolved: kept, not dropped
    reasons = _silver_rejects(lake, "engagement_messages")
    assert reasons == {
        "7": ["event: not one of sent, delivered, opened, clicked, bounced, unsubscribed, "
              "replied (conf/interactions.yaml)"],
        "8": ["event_ts: not an ISO 8601 timestamp"],
        "9": ["expect_column_values_to_not_be_null: message_id"],
        "11": ["event_ts: in the future (more than 24 h after the landing day)"],
    }  # fmt: skip


def test_contacts_resolved_by_reference_or_phone_and_quarantined(lake, land, tmp_path):
    write_person_records(lake, [("crm:CT1", "+84912345678"), ("erp:KH1", None)])

    def build(bronze):
        return build_service_contacts(bronze, lake.read(SILVER_PERSON_RECORDS))

    published = _published(
        lake, land, tmp_path, SERVICE_CONTACTS, {"contacts_1.csv": CONTACTS_CSV}, build
    )
    assert (published.figures["rows_bronze"], published.figures["rows_silver"]) == (9, 5)
    assert published.figures["rows_quarantined"] == 4
    assert published.figures["rows_unresolved"] == 1  # S5: a number nobody has
    assert published.figures["rows_resolved_by_phone"] == 1  # S2
    rows = {r["contact_id"]: r for r in lake.read_arrow(SILVER_SERVICE_CONTACTS).to_pylist()}
    assert (rows["S1"]["record_key"], rows["S1"]["resolved_by"]) == ("crm:CT1", "customer_ref")
    assert rows["S1"]["direction"] == "inbound" and rows["S1"]["satisfaction"] == 4
    # known only by a spaced national number: the record with that standardised phone
    assert (rows["S2"]["record_key"], rows["S2"]["resolved_by"]) == ("crm:CT1", "phone")
    assert (rows["S2"]["kind"], rows["S2"]["outcome"], rows["S2"]["duration_s"]) == (
        "call", "missed", 120,
    )  # fmt: skip
    assert rows["S3"]["unresolved"] is True and rows["S3"]["duration_s"] is None
    assert rows["S4"]["value_issues"] == [
        "direction: sideways not in conf/interactions.yaml",
        "category: weather not in conf/interactions.yaml",
    ]
    assert rows["S5"]["record_key"] is None and rows["S5"]["resolved_by"] is None
    assert "phone" not in lake.read_arrow(SILVER_SERVICE_CONTACTS).column_names
    assert _silver_rejects(lake, "service_contacts") == {
        "7": ["duration_s: negative"],
        "8": ["satisfaction: not a whole number from 1 to 5"],
        "9": ["kind: not one of call, chat, ticket (conf/interactions.yaml)"],
        "10": ["started_at: not an ISO 8601 timestamp"],
    }


def test_rerunning_the_day_gives_the_same_tables(lake, land, tmp_path):
    files = {"messages_1.csv": MESSAGES_CSV}
    _published(lake, land, tmp_path, ENGAGEMENT_MESSAGES, files, build_engagement_messages)
    first = lake.read_arrow(SILVER_ENGAGEMENT_MESSAGES).sort_by("event_id")
    again = _published(lake, land, tmp_path, ENGAGEMENT_MESSAGES, files, build_engagement_messages)
    assert lake.count(BRONZE_TABLES[ENGAGEMENT_MESSAGES.name]) == 10  # replaced, not appended
    assert again.figures["rows_silver"] == 5
    assert lake.read_arrow(SILVER_ENGAGEMENT_MESSAGES).sort_by("event_id").equals(first)
    assert len(_silver_rejects(lake, "engagement_messages")) == 4
