"""Landing zone -> bronze: every kind of broken extract lands where it should, nothing is lost."""

import json
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from c360.bronze import IngestError, ingest_day, read_day
from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_POINTS, TRANSACTIONS
from c360.tables import BRONZE_TABLES, QUARANTINE_REJECTS

DAY = "2026-11-01"
CRM_HEADER = ",".join(CRM_CONTACTS.required_columns)
GOOD_ROW = (
    "C1,Nguyễn Văn An,Nam,01/02/1990,0912345678,an@example.vn,001090000001,"
    '"12 Lê Lợi, Bến Nghé, Quận 1",TP. Hồ Chí Minh,2026-01-01T10:00:00,2026-01-01T10:00:00'
)


def crm_file(*rows: str, header: str = CRM_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def test_good_rows_land_as_strings_with_lineage(land):
    raw = land("crm", DAY, {"contacts.csv": crm_file(GOOD_ROW, GOOD_ROW.replace("C1,", "C2,"))})
    extract = read_day(raw, CRM_CONTACTS, date(2026, 11, 1))
    rows = extract.rows.to_pylist()
    assert [r["contact_id"] for r in rows] == ["C1", "C2"]
    assert rows[0]["address"] == "12 Lê Lợi, Bến Nghé, Quận 1"  # quoted comma kept
    assert rows[0]["date_of_birth"] == "01/02/1990"  # as landed: parsing is silver's job
    assert rows[0]["_source_file"] == "crm/2026-11-01/contacts.csv"
    assert [r["_row_number"] for r in rows] == [2, 3]  # line numbers; the header is line 1
    assert rows[0]["_record_hash"] != rows[1]["_record_hash"]
    assert extract.rejects.num_rows == 0


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("C9,Trần Thị B,Nữ", "field_count: expected 11 fields, found 3"),  # truncated row
        ('C9,"Lê Văn "C",Nam,,,,,,,,', "malformed_csv: ',' expected after '\"'"),  # bad quoting
        (GOOD_ROW + ",surplus", "field_count: expected 11 fields, found 12"),
    ],
)
def test_unparseable_csv_rows_are_quarantined_with_reason_and_raw_text(land, bad_line, reason):
    raw = land("crm", DAY, {"contacts.csv": crm_file(GOOD_ROW, bad_line)})
    extract = read_day(raw, CRM_CONTACTS, date(2026, 11, 1))
    assert extract.rows.num_rows == 1
    [reject] = extract.rejects.to_pylist()
    assert reject["reasons"] == [reason]
    assert reject["raw"] == bad_line
    assert reject["_row_number"] == 3
    assert (reject["layer"], reject["table"]) == ("bronze", "crm_contacts")


def test_invalid_utf8_row_is_quarantined_with_its_bytes_escaped(land):
    content = crm_file(GOOD_ROW).encode() + b"C7,Ph\xe1m,Nam,,,,,,,,\n"  # Latin-1 byte
    raw = land("crm", DAY, {"contacts.csv": content})
    extract = read_day(raw, CRM_CONTACTS, date(2026, 11, 1))
    [reject] = extract.rejects.to_pylist()
    assert reject["reasons"] == ["invalid_utf8: bytes that are not UTF-8"]
    assert reject["raw"] == "C7,Ph\\xe1m,Nam,,,,,,,,"
    assert extract.rows.num_rows == 1


def test_bom_is_tolerated(land):
    raw = land("crm", DAY, {"contacts.csv": b"\xef\xbb\xbf" + crm_file(GOOD_ROW).encode()})
    extract = read_day(raw, CRM_CONTACTS, date(2026, 11, 1))
    assert extract.rows.column("contact_id").to_pylist() == ["C1"]


def test_missing_required_column_fails_the_file_naming_file_and_columns(land):
    header = CRM_HEADER.replace("national_id,", "")
    raw = land("crm", DAY, {"contacts.csv": crm_file("x", header=header)})
    with pytest.raises(
        IngestError,
        match=r"crm/2026-11-01/contacts.csv: missing required columns \['national_id'\]",
    ):
        read_day(raw, CRM_CONTACTS, date(2026, 11, 1))


def test_unknown_extra_column_is_kept(land):
    header = CRM_HEADER + ",consent_sms"
    raw = land("crm", DAY, {"contacts.csv": crm_file(GOOD_ROW + ",yes", header=header)})
    extract = read_day(raw, CRM_CONTACTS, date(2026, 11, 1))
    assert extract.rows.column("consent_sms").to_pylist() == ["yes"]


def test_empty_and_header_only_files_give_no_rows(land):
    raw = land("crm", DAY, {"contacts.csv": "", "contacts_2.csv": crm_file()})
    extract = read_day(raw, CRM_CONTACTS, date(2026, 11, 1))
    assert (extract.rows.num_rows, extract.rejects.num_rows) == (0, 0)
    assert extract.files == ["crm/2026-11-01/contacts.csv", "crm/2026-11-01/contacts_2.csv"]


def test_day_without_success_marker_is_refused(land):
    raw = land("crm", DAY, {"contacts.csv": crm_file(GOOD_ROW)}, complete=False)
    with pytest.raises(IngestError, match="day not complete"):
        read_day(raw, CRM_CONTACTS, date(2026, 11, 1))


