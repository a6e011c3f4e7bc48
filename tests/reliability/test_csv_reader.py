"""A CSV reader that cannot lose a file (issue 14): unclosed quotes, Unicode line separators,
line numbers, and row accounting counted independently at each step.

Every crafted file states how many records it holds; the tests assert that rows in bronze +
rows in quarantine equal them and that no valid row is rejected.
"""

from __future__ import annotations

import csv
import json
from datetime import date

import dagster as dg
import pytest

from assets.bronze import BRONZE_ASSETS
from assets.partitions import LANDING_DAYS
from assets.resources import build_resources
from c360.bronze.ingest import _count_written, ingest_day, read_day
from c360.bronze.readers import AccountingError, ParsedFile, count_lines, parse_csv, split_lines
from c360.config import load_settings
from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS, SourceEntity
from c360.tables import BRONZE_TABLES, QUARANTINE_REJECTS

DAY = "2026-11-01"
THE_DAY = date(2026, 11, 1)
MEMBERS_HEADER = ",".join(LOYALTY_MEMBERS.required_columns)
CRM_HEADER = ",".join(CRM_CONTACTS.required_columns)


def member(i: int, name: str = "Lê Thị Hồng") -> str:
    return f"M{i},CARD{i},{name},0901234567,,1990-05-06,Nữ,gold,active,2026-01-01,2026-01-01"


def members_file(rows: list[str], newline: str = "\n") -> str:
    return newline.join([MEMBERS_HEADER, *rows]) + newline


def landed(extract) -> tuple[list[str], list[int]]:
    """Member ids and line numbers of the rows that landed."""
    return extract.rows.column("member_id").to_pylist(), extract.rows.column(
        "_row_number"
    ).to_pylist()


# ---- a quote that never closes: one bad row, the others land ----------------------------------


def test_a_stray_quote_on_line_11_of_527_rows_rejects_one_row_not_518(land):
    rows = [member(i) for i in range(1, 528)]  # 527 records on lines 2..528
    rows[9] = member(10, name='"Lê Thị Hồng')  # line 11: a quote opens and never closes
    rows[100] = member(101, name='"Trần, Thị B"')  # later quoted fields, as real files have
    rows[300] = member(301, name='"Phạm ""Bé"" Na"')
    raw = land("loyalty", DAY, {"members.csv": members_file(rows)})
    extract = read_day(raw, LOYALTY_MEMBERS, THE_DAY)
    # before: 9 rows landed and one reject held the other 518 lines
    ids, lines = landed(extract)
    assert ids == [f"M{i}" for i in range(1, 528) if i != 10]  # no valid row rejected
    assert lines == [i + 1 for i in range(1, 528) if i != 10]  # line numbers stay right
    [reject] = extract.rejects.to_pylist()
    assert reject["_row_number"] == 11
    assert reject["raw"] == rows[9]
    assert reject["reasons"] == [
        "unclosed_quote: column full_name (field 3) opens a quote on line 11 that never "
        "closes; parsing resumed at line 12"
    ]
    assert extract.rows.num_rows + extract.rejects.num_rows == 527
    assert extract.rows.to_pylist()[99]["full_name"] == "Trần, Thị B"
    assert extract.rows.to_pylist()[299]["full_name"] == 'Phạm "Bé" Na'


def test_a_stray_quote_with_no_other_quote_in_the_file_still_rejects_one_row(land):
    rows = [member(i) for i in range(1, 31)]
    rows[4] = member(5).replace(",0901234567,", ',"0901234567,')  # phone column, line 6
    raw = land("loyalty", DAY, {"members.csv": members_file(rows)})
    extract = read_day(raw, LOYALTY_MEMBERS, THE_DAY)
    assert landed(extract)[0] == [f"M{i}" for i in range(1, 31) if i != 5]
    [reject] = extract.rejects.to_pylist()
    assert (reject["_row_number"], reject["raw"]) == (6, rows[4])
    assert reject["reasons"][0].startswith("unclosed_quote: column phone (field 4) opens a quote")
    assert "0901234567" not in reject["reasons"][0]  # the reason names, never shows, a value


