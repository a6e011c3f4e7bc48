"""``c360 customer show --json`` and ``explain`` against hand-built expectations."""

from __future__ import annotations

import json

import pytest
from view_lake import C1, C2, build_view_lake

from c360.customer_view.profile import CustomerNotFound, customer_profile
from c360.customer_view.store import ViewStore
from pipelines.cli import main


def _cli_json(capsys, *args) -> object:
    assert main(["customer", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_show_json_fields_and_provenance(capsys, view_root):
    profile = _cli_json(capsys, "show", C1, "--lakehouse", str(view_root))
    fields = {f["field"]: f for f in profile["fields"]}
    assert fields["full_name"] == {"field": "full_name", "value": "Nguyễn Văn An",
                                   "source_record": "crm:K1", "source_system": "crm"}  # fmt: skip
    assert fields["email"]["source_record"] == "loyalty:M1"
    assert fields["email"]["source_system"] == "loyalty"
    assert fields["date_of_birth"]["value"] == "1990-05-01"
    assert fields["phone_e164"]["value"] == "+84912345678"


def test_show_json_consent_per_purpose_with_source_and_date(capsys, view_root):
    profile = _cli_json(capsys, "show", C1, "--lakehouse", str(view_root))
    consent = {c["purpose"]: c for c in profile["consent"]}
    assert set(consent) == {"email", "sms", "zalo", "call", "profiling", "third_party_sharing"}
    # the per-purpose columns of the golden record (issue 17's shape)
    assert consent["email"] == {"purpose": "email", "column": "consent_email", "value": True,
                                "status": "granted", "source": "crm:K1",
                                "at": "2026-09-01T09:00:00+00:00"}  # fmt: skip
    assert consent["sms"]["status"] == "withdrawn"
    assert consent["sms"]["source"] == "crm:K1"
    assert consent["sms"]["at"] == "2026-10-30T08:00:00+00:00"
    assert consent["profiling"]["status"] == "no_decision"
    assert consent["profiling"]["source"] is None


def test_show_json_linked_records_with_landed_values_that_differ(capsys, view_root):
    profile = _cli_json(capsys, "show", C1, "--lakehouse", str(view_root))
    records = {r["record_key"]: r for r in profile["linked_records"]}
    assert sorted(records) == ["crm:K1", "loyalty:M1"]
    crm = records["crm:K1"]
    assert crm["standardised"]["phone_e164"] == "+84912345678"
    assert crm["landed"] == {
        "phone": "0912 345 678", "email": "An.Nguyen@Example.vn",
        "national_id": "079 090 012 345", "date_of_birth": "01/05/1990", "gender": "Nam",
        "province": "TP HCM",
    }  # fmt: skip
    assert records["loyalty:M1"]["landed"] == {"phone": "090 111 1222"}


def test_show_json_history_timeline_features_and_segments(capsys, view_root):
    profile = _cli_json(capsys, "show", C1, "--lakehouse", str(view_root))
    history = [(h["event"], h["customer_id"], h["related_customer_id"])
               for h in profile["identity_history"]]  # fmt: skip
    assert history == [("merge", "C0000000003", C1), ("new", C1, None)]
    timeline = profile["timeline"]
    assert (timeline["total"], timeline["page"], timeline["pages"]) == (6, 1, 1)
    rows = [(r["at"][:16], r["kind"], r["id"]) for r in timeline["rows"]]
    assert rows == [
        ("2026-10-25T07:00", "consent_change", "crm:K1:consent_sms"),
        ("2026-10-20T18:00", "loyalty_redeem", "P2"),
        ("2026-10-05T09:30", "refund", "T2"),
        ("2026-10-01T12:00", "loyalty_earn", "P1"),  # same time as T1: kind breaks the tie
        ("2026-10-01T12:00", "purchase", "T1"),
        ("2026-09-01T09:00", "consent_change", "crm:K1:consent_email"),
    ]
    assert timeline["rows"][4]["amount"] == 150000.0 and timeline["rows"][1]["points"] == -10
    assert "T9" not in str(timeline)  # another customer's purchase
    assert profile["features"] == {
        "as_of_date": "2026-11-01",  # the latest snapshot, not 2026-10-01's
        "values": {"rfm_segment": "loyal", "clv_estimate_1y": 1234.5, "loy_tier": "gold",
                   "loy_points_balance": 5, "rec_days_since_last": 27,
                   "rec_top_channel": "store", "rec_top_category": "grocery"},
    }  # fmt: skip
    assert profile["segments"] == {"as_of_date": "2026-11-01", "names": ["vip_south"]}


def test_timeline_is_paged_newest_first(store, view_config):
    small = view_config.model_copy(update={"timeline_page_size": 4})
    first = customer_profile(store, C1, small, page=1)["timeline"]
    second = customer_profile(store, C1, small, page=2)["timeline"]
    assert (first["pages"], len(first["rows"]), len(second["rows"])) == (2, 4, 2)
    assert [r["id"] for r in second["rows"]] == ["T1", "crm:K1:consent_email"]
    assert customer_profile(store, C1, small, page=9)["timeline"]["page"] == 2


def test_without_consent_history_the_timeline_has_no_consent_rows(tmp_path, view_config):
    store = ViewStore(build_view_lake(tmp_path / "old", consent_history=False))
    rows = customer_profile(store, C1, view_config)["timeline"]["rows"]
    assert [r["kind"] for r in rows] == [
        "loyalty_redeem", "refund", "loyalty_earn", "purchase"
    ]  # fmt: skip


def test_show_names_the_survivor_of_a_retired_id(store, view_config, capsys, view_root):
    with pytest.raises(CustomerNotFound, match="merged into C0000000001"):
        customer_profile(store, "C0000000003", view_config)
    assert main(["customer", "show", "C0000000003", "--lakehouse", str(view_root)]) == 2
    assert "merged into C0000000001" in capsys.readouterr().err


def test_show_text_output_has_every_section(capsys, view_root):
    assert main(["customer", "show", C2, "--lakehouse", str(view_root)]) == 0
    out = capsys.readouterr().out
    for section in ("fields:", "consent:", "linked records:", "identity history:",
                    "timeline (page 1/1, 2 events)", "features (as of 2026-11-01)",
                    "segments (as of 2026-11-01): winback"):  # fmt: skip
        assert section in out


def test_explain_json_waterfall_and_refusal(capsys, view_root):
    explanation = _cli_json(capsys, "explain", C1, "--lakehouse", str(view_root))
    (accepted,) = explanation["accepted"]
    assert (accepted["record_key_l"], accepted["record_key_r"]) == ("crm:K1", "loyalty:M1")
    steps = [(s["name"], s["level"], s["log2_bayes_factor"]) for s in accepted["waterfall"]]
    assert steps == [("prior", None, -0.5), ("given_name", "exact", 6.0),
                     ("email", "exact", 9.0), ("phone", "else", -2.0)]  # fmt: skip
    (refused,) = explanation["refused"]
    assert refused["reason"] == "guard.personal_evidence"
    assert "personal evidence" in refused["reason_text"]
    assert (refused["customer_id_l"], refused["customer_id_r"]) == (C2, C1)
    text_code = main(["customer", "explain", C1, "--lakehouse", str(view_root)])
    text = capsys.readouterr().out
    assert (
        text_code == 0 and "given_name  exact  +6.00" in text and "guard.personal_evidence" in text
    )


def test_commands_fail_clearly_without_a_lakehouse(tmp_path, capsys):
    assert main(["customer", "show", C1, "--lakehouse", str(tmp_path / "none")]) == 2
    assert "run `c360 run` first" in capsys.readouterr().err