def test_source_without_folder_that_day_gives_an_empty_extract(land):
    raw = land("crm", DAY, {"contacts.csv": crm_file(GOOD_ROW)})
    extract = read_day(raw, ERP_CUSTOMERS, date(2026, 11, 1))
    assert extract.rows.num_rows == 0
    assert extract.rows.schema.names[: len(ERP_CUSTOMERS.required_columns)] == list(
        ERP_CUSTOMERS.required_columns
    )


def erp_record(**changes) -> str:
    record = dict.fromkeys(ERP_CUSTOMERS.required_columns, "")
    record |= {"customer_code": "K1", "name": "Trần Thị Bích", "created_date": 20260101}
    record |= changes
    return json.dumps(record, ensure_ascii=False)


def test_jsonl_rows_malformed_json_and_non_objects(land):
    lines = [erp_record(), "{not json", "[1, 2]", "", erp_record(customer_code="K2", vip=True)]
    raw = land("erp", DAY, {"customers.jsonl": "\n".join(lines) + "\n"})
    extract = read_day(raw, ERP_CUSTOMERS, date(2026, 11, 1))
    rows = extract.rows.to_pylist()
    assert [r["customer_code"] for r in rows] == ["K1", "K2"]
    assert rows[0]["created_date"] == "20260101"  # a JSON number lands as its text
    assert rows[1]["vip"] == "true" and rows[0]["vip"] is None  # extra key kept
    rejects = sorted((r["_row_number"], r["reasons"][0]) for r in extract.rejects.to_pylist())
    assert rejects == [
        (2, "malformed_json: Expecting property name enclosed in double quotes"),
        (3, "not_a_json_object: got list"),
    ]


def test_jsonl_missing_a_required_key_in_every_record_fails_the_file(land):
    record = json.loads(erp_record())
    del record["tax_code"]
    raw = land("erp", DAY, {"customers.jsonl": json.dumps(record) + "\n"})
    with pytest.raises(IngestError, match=r"missing required columns \['tax_code'\]"):
        read_day(raw, ERP_CUSTOMERS, date(2026, 11, 1))


def test_parquet_transactions_land_as_text(land, tmp_path):
    columns = {c: ["x"] for c in TRANSACTIONS.required_columns}
    columns |= {"transaction_id": ["T1"], "quantity": [3], "amount": [150000.5]}
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table(columns), path)
    raw = land("transactions", DAY, {"transactions_001.parquet": path.read_bytes()})
    [row] = read_day(raw, TRANSACTIONS, date(2026, 11, 1)).rows.to_pylist()
    assert (row["transaction_id"], row["quantity"], row["amount"]) == ("T1", "3", "150000.5")


def test_corrupt_parquet_fails_the_file(land):
    raw = land("transactions", DAY, {"transactions_001.parquet": b"PAR1 not really"})
    with pytest.raises(IngestError, match=r"transactions_001\.parquet: not a readable Parquet"):
        read_day(raw, TRANSACTIONS, date(2026, 11, 1))


@pytest.mark.spark
def test_ingest_day_is_idempotent_and_accounts_for_every_row(land, rs_lake):
    points_header = ",".join(LOYALTY_POINTS.required_columns)
    content = "\n".join([points_header, "E1,M1,2026-11-01T09:00:00,earn,100,T1", "E2,M1"]) + "\n"
    raw = land("loyalty", DAY, {"points.csv": content, "points_copy.csv": content})
    for _ in range(2):  # the second run replaces the first
        result = ingest_day(rs_lake, raw, LOYALTY_POINTS, date(2026, 11, 1))
    # The same file landed twice under two names: both copies are kept as landed (bronze does
    # not judge); silver keeps one version per entry_id.
    assert (result.rows_read, result.rows_bronze, result.rows_quarantined) == (4, 2, 2)
    assert rs_lake.count(BRONZE_TABLES["loyalty_points"]) == 2
    assert rs_lake.count(QUARANTINE_REJECTS) == 2


@pytest.mark.spark
def test_a_failing_file_writes_nothing_for_that_day(land, rs_lake):
    raw = land("crm", DAY, {"contacts.csv": crm_file(GOOD_ROW)})
    ingest_day(rs_lake, raw, CRM_CONTACTS, date(2026, 11, 1))
    version = rs_lake.version(BRONZE_TABLES["crm_contacts"])
    land("crm", DAY, {"contacts_2.csv": crm_file("x", header="contact_id,full_name")})
    with pytest.raises(IngestError, match="missing required columns"):
        ingest_day(rs_lake, raw, CRM_CONTACTS, date(2026, 11, 1))
    assert rs_lake.version(BRONZE_TABLES["crm_contacts"]) == version
    assert rs_lake.count(BRONZE_TABLES["crm_contacts"]) == 1


def test_record_hashes_are_the_sha256_of_each_rows_named_values_in_name_order():
    import hashlib

    import pyarrow as pa

    from c360.bronze.ingest import record_hashes

    rows = [
        {"b'x": "Lê=Thị", "a": None, "zeta": ""},
        {"b'x": "\x1f\x00", "a": "ễ 😀", "zeta": None},
        {"b'x": None, "a": None, "zeta": None},
    ]
    expected = [
        hashlib.sha256(
            "\x1f".join("\x00" if row[c] is None else f"{c}={row[c]}" for c in sorted(row)).encode(
                "utf-8"
            )
        ).hexdigest()
        for row in rows
    ]
    columns = {c: pa.array([row[c] for row in rows], pa.string()) for c in ("zeta", "b'x", "a")}
    assert record_hashes(columns).to_pylist() == expected