def test_a_stray_quote_on_the_last_line_is_one_reject_to_the_end(land):
    rows = [member(1), member(2), member(3, name='"Hồng')]
    raw = land("loyalty", DAY, {"members.csv": members_file(rows)})
    extract = read_day(raw, LOYALTY_MEMBERS, THE_DAY)
    assert landed(extract) == (["M1", "M2"], [2, 3])
    [reject] = extract.rejects.to_pylist()
    assert reject["_row_number"] == 4
    assert reject["reasons"] == [
        "unclosed_quote: column full_name (field 3) opens a quote on line 4 that never "
        "closes; it runs to the end of the file"
    ]


def test_two_stray_quotes_reject_two_rows(land):
    rows = [member(i) for i in range(1, 21)]
    rows[2] = member(3, name='"A')
    rows[3] = member(4, name='"B')  # the next line opens another: both rejected, alone
    raw = land("loyalty", DAY, {"members.csv": members_file(rows)})
    extract = read_day(raw, LOYALTY_MEMBERS, THE_DAY)
    assert landed(extract)[0] == [f"M{i}" for i in range(1, 21) if i not in (3, 4)]
    assert [r["_row_number"] for r in extract.rejects.to_pylist()] == [4, 5]


def test_a_quoted_field_over_two_lines_with_a_field_too_many_is_one_reject(land):
    # a real multi-line record (a newline inside quotes) whose field count is wrong: one
    # reject for its two lines, not two rejects of half a record each
    bad = member(2, name='"Lê\nHồng"') + ",surplus"
    raw = land("loyalty", DAY, {"members.csv": members_file([member(1), bad, member(3)])})
    extract = read_day(raw, LOYALTY_MEMBERS, THE_DAY)
    assert landed(extract) == (["M1", "M3"], [2, 5])
    [reject] = extract.rejects.to_pylist()
    assert (reject["_row_number"], reject["raw"]) == (3, bad)
    assert reject["reasons"] == ["field_count: expected 11 fields, found 12"]


# ---- line and paragraph separators inside a field are data -------------------------------------


