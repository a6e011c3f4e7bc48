"""The shared generated run (tests/conftest.py ``pipeline_run``) lands and uses both interaction
sources: bronze and silver accounted row for row, the features filled, the catalog in English
and Vietnamese, and the customer view's timeline showing them."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from c360.customer_view.store import ViewStore
from c360.customer_view.timeline import timeline
from c360.lakehouse import Lakehouse
from c360.standardise import standardise_phone
from c360.tables import (
    BRONZE_TABLES,
    GOLD_CUSTOMER_FEATURES,
    GOLD_FEATURE_CATALOG,
    GOLD_IDENTITY_MAP,
    SILVER_ENGAGEMENT_MESSAGES,
    SILVER_PERSON_RECORDS,
    SILVER_SERVICE_CONTACTS,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def lake(pipeline_run) -> Lakehouse:
    return Lakehouse(pipeline_run.lake_root, spark=None, writer="delta-rs")


def _metadata(pipeline_run, asset: str) -> dict:
    return {a.asset: a.metadata for s in pipeline_run.summary.stages for a in s.assets}[asset]


@pytest.mark.parametrize("table", [SILVER_ENGAGEMENT_MESSAGES, SILVER_SERVICE_CONTACTS])
def test_every_landed_row_is_silver_superseded_or_quarantined(pipeline_run, lake, table):
    figures = _metadata(pipeline_run, table.qualified_name.replace(".", "/"))
    bronze = lake.count(BRONZE_TABLES[table.name])
    assert bronze > 0 and figures["rows_bronze"] == bronze
    assert figures["rows_silver"] == lake.count(table) > 0
    accounted = figures["rows_silver"] + figures["rows_superseded"] + figures["rows_quarantined"]
    assert accounted == bronze


def test_callers_known_by_phone_resolve_to_the_record_with_that_phone(lake, pipeline_run):
    contacts = lake.read_arrow(SILVER_SERVICE_CONTACTS).to_pylist()
    assert {c["resolved_by"] for c in contacts} <= {"customer_ref", "phone", None}
    phones = {}
    for record in lake.read_arrow(SILVER_PERSON_RECORDS).to_pylist():
        if record["phone_e164"]:
            key = phones.get(record["phone_e164"])
            phones[record["phone_e164"]] = (
                min(key, record["record_key"]) if key else record["record_key"]
            )
    landed = {
        r["contact_id"]: r["phone"]
        for r in lake.read_arrow(BRONZE_TABLES[SILVER_SERVICE_CONTACTS.name]).to_pylist()
    }
    for row in (c for c in contacts if c["customer_ref"] is None):
        expected = phones.get(standardise_phone(landed[row["contact_id"]] or "")[0] or "")
        assert row["record_key"] == expected, row["contact_id"]
        assert row["resolved_by"] == ("phone" if expected else None)


def test_features_and_catalog_cover_the_new_families(lake):
    catalog = lake.read_arrow(GOLD_FEATURE_CATALOG).to_pylist()
    families = {r["family"] for r in catalog}
    assert {"engagement", "campaigns", "service"} <= families
    new = [r for r in catalog if r["family"] in ("engagement", "campaigns", "service")]
    assert len(new) == 236 and all(r["description_en"] and r["description_vi"] for r in new)
    snapshot = lake.read_arrow(GOLD_CUSTOMER_FEATURES)
    assert pc.sum(snapshot.column("eng_sent_life")).as_py() > 0
    assert pc.sum(snapshot.column("svc_contacts_life")).as_py() > 0


def test_the_timeline_shows_messages_and_contacts(lake, pipeline_run):
    ids = {
        f"{r['source_system']}:{r['source_record_id']}": r["customer_id"]
        for r in lake.read_arrow(GOLD_IDENTITY_MAP).to_pylist()
    }
    contacted = lake.read_arrow(SILVER_SERVICE_CONTACTS).column("record_key").to_pylist()
    key = next(k for k in contacted if k in ids)
    customer = ids[key]
    keys = sorted(k for k, c in ids.items() if c == customer)
    kinds = {e["kind"] for e in timeline(ViewStore(pipeline_run.lake_root), customer, keys)}
    assert any(k.startswith("service_") for k in kinds)
    messaged = lake.read_arrow(SILVER_ENGAGEMENT_MESSAGES).column("record_key").to_pylist()
    key = next(k for k in messaged if k in ids)
    keys = sorted(k for k, c in ids.items() if c == ids[key])
    events = timeline(ViewStore(pipeline_run.lake_root), ids[key], keys)
    assert "message_sent" in {e["kind"] for e in events}
