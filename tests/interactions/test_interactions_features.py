"""The engagement, campaign and service families against values computed by hand, and the
snapshot's point-in-time rule: events on or after D change nothing.

As of D = 2026-03-01 (days_ago 1 = 2026-02-28):

C1 (crm:CT1, loyalty:LM1)
  M1 email CMPA journey welcome: sent + delivered 3 d ago, opened + clicked 2 d ago
  M2 email CMPA: sent + delivered 10 d ago (not opened)
  M3 sms CMPB: sent + delivered + clicked 40 d ago
  M4 zalo CMPC journey winback: sent + bounced 100 d ago
  M5 email CMPD: sent + delivered + unsubscribed 5 d ago
  campaigns by their first message before D: CMPD (5 d) 1, CMPA (10 d) 2, CMPB 3, CMPC 4
  S1 call 2 d ago 300 s, satisfaction 4; S2 ticket 20 d ago pending (unresolved), not rated;
  S3 chat 50 d ago satisfaction 2; S4 ticket 400 d ago resolved, satisfaction 5
C2 (erp:KH2): M7 push CMPA sent + delivered + opened 1 d ago; no contact.
A message of an unresolved record (crm:CT9) belongs to nobody.
Later events (the PIT build only): on D and after it, new campaigns, opens, unsubscribes,
calls and tickets for C1 and C2.
"""

from __future__ import annotations

import pytest
from interaction_rows import AS_OF, contact, message_events, write_customers, write_interactions

from features.compiler import build_customer_features
from features.events import read_feature_inputs
from features.spec import expand, load_spec

pytestmark = pytest.mark.spark

IDENTITY = {"crm:CT1": "C1", "loyalty:LM1": "C1", "erp:KH2": "C2"}
GOLDEN = {"C1": 400, "C2": 300}
MESSAGES = [
    *message_events("M1", "crm:CT1", "email", "CMPA",
                    {"sent": 3, "delivered": 3, "opened": 2, "clicked": 2}, journey="welcome"),
    *message_events("M2", "crm:CT1", "email", "CMPA", {"sent": 10, "delivered": 10}),
    *message_events("M3", "loyalty:LM1", "sms", "CMPB",
                    {"sent": 40, "delivered": 40, "clicked": 40}),
    *message_events("M4", "crm:CT1", "zalo", "CMPC", {"sent": 100, "bounced": 100},
                    journey="winback"),
    *message_events("M5", "crm:CT1", "email", "CMPD",
                    {"sent": 5, "delivered": 5, "unsubscribed": 5}),
    *message_events("M7", "erp:KH2", "push", "CMPA", {"sent": 1, "delivered": 1, "opened": 1}),
    *message_events("M8", "crm:CT9", "email", "CMPA", {"sent": 1, "delivered": 1, "opened": 1}),
]  # fmt: skip
CONTACTS = [
    contact("S1", "crm:CT1", "call", 2, outcome="answered", duration_s=300, satisfaction=4),
    contact("S2", "loyalty:LM1", "ticket", 20, outcome="pending", unresolved=True),
    contact("S3", "crm:CT1", "chat", 50, duration_s=600, satisfaction=2),
    contact("S4", "crm:CT1", "ticket", 400, satisfaction=5),
]
LATER_MESSAGES = [  # on D and after: must change nothing
    *message_events("M9", "crm:CT1", "email", "CMPE",
                    {"sent": 0, "delivered": 0, "opened": 0, "clicked": 0}, journey="welcome"),
    *message_events("M10", "crm:CT1", "sms", "CMPF", {"sent": -3, "unsubscribed": -3}),
    *message_events("M11", "erp:KH2", "email", "CMPE", {"sent": -1, "delivered": -1}),
]  # fmt: skip
LATER_CONTACTS = [
    contact("S5", "crm:CT1", "call", 0, duration_s=900, satisfaction=1),
    contact("S6", "erp:KH2", "ticket", -2, outcome="open", unresolved=True),
]
FAMILIES = ("eng_", "ecmp_", "svc_")


def _build(lake, messages, contacts) -> dict[str, dict]:
    write_interactions(lake, messages, contacts)
    spec = load_spec()
    table = build_customer_features(read_feature_inputs(lake), spec, AS_OF, expand(spec)).table
    return {row["customer_id"]: row for row in table.to_pylist()}


@pytest.fixture(scope="module")
def snapshots(spark, tmp_path_factory):
    """The snapshot at D without and with the later events (same lakehouse, rebuilt)."""
    from c360.lakehouse import Lakehouse

    lake = Lakehouse(tmp_path_factory.mktemp("interaction_features") / "lake", spark)
    write_customers(lake, IDENTITY, GOLDEN)
    before = _build(lake, MESSAGES, CONTACTS)
    after = _build(lake, MESSAGES + LATER_MESSAGES, CONTACTS + LATER_CONTACTS)
    return before, after