@pytest.mark.parametrize(
    "separator",
    ["\u2028", "\u2029", "\u0085", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e"],
    ids=["U+2028", "U+2029", "U+0085", "form-feed", "vertical-tab", "FS", "GS", "RS"],
)
def test_unicode_line_separators_inside_a_field_are_data(land, separator):
    # before: str.splitlines cut the record in two (both halves rejected, lines shifted)
    rows = [
        member(1),
        member(2, name=f"Lê{separator}Hồng"),  # unquoted
        member(3, name=f'"Trần,{separator}Bích"'),  # quoted
        member(4),
    ]
    raw = land("loyalty", DAY, {"members.csv": members_file(rows)})
    extract = read_day(raw, LOYALTY_MEMBERS, THE_DAY)
    assert landed(extract) == (["M1", "M2", "M3", "M4"], [2, 3, 4, 5])
    names = extract.rows.column("full_name").to_pylist()
    assert names[1:3] == [f"Lê{separator}Hồng", f"Trần,{separator}Bích"]
    assert extract.rejects.num_rows == 0


def test_a_json_line_holding_u2028_is_one_record(land):
    record = dict.fromkeys(ERP_CUSTOMERS.required_columns, "")
    lines = [
        json.dumps(record | {"customer_code": "K1", "name": "Lê\u2028Hồng"}, ensure_ascii=False),
        json.dumps(record | {"customer_code": "K2", "billing_address": "a\x0cb\u0085c"},
                   ensure_ascii=False),
        "{broken",
        json.dumps(record | {"customer_code": "K3"}),
    ]  # fmt: skip
    raw = land("erp", DAY, {"customers.jsonl": "\r\n".join(lines) + "\r\n"})
    extract = read_day(raw, ERP_CUSTOMERS, THE_DAY)
    codes = extract.rows.column("customer_code").to_pylist()
    assert (codes, extract.rows.column("_row_number").to_pylist()) == (
        ["K1", "K2", "K3"],
        [1, 2, 4],
    )
    assert extract.rows.column("name").to_pylist()[0] == "Lê\u2028Hồng"
    assert [r["_row_number"] for r in extract.rejects.to_pylist()] == [3]


# ---- today's good handling is kept -------------------------------------------------------------


def test_bom_crlf_embedded_newline_field_count_and_bad_bytes_in_one_file(land):
    rows = [
        member(1),
        member(2, name='"Lê\r\nHồng"'),  # a newline inside quotes: one record over two lines
        "M3,CARD3,truncated",  # wrong field count
        member(4),
    ]
    content = b"\xef\xbb\xbf" + members_file(rows, newline="\r\n").encode()
    content += member(5, name="PhXm").encode().replace(b"X", b"\xe1") + b"\r\n"  # Latin-1 byte
    content += member(6).encode() + b"\r\n"
    raw = land("loyalty", DAY, {"members.csv": content})
    extract = read_day(raw, LOYALTY_MEMBERS, THE_DAY)
    assert landed(extract) == (["M1", "M2", "M4", "M6"], [2, 3, 6, 8])
    assert extract.rows.column("full_name").to_pylist()[1] == "Lê\r\nHồng"
    rejects = [(r["_row_number"], r["reasons"]) for r in extract.rejects.to_pylist()]
    assert rejects == [
        (5, ["field_count: expected 11 fields, found 3"]),
        (7, ["invalid_utf8: bytes that are not UTF-8"]),
    ]
    [account] = extract.accounts
    assert (account.lines, account.records) == (8, 6)  # header + 7 lines, 6 records


# ---- row accounting, counted independently ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"", 0),
        (b"a", 1),
        (b"a\n", 1),
        (b"a\r\nb\r\n", 2),
        (b"a\rb\r", 2),
        (b"a\n\nb", 3),
        ("a\u2028b\x0cc\x85d\n".encode(), 1),  # only CR, LF and CRLF end a line
    ],
)
def test_physical_lines_are_counted_from_the_bytes(data, lines):
    assert count_lines(data) == lines
    assert len(split_lines(data.decode())) == lines


