"""Erasure requests, the suppression hashes, the table declarations and the model pruning."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from c360.contract import CRM_CONTACTS, TRANSACTIONS
from c360.lakehouse import Lakehouse
from c360.privacy.audit import overdue_requests
from c360.privacy.model import prune_term_frequencies
from c360.privacy.requests import ErasureRequestError, read_requests, write_request
from c360.privacy.tables import UnknownTableError, tables_on_disk
from c360.privacy_rules import (
    PrivacyConfigError,
    identifier_hash,
    load_privacy_config,
    row_hashes,
    split_erased,
    standardised_identifier,
    suppression_salt,
)
from c360.tables import all_tables


def test_every_table_declares_how_it_names_a_person():
    undeclared = [name for name, table in all_tables().items() if table.person is None]
    assert undeclared == []


def test_a_table_on_disk_without_an_erasure_rule_stops_the_stage(tmp_path):
    from deltalake import write_deltalake

    # a gold table nobody declared in c360/tables.py (one added later without an erasure rule)
    write_deltalake(str(tmp_path / "gold" / "churn_scores"), pa.table({"customer_id": ["C1"]}))
    write_deltalake(str(tmp_path / "gold" / "golden_records"), pa.table({"customer_id": ["C1"]}))
    with pytest.raises(UnknownTableError, match=r"gold/churn_scores.*person=PersonKey"):
        tables_on_disk(tmp_path)
    (tmp_path / "gold" / "churn_scores").rename(tmp_path / "gold_churn_scores_moved")
    with pytest.raises(UnknownTableError, match="gold_churn_scores_moved"):
        tables_on_disk(tmp_path)


def test_identifiers_are_standardised_as_silver_does():
    assert standardised_identifier("phone", "(+84) 168-812-3456") == "+84388123456"
    assert standardised_identifier("phone", "0388 123 456") == "+84388123456"
    assert standardised_identifier("email", "  An.Nguyen@GMAIL.com ") == "an.nguyen@gmail.com"
    assert standardised_identifier("national_id", "079.090.012.345") == "079090012345"
    assert standardised_identifier("source_record", " CRM : CT1 ") == "crm:CT1"
    assert standardised_identifier("source_record", "CT1") is None


def test_hashes_are_salted_and_hold_no_value():
    one = identifier_hash("phone", "+84388123456", b"salt-a")
    assert one == identifier_hash("phone", "+84388123456", b"salt-a")
    assert one != identifier_hash("phone", "+84388123456", b"salt-b")
    assert "388123456" not in one and len(one) == 64


def test_the_salt_comes_from_the_environment(monkeypatch):
    env = load_privacy_config().erasure.salt_env
    monkeypatch.delenv(env, raising=False)
    with pytest.raises(PrivacyConfigError, match=env):
        suppression_salt()
    monkeypatch.setenv(env, "s3cret")
    assert suppression_salt() == b"s3cret"


def test_rows_carrying_a_suppressed_identifier_are_split_off(monkeypatch):
    monkeypatch.setenv(load_privacy_config().erasure.salt_env, "s")
    rows = pa.table(
        {
            "contact_id": ["CT1", "CT2", "CT3"],
            "phone": ["0388 123 456", "0912345678", None],
            "email": [None, None, "x@y.vn"],
            "national_id": [None, None, None],
        }
    )
    suppressed = frozenset({identifier_hash("phone", "+84388123456", b"s"),
                            identifier_hash("source_record", "crm:CT3", b"s")})  # fmt: skip
    kept, erased = split_erased(CRM_CONTACTS, rows, suppressed)
    assert kept.column("contact_id").to_pylist() == ["CT2"]
    assert erased.column("contact_id").to_pylist() == ["CT1", "CT3"]
    refs = pa.table({"customer_ref_type": ["crm", "erp"], "customer_ref": ["CT3", "CT3"]})
    hashes = row_hashes(TRANSACTIONS, refs, b"s")
    assert [bool(h & suppressed) for h in hashes] == [True, False]


def test_request_files_are_validated_naming_file_and_line(tmp_path):
    request_id = write_request(tmp_path, "phone", "0388 123 456")
    [request] = read_requests(tmp_path)
    assert (request.request_id, request.kind, request.value) == (
        request_id,
        "phone",
        "+84388123456",
    )
    assert "388" not in repr(request)
    bad = tmp_path / "privacy" / "2026-11-05" / "erasure_requests_bad.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("request_id,received_at,kind,value\nr2,yesterday,email,a@b.vn\n", "utf-8")
    with pytest.raises(
        ErasureRequestError, match=r"erasure_requests_bad.csv line 2: .*received_at"
    ):
        read_requests(tmp_path)
    with pytest.raises(ErasureRequestError, match="not a usable email"):
        write_request(tmp_path, "email", "not-an-address")


def test_an_open_request_past_the_deadline_is_overdue(tmp_path):
    lake = Lakehouse(tmp_path / "lake", None, writer="delta-rs")
    landed = datetime(2026, 11, 1, tzinfo=UTC)
    write_request(tmp_path / "raw", "email", "a@b.vn", now=landed)
    assert overdue_requests(lake, tmp_path / "raw", 72, landed + timedelta(hours=71)) == []
    [late] = overdue_requests(lake, tmp_path / "raw", 72, landed + timedelta(hours=73))
    assert late.kind == "email"


def test_the_saved_model_keeps_no_rare_term_frequency(tmp_path):
    folder = tmp_path / "splink"
    folder.mkdir()
    model = {"comparisons": [{"tf_family_name": {"nguyen": 40, "rare name": 1}, "m": 0.9}]}
    (folder / "v1.json").write_text(json.dumps(model), "utf-8")
    assert prune_term_frequencies(tmp_path, minimum=5) == 1
    saved = json.loads((folder / "v1.json").read_text("utf-8"))
    assert saved["comparisons"][0]["tf_family_name"] == {"nguyen": 40}
    assert prune_term_frequencies(tmp_path, minimum=5) == 0


def test_quarantined_raw_text_is_matched_by_record_id_and_standardised_identifiers():
    from c360.privacy.resolve import Person
    from c360.privacy.tables import raw_names_person

    person = Person(record_keys={"crm:CT7"})
    person.identifiers["phone"].add("+84388123456")
    person.identifiers["email"].add("an@x.vn")
    assert raw_names_person('{"contact_id": "CT7", "phone": null}', person)
    assert raw_names_person("CT9,Nguyen An,0388.123.456,,", person)  # phone in another spelling
    assert raw_names_person('{"member_id": "LM1", "email": " AN@X.VN "}', person)
    assert not raw_names_person("CT70,Tran Binh,0912345678,b@y.vn", person)
    assert not raw_names_person(None, person)