@pytest.fixture(scope="module")
def c1(snapshots):
    return snapshots[0]["C1"]


def test_engagement_per_channel_and_window(c1, snapshots):
    assert [c1[f"eng_sent_{w}"] for w in ("d7", "d30", "d90", "life")] == [2, 3, 4, 5]
    assert [c1[f"eng_delivered_{w}"] for w in ("d7", "d30", "d90", "life")] == [2, 3, 4, 4]
    assert (c1["eng_opened_d7"], c1["eng_clicked_life"], c1["eng_bounced_life"]) == (1, 2, 1)
    assert c1["eng_open_rate_d30"] == pytest.approx(1 / 3)  # M1 of M1, M2, M5
    assert c1["eng_click_rate_life"] == pytest.approx(2 / 4)
    assert c1["eng_sent_mch_email_d30"] == 3 and c1["eng_sent_mch_zalo_life"] == 1
    assert c1["eng_clicked_mch_sms_d90"] == 1 and c1["eng_open_rate_mch_zalo_life"] is None
    assert (c1["eng_unsubscribed_life"], c1["eng_unsubscribed_mch_email_life"]) == (1, 1)
    assert c1["eng_unsubscribed_mch_sms_life"] == 0
    assert c1["eng_days_since_last_open_life"] == 2
    assert (c1["eng_sent_ejrn_welcome_d7"], c1["eng_opened_ejrn_welcome_d7"]) == (1, 1)
    assert c1["eng_opened_ejrn_winback_d30"] == 0
    c2 = snapshots[0]["C2"]
    assert (c2["eng_sent_d7"], c2["eng_opened_mch_push_d7"], c2["eng_open_rate_d7"]) == (1, 1, 1.0)
    assert c2["eng_days_since_last_open_life"] == 1 and c2["eng_unsubscribed_life"] == 0
    assert "sms" not in {n.split("_mch_")[1][:3] for n in c1 if n.startswith("eng_opened_mch")}
    assert sorted(snapshots[0]) == ["C1", "C2"]  # CT9's message belongs to nobody


def test_last_campaigns(c1, snapshots):
    assert (c1["ecmp_sent_lastcmp_n1_life"], c1["ecmp_opened_lastcmp_n1_life"]) == (1, 0)  # CMPD
    assert (c1["ecmp_sent_lastcmp_n2_life"], c1["ecmp_opened_lastcmp_n2_life"]) == (2, 1)  # CMPA
    assert c1["ecmp_open_rate_lastcmp_n2_life"] == pytest.approx(0.5)
    assert c1["ecmp_click_rate_lastcmp_n2_life"] == pytest.approx(0.5)
    assert c1["ecmp_clicked_lastcmp_n3_life"] == 1  # CMPB (sms, clicked)
    assert snapshots[0]["C2"]["ecmp_sent_lastcmp_n1_life"] == 1
    assert snapshots[0]["C2"]["ecmp_sent_lastcmp_n2_life"] == 0


def test_service(c1, snapshots):
    assert [c1[f"svc_contacts_{w}"] for w in ("d30", "d90", "d365", "life")] == [2, 3, 3, 4]
    assert (c1["svc_calls_life"], c1["svc_chats_life"], c1["svc_tickets_life"]) == (1, 1, 2)
    assert (c1["svc_unresolved_tickets_d30"], c1["svc_unresolved_tickets_life"]) == (1, 1)
    assert c1["svc_satisfaction_mean_life"] == pytest.approx(11 / 3)  # 4, 2, 5
    assert c1["svc_satisfaction_mean_d90"] == pytest.approx(3.0)  # 4, 2
    assert c1["svc_rated_contacts_life"] == 3
    assert c1["svc_satisfaction_mean_kind_ticket_life"] == pytest.approx(5.0)
    assert c1["svc_satisfaction_mean_kind_ticket_d365"] is None  # S2 is not rated
    assert (c1["svc_call_seconds_life"], c1["svc_days_since_last_contact_life"]) == (300, 2)
    c2 = snapshots[0]["C2"]
    assert (c2["svc_contacts_life"], c2["svc_days_since_last_contact_life"]) == (0, None)
    assert c2["svc_satisfaction_mean_life"] is None


def test_events_on_or_after_d_change_nothing(snapshots):
    before, after = snapshots
    assert sorted(after) == sorted(before)
    for customer, row in before.items():
        changed = {
            name: (value, after[customer][name])
            for name, value in row.items()
            if name.startswith(FAMILIES) and after[customer][name] != value
        }
        assert changed == {}, customer
