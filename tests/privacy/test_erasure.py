"""Right to be forgotten (issue 17, Done when): two customers erased from a lakehouse with several
landing days and feature snapshots; no byte of theirs is left under the root, every other
customer is unchanged, and a re-landed extract of one of them goes to quarantine as `erased`."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from c360.lakehouse import Lakehouse
from c360.standardise import standardise_phone
from c360.tables import (
    BRONZE_TABLES,
    GOLD_CONSENT_HISTORY,
    GOLD_CUSTOMER_FEATURES,
    GOLD_GOLDEN_RECORDS,
    GOLD_IDENTITY_MAP,
    GOLD_PRIVACY_REQUESTS,
    PRIVACY_SUPPRESSION,
    QUARANTINE_REJECTS,
    SILVER_PERSON_RECORDS,
)
from pipelines.cli import main as cli
from pipelines.runner import build_feature_snapshots, run_pipeline

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SALT = "test-salt-not-a-secret"
RELANDED_DAY = date(2026, 11, 3)
PER_CUSTOMER_TABLES = (GOLD_GOLDEN_RECORDS, GOLD_IDENTITY_MAP, GOLD_CUSTOMER_FEATURES,
                       GOLD_CONSENT_HISTORY)  # fmt: skip
IDENTITY_COLUMNS = ("full_name", "phone_e164", "email", "national_id")


def _rows_by_customer(lake: Lakehouse, table, customers: set[str]) -> list[str]:
    """Rows of ``table`` not belonging to ``customers``, as sorted comparable strings."""
    data = lake.read_arrow(table)
    keep = pc.invert(
        pc.is_in(data.column("customer_id"), value_set=pc.cast(list(customers), "string"))
    )
    return sorted(json.dumps(r, default=str, sort_keys=True) for r in data.filter(keep).to_pylist())


def _pick(lake: Lakehouse) -> tuple[dict, dict]:
    """Customer A (one CRM record, found by phone) and B (found by national ID), both with
    identifiers nobody else shares."""
    golden = lake.read_arrow(GOLD_GOLDEN_RECORDS).to_pylist()
    records = lake.read_arrow(SILVER_PERSON_RECORDS).to_pylist()
    mapping = {f"{r['source_system']}:{r['source_record_id']}": r["customer_id"]
               for r in lake.read_arrow(GOLD_IDENTITY_MAP).to_pylist()}  # fmt: skip
    owners: dict[tuple[str, str], set[str]] = {}
    for r in records:
        for column in IDENTITY_COLUMNS:
            if r[column]:
                owners.setdefault((column, r[column]), set()).add(mapping[r["record_key"]])

    def unique(row: dict, columns) -> bool:
        return all(row[c] and owners[(c, row[c])] == {row["customer_id"]} for c in columns)

    a = next(g for g in golden if g["linked_records_crm"] == 1 and g["linked_records_erp"] == 0
             and unique(g, ("phone_e164", "full_name")))  # fmt: skip
    b = next(g for g in golden if g["customer_id"] != a["customer_id"]
             and g["linked_records_erp"] >= 1
             and unique(g, ("national_id", "full_name")))  # fmt: skip
    return a, b


def _identifiers(lake: Lakehouse, customers: set[str]) -> set[str]:
    """Every landed and standardised identifier and name of the customers' records that no
    other customer shares (bronze as landed, silver as standardised)."""
    mapping = {f"{r['source_system']}:{r['source_record_id']}": r["customer_id"]
               for r in lake.read_arrow(GOLD_IDENTITY_MAP).to_pylist()}  # fmt: skip
    mine, others = set(), set()
    for r in lake.read_arrow(SILVER_PERSON_RECORDS).to_pylist():
        target = mine if mapping[r["record_key"]] in customers else others
        target |= {str(r[c]) for c in IDENTITY_COLUMNS if r[c]}
        target |= {i.partition(":")[2] for i in r["social_ids"] or []}  # the account IDs
        target.add(r["source_record_id"])
    # with the generator's device and social IDs (issue 20): identifiers of the person too
    landed = {"crm_contacts": ("contact_id", "full_name", "phone", "email", "national_id",
                               "device_id", "social_ids"),
              "erp_customers": ("customer_code", "name", "phone", "email", "national_id",
                                "device_id", "social_ids"),
              "loyalty_members": ("member_id", "full_name", "phone", "email", "device_id",
                                  "social_ids")}  # fmt: skip
    keys = {"crm_contacts": "crm", "erp_customers": "erp", "loyalty_members": "loyalty"}
    for name, columns in landed.items():
        for r in lake.read_arrow(BRONZE_TABLES[name]).to_pylist():
            owner = mapping.get(f"{keys[name]}:{r[columns[0]]}")
            target = mine if owner in customers else others
            target |= {r[c].strip() for c in columns if r.get(c) and r[c].strip()}
    return {v for v in mine - others if len(v) >= 6}


def _scan(root: Path, needles: set[str]) -> list[str]:
    """Every file under ``root`` (parquet referenced or not, logs, JSON, HTML, CSV) holding a
    needle as UTF-8 or JSON-escaped bytes."""
    forms = {n.encode() for n in needles} | {json.dumps(n)[1:-1].encode() for n in needles}
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [str(path.relative_to(root)) for f in forms if f in data][:1]
    return hits


@pytest.fixture(scope="module")
def erased(pipeline_run, tmp_path_factory, spark):
    root = tmp_path_factory.mktemp("erasure")
    raw = root / "raw"
    shutil.copytree(pipeline_run.raw, raw)
    lake_root = pipeline_run.copy_lake(root / "lake")
    overrides = {"raw_root": str(raw), "lakehouse_root": str(lake_root)}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("C360_PRIVACY_SALT", SALT)
        build_feature_snapshots(overrides, [date(2026, 11, 1), date(2026, 11, 2)])
        lake = Lakehouse(lake_root, None, writer="delta-rs")
        from c360.sql_endpoint.views import snapshot_table

        snapshot_table(lake_root, "gold", "golden_records")  # the SQL endpoint's hard links
        a, b = _pick(lake)
        customers = {a["customer_id"], b["customer_id"]}
        needles = _identifiers(lake, customers)
        before = {
            t.qualified_name: _rows_by_customer(lake, t, customers) for t in PER_CUSTOMER_TABLES
        }
        crm_id = next(
            r["source_record_id"]
            for r in lake.read_arrow(GOLD_IDENTITY_MAP).to_pylist()
            if r["customer_id"] == a["customer_id"] and r["source_system"] == "crm"
        )
        national = str(b["national_id"])
        phone = (
            "+84 " + a["phone_e164"][3:6] + "." + a["phone_e164"][6:9] + "." + a["phone_e164"][9:]
        )
        assert standardise_phone(phone)[0] == a["phone_e164"]
        spaced_id = " ".join(national[i : i + 3] for i in range(0, len(national), 3))
        outputs = []
        for flag, value in (("--phone", phone), ("--national-id", spaced_id)):
            assert cli(["forget", "--raw", str(raw), flag, value]) == 0
            outputs.append(value)
        summary = run_pipeline(overrides, stages=["privacy"])
        yield {
            "raw": raw, "lake_root": lake_root, "lake": lake, "customers": customers,
            "needles": needles, "before": before, "crm_record": crm_id,
            "request_values": outputs, "summary": summary, "env": env, "overrides": overrides,
        }  # fmt: skip


def test_forget_prints_the_request_id_and_never_the_value(erased, capsys, tmp_path):
    raw = tmp_path / "raw"  # not the module's landing zone: this request is never run
    assert cli(["forget", "--raw", str(raw), "--email", "An.Nguyen@Example.com"]) == 0
    out = capsys.readouterr().out
    assert "erasure request er-" in out
    assert "example.com" not in out.lower()
    assert cli(["forget", "--raw", str(raw), "--phone", "123"]) == 1
    assert cli(["forget", "--raw", str(raw), "--phone", "0388123456", "--email", "a@b.vn"]) == 2


def test_no_byte_of_the_erased_people_is_left_under_the_lakehouse(erased):
    needles = erased["needles"]
    assert len(needles) >= 6  # names, phones, national ID, record IDs of both
    assert _scan(erased["lake_root"], needles) == []


def test_every_other_customer_is_unchanged(erased):
    lake, customers = erased["lake"], erased["customers"]
    golden_ids = set(lake.read_arrow(GOLD_GOLDEN_RECORDS).column("customer_id").to_pylist())
    assert not golden_ids & customers
    for table in PER_CUSTOMER_TABLES:
        assert _rows_by_customer(lake, table, customers) == erased["before"][table.qualified_name]
    snapshots = set(lake.read_arrow(GOLD_CUSTOMER_FEATURES).column("as_of_date").to_pylist())
    assert snapshots == {date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)}


def test_time_travel_cannot_bring_them_back(erased):
    path = erased["lake_root"] / "gold" / "golden_records"
    table = DeltaTable(str(path))
    with pytest.raises(Exception):  # noqa: B017 - delta-rs raises a generic error
        DeltaTable(str(path), version=table.version() - 1).to_pyarrow_table()
    assert not (erased["lake_root"] / "_sql" / "snapshots").exists()


def test_the_audit_records_counts_and_no_values(erased):
    lake = erased["lake"]
    requests = lake.read_arrow(GOLD_PRIVACY_REQUESTS).to_pylist()
    assert sorted(r["kind"] for r in requests) == ["national_id", "phone"]
    for request in requests:
        assert request["status"] == "completed"
        assert request["customers_erased"] == 1
        deleted = dict(request["rows_deleted"])
        assert deleted["gold.golden_records"] == 1
        assert deleted["gold.customer_features"] == 3  # one row per snapshot
        assert deleted["silver.person_records"] >= 1
        assert request["completed_at"] >= request["received_at"]
    text = json.dumps(requests, default=str)
    assert not any(v in text for v in erased["needles"] | set(erased["request_values"]))
    hashes = lake.read_arrow(PRIVACY_SUPPRESSION)
    assert hashes.num_rows >= 4 and set(hashes.column("kind").to_pylist()) >= {
        "source_record", "phone", "national_id"}  # fmt: skip
    privacy = next(s for s in erased["summary"].stages if s.stage == "privacy")
    assert privacy.checks_failed == 0 and privacy.checks_passed == 1


def test_a_relanded_extract_of_an_erased_person_goes_to_quarantine_as_erased(erased):
    raw, record_id = erased["raw"], erased["crm_record"]
    landed_files = sorted((raw / "crm").glob("2026-11-0[12]/contacts*.csv"))
    lines = [line for f in landed_files for line in f.read_text("utf-8").splitlines()[1:]]
    header = landed_files[0].read_text("utf-8").splitlines()[0]
    theirs = [line for line in lines if line.split(",")[0].strip(' "') == record_id]
    assert theirs, (record_id, len(lines), [f.name for f in landed_files], lines[:1])
    day = raw / "crm" / RELANDED_DAY.isoformat()
    day.mkdir(parents=True)
    other = next(line for line in lines if record_id not in line)
    extract = "\n".join([header, *theirs, other]) + "\n"
    (day / "contacts_relanded.csv").write_text(extract, "utf-8")
    (day / "_SUCCESS").write_bytes(b"")
    run_pipeline(erased["overrides"], days=[RELANDED_DAY], stages=["bronze"])
    lake = erased["lake"]
    rejects = lake.read_arrow(QUARANTINE_REJECTS).to_pylist()
    mine = [
        r for r in rejects if r["_ingest_date"] == RELANDED_DAY and r["table"] == "crm_contacts"
    ]
    assert [r["reasons"] for r in mine] == [["erased"]] * len(theirs)
    assert all(r["raw"] is None for r in mine)
    landed = lake.read_arrow(BRONZE_TABLES["crm_contacts"]).to_pylist()
    todays = [r["contact_id"] for r in landed if r["_ingest_date"] == RELANDED_DAY]
    assert todays == [other.split(",")[0]]  # the other person's row is ingested
    assert _scan(erased["lake_root"], erased["needles"]) == []