def test_a_parser_that_loses_a_line_raises_instead_of_absorbing_it(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(members_file([member(1), member(2)]), encoding="utf-8")
    parsed = parse_csv(path, "loyalty/x/members.csv", LOYALTY_MEMBERS)
    parsed.check_accounting()  # 3 lines: header + 2 rows
    parsed.lines += 1  # as if the file had a line the parser never saw
    with pytest.raises(AccountingError, match=r"4 lines in the file, but the parser accounted"):
        parsed.check_accounting()
    broken = ParsedFile("f.csv", ["a"], {"a": ["1", "2"]}, [2], lines=2, lines_skipped=1)
    broken.row_lines = 1
    with pytest.raises(AccountingError, match=r"column lengths \[1, 2\]"):
        broken.check_accounting()


# Crafted files: (entity, file name, content, records in the file, ids that are valid rows).
CRAFTED: list[tuple[SourceEntity, str, str, int, list[str]]] = [
    (
        LOYALTY_MEMBERS,
        "members.csv",
        members_file([member(1), member(2, name='"Lê'), member(3), member(4, name="A\u2028B")]),
        4,
        ["M1", "M3", "M4"],
    ),
    (
        LOYALTY_MEMBERS,
        "members_2.csv",
        members_file([member(5, name='"Lê\nHồng"'), "", "M6,short", member(7)]),
        3,  # one over two lines, a blank line (not a record), a short one, a good one
        ["M5", "M7"],
    ),
    (
        CRM_CONTACTS,
        "contacts.csv",
        CRM_HEADER
        + "\n"
        + "C1,An,Nam,,,,,,,,\n"
        + 'C2,"Bình,Nam,,,,,,,,\n'
        + "C3,Chi,Nữ,,,,,,,,\n",
        3,
        ["C1", "C3"],
    ),
]


@pytest.mark.spark
def test_rows_landed_equal_rows_in_bronze_plus_quarantine_for_every_crafted_file(
    land, rs_lake, spark
):
    for entity, name, content, *_ in CRAFTED:
        raw = land(entity.source, DAY, {name: content})
    for entity in (LOYALTY_MEMBERS, CRM_CONTACTS):
        result = ingest_day(rs_lake, raw, entity, THE_DAY)
        bronze = rs_lake.read_arrow(BRONZE_TABLES[entity.name])
        rejects = rs_lake.read_arrow(QUARANTINE_REJECTS).to_pylist()
        for crafted_entity, file_name, _, records, valid in CRAFTED:
            if crafted_entity != entity:
                continue
            source_file = f"{entity.source}/{DAY}/{file_name}"
            rows = [r for r in bronze.to_pylist() if r["_source_file"] == source_file]
            quarantined = [
                r for r in rejects if r["_source_file"] == source_file and r["table"] == entity.name
            ]
            assert len(rows) + len(quarantined) == records, file_name
            assert sorted(r[entity.key_column] for r in rows) == valid, file_name
        assert result.rows_read == result.rows_bronze + result.rows_quarantined


@pytest.mark.spark
def test_a_count_back_that_disagrees_with_what_was_written_raises(land, rs_lake, spark):
    raw = land("loyalty", DAY, {"members.csv": members_file([member(1), member(2)])})
    ingest_day(rs_lake, raw, LOYALTY_MEMBERS, THE_DAY)
    extract = read_day(raw, LOYALTY_MEMBERS, THE_DAY)
    extract.rows = extract.rows.slice(0, 1)  # as if one row had not reached the table
    with pytest.raises(AccountingError, match=r"wrote 1 rows and 0 rejects, but the tables now"):
        _count_written(rs_lake, extract)


@pytest.mark.spark
def test_the_bronze_metadata_carries_the_accounting(land, tmp_path, spark):
    rows = [member(1), member(2, name='"Lê'), member(3)]
    raw = land("loyalty", DAY, {"members.csv": members_file(rows)})
    settings = load_settings(
        environ={}, overrides={"raw_root": str(raw), "lakehouse_root": str(tmp_path / "lake")}
    )
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(LANDING_DAYS.name, [DAY])
    result = dg.materialize(
        [a for a in BRONZE_ASSETS if a.key.path[-1] == "loyalty_members"],
        instance=instance,
        resources=build_resources(settings),
        partition_key=DAY,
    )
    [materialization] = result.asset_materializations_for_node("bronze__loyalty_members")
    figures = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
    assert (figures["lines_read"], figures["rows_read"]) == (4, 3)
    assert (figures["rows"], figures["rows_quarantined"], figures["rows_accounted"]) == (2, 1, True)
    assert figures["warnings"] == []
    assert f"| loyalty/{DAY}/members.csv | 4 | 2 | 1 |" in figures["files_accounting"]


def test_a_record_still_open_after_the_line_limit_is_cut(land, monkeypatch):
    monkeypatch.setattr("c360.bronze.readers.MAX_RECORD_LINES", 3)
    long_name = '"' + "\n".join(["Lê"] * 5) + '"'  # a quoted field over 5 lines: above the limit
    raw = land(
        "loyalty", DAY, {"members.csv": members_file([member(1, name=long_name), member(2)])}
    )
    extract = read_day(raw, LOYALTY_MEMBERS, THE_DAY)
    assert landed(extract)[0] == ["M2"]
    reasons = [
        (r["_row_number"], r["reasons"][0].split(":")[0]) for r in extract.rejects.to_pylist()
    ]
    assert reasons[0] == (2, "unclosed_quote")  # nothing lost: every line is in some reject
    assert sum(len(r["raw"].split("\n")) for r in extract.rejects.to_pylist()) == 5


@pytest.mark.spark
def test_a_generated_landing_zone_with_faults_keeps_every_record(tmp_path, spark):
    from c360.contract import day_folder
    from c360.sample import GeneratorConfig, generate_landing_zone, load_noise_config
    from pipelines.runner import run_pipeline

    config = GeneratorConfig(
        people=200, days=1, start=THE_DAY, seed=5, noise=load_noise_config(), history_days=30
    )
    generate_landing_zone(config, tmp_path / "raw", tmp_path / "truth")
    [path] = sorted(day_folder(tmp_path / "raw", "loyalty", THE_DAY).glob("members*.csv"))
    lines = path.read_text(encoding="utf-8").split("\n")
    records = sum(1 for _ in csv.reader(lines[1:-1]))  # the pristine file
    fields = lines[10].split(",")
    fields[2] = '"' + fields[2]  # line 11: a quote opens in full_name and never closes
    lines[10] = ",".join(fields)
    fields = lines[20].split(",")
    fields[2] = fields[2] + "\u2028" + "\x0c"  # line 21: separators inside a field are data
    lines[20] = ",".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")

    lake = tmp_path / "lake"
    run_pipeline(
        {"raw_root": str(tmp_path / "raw"), "lakehouse_root": str(lake)}, stages=["bronze"]
    )
    from deltalake import DeltaTable

    bronze = DeltaTable(str(lake / "bronze" / "loyalty_members")).to_pyarrow_table().to_pylist()
    rejects = DeltaTable(str(lake / "quarantine" / "rejects")).to_pyarrow_table().to_pylist()
    rejects = [r for r in rejects if r["table"] == "loyalty_members"]
    assert len(bronze) + len(rejects) == records
    assert [(r["_row_number"], r["reasons"][0].split(":")[0]) for r in rejects] == [
        (11, "unclosed_quote")
    ]
    assert "\u2028\x0c" in next(r["full_name"] for r in bronze if r["_row_number"] == 21)


# ---- quote-free files: one pyarrow pass, the same result as record by record -------------------


def _parse_both(tmp_path, text: str, monkeypatch) -> tuple[ParsedFile, ParsedFile]:
    """``text`` parsed by parse_csv as is, and with the quote-free fast path switched off."""
    from c360.bronze import readers

    path = tmp_path / "members.csv"
    path.write_bytes(text.encode("utf-8"))
    fast = parse_csv(path, "loyalty/members.csv", LOYALTY_MEMBERS)
    with monkeypatch.context() as patched:
        patched.setattr(readers, "_parse_unquoted", lambda *args: False)
        slow = parse_csv(path, "loyalty/members.csv", LOYALTY_MEMBERS)
    return fast, slow


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_quote_free_file_parses_in_one_pass_exactly_as_record_by_record(
    tmp_path, monkeypatch, newline
):
    rows = [member(i, name) for i, name in enumerate(["Lê Thị Hồng", " An ", "Bảo\u2028Anh"])]
    rows.append("M9,CARD9,Trần Văn,,,,,,,,")  # empty fields stay empty strings
    text = "\n\n" + members_file(rows, newline).rstrip(newline)  # header on line 3, no last end
    from c360.bronze import readers

    calls = []
    original = readers._parse_unquoted
    monkeypatch.setattr(readers, "_parse_unquoted", lambda *a: calls.append(1) or original(*a))
    fast, slow = _parse_both(tmp_path, text, monkeypatch)
    assert calls == [1]  # the fast path ran (and _parse_both's slow run did not use it)
    assert fast.values == slow.values
    assert fast.row_numbers == slow.row_numbers == [4, 5, 6, 7]
    assert (fast.lines_skipped, fast.row_lines, fast.rejects) == (3, 4, [])
    assert fast.values["full_name"][1] == " An "


@pytest.mark.parametrize(
    "bad_line", ["", "   ", "M7,CARD7,too,few", "M8,CARD8,a,b,c,d,e,f,g,h,i,too,many"]
)
def test_a_quote_free_file_with_a_blank_or_misshapen_line_falls_back_to_record_by_record(
    tmp_path, monkeypatch, bad_line
):
    rows = [member(1), bad_line, member(2)]
    fast, slow = _parse_both(tmp_path, members_file(rows), monkeypatch)
    assert fast.values == slow.values
    assert fast.row_numbers == slow.row_numbers == [2, 4]
    assert [r.row_number for r in fast.rejects] == [r.row_number for r in slow.rejects]
    assert len(fast.rejects) == (0 if not bad_line.strip() else 1)
