"""Exports (xlsx re-read with openpyxl, split over the row limit, csv, parquet), the export log,
previews with PII masked, and the CLI."""

from __future__ import annotations

import dataclasses

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from c360.masking import mask
from c360.segments.engine import evaluate
from c360.segments.export import export_members, masked_rows, resolve_fields
from c360.segments.model import SegmentConfigError, parse_filter
from c360.tables import GOLD_EXPORT_LOG
from pipelines.cli import main

SOUTH = {"field": "region", "op": "=", "value": "south"}
EVERYONE = {"field": "customer_id", "op": "is_not_null"}


def _rows(path):
    """(header, rows) of every sheet of a workbook, in sheet order."""
    book = load_workbook(path, read_only=True)
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    # read-only mode drops trailing empty cells: pad to the header's width
    return [[row + (None,) * (len(s[0]) - len(row)) for row in s] for s in sheets]


def test_xlsx_export_holds_exactly_the_members_and_fields_asked(
    small_lake, config, catalog, tmp_path
):
    columns = resolve_fields(["province", "email", "tx_count_d90"], config, catalog)
    result = evaluate(small_lake, config, catalog, parse_filter(SOUTH, "t"), "email",
                      fields=columns)  # fmt: skip
    out = tmp_path / "south.xlsx"
    exported = export_members(small_lake, result, "south", columns, "xlsx", out, config,
                              catalog, by="analyst@test")  # fmt: skip
    [sheet] = _rows(out)
    assert sheet[0] == ("Customer ID", "Province", "Email", "Purchases in 90 days")
    # C3 has no email consent: excluded
    assert sheet[1:] == [
        ("C1", "Hồ Chí Minh", "an.nguyen@x.vn", 5),
        ("C6", "Hồ Chí Minh", "em.vo@x.vn", 3),
    ]
    assert exported.rows == 2 and exported.files == [out]
    [log] = small_lake.read_arrow(GOLD_EXPORT_LOG).to_pylist()
    assert (log["segment"], log["rows"], log["exported_by"], log["format"]) == (
        "south",
        2,
        "analyst@test",
        "xlsx",
    )
    assert log["fields"] == ["customer_id", "province", "email", "tx_count_d90"]
    assert "@x.vn" not in str(log) and "Hồ Chí Minh" not in str(log)  # never values


def test_xlsx_export_over_the_row_limit_splits_into_sheets_and_files(
    small_lake, config, catalog, tmp_path
):
    small = dataclasses.replace(
        config,
        export=dataclasses.replace(config.export, xlsx_max_rows_per_sheet=2,
                                   xlsx_max_sheets_per_file=2),
    )  # fmt: skip
    columns = resolve_fields(["region"], small, catalog)
    result = evaluate(small_lake, small, catalog, parse_filter(EVERYONE, "t"), None,
                      fields=columns)  # fmt: skip
    out = tmp_path / "all.xlsx"
    exported = export_members(small_lake, result, "all", columns, "xlsx", out, small, catalog)
    assert exported.files == [out, tmp_path / "all_part2.xlsx"]
    assert exported.sheets == 3
    assert "split into 3 sheets over 2 files" in exported.notes[0]
    sheets = _rows(out) + _rows(tmp_path / "all_part2.xlsx")
    assert [len(s) - 1 for s in sheets] == [2, 2, 2]
    assert all(s[0] == ("Customer ID", "Region") for s in sheets)
    ids = [row[0] for sheet in sheets for row in sheet[1:]]
    assert ids == ["C1", "C2", "C3", "C4", "C5", "C6"]


def test_default_export_fields_hold_no_pii_and_unknown_fields_fail(config, catalog):
    columns = resolve_fields(None, config, catalog)
    assert columns == ["customer_id", *config.export.default_fields[1:]]
    assert not set(columns) & set(config.pii)
    with pytest.raises(SegmentConfigError, match="--fields: unknown field 'phone'"):
        resolve_fields(["phone"], config, catalog)


def test_csv_headers_in_vietnamese_and_parquet_field_names(small_lake, config, catalog, tmp_path):
    columns = resolve_fields(["province", "loy_tier"], config, catalog)
    result = evaluate(small_lake, config, catalog, parse_filter(SOUTH, "t"), None,
                      fields=columns)  # fmt: skip
    export_members(small_lake, result, "s", columns, "csv", tmp_path / "s.csv", config, catalog,
                   language="vi")  # fmt: skip
    lines = (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == '"Mã khách hàng","Tỉnh/thành phố","Hạng hội viên"'
    assert len(lines) == 4
    export_members(small_lake, result, "s", columns, "parquet", tmp_path / "s.parquet", config,
                   catalog)  # fmt: skip
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.column_names == columns
    assert table["customer_id"].to_pylist() == ["C1", "C3", "C6"]
    assert small_lake.count(GOLD_EXPORT_LOG) == 2


@pytest.mark.parametrize(
    ("value", "kind", "masked"),
    [
        ("Nguyễn Văn An", "name", "N*** V*** A***"),
        ("+84901000001", "phone", "+849******01"),
        ("an.nguyen@x.vn", "email", "a***@x.vn"),
        ("079090000001", "national_id", "*********001"),
        ("12 Lê Lợi, Quận 1", "address", "***"),
        ("1990-05-01", "date", "1990-**-**"),
        (None, "phone", None),
    ],
)
def test_mask(value, kind, masked):
    assert mask(value, kind) == masked


def test_preview_sample_masks_every_pii_column(small_lake, config, catalog):
    fields = [f for f in config.pii if f in catalog.fields]
    result = evaluate(small_lake, config, catalog, parse_filter(EVERYONE, "t"), None,
                      fields=fields)  # fmt: skip
    text = str(masked_rows(result.members, config))
    for raw in ("an.nguyen@x.vn", "+84901000001", "Nguyễn Văn C1", "079090000001"):
        assert raw not in text
    assert "a***@x.vn" in text


CLI_SEGMENTS = """
channel_consent: {email: consent_email, sms: consent_sms, zalo: null, call: null}
pii: {full_name: name, phone_e164: phone, email: email, national_id: national_id}
labels: {customer_id: {en: Customer ID, vi: Mã khách hàng}, region: {en: Region, vi: Vùng},
         phone_e164: {en: Phone, vi: Số điện thoại}}
segments:
  south_email:
    description: {en: South, vi: Miền Nam}
    owner: marketing
    channel: email
    filter: {field: region, op: "=", value: south}
"""


def test_cli_list_preview_and_export(small_lake, tmp_path, capsys):
    root = str(small_lake.root)
    segments = tmp_path / "segments.yaml"
    segments.write_text(CLI_SEGMENTS, encoding="utf-8")
    common = ["--lakehouse", root, "--segments", str(segments)]
    assert main(["segment", "list", *common]) == 0
    assert "south_email" in capsys.readouterr().out
    assert main(["segment", "preview", "south_email", *common]) == 0
    out = capsys.readouterr().out
    assert "matching the filter: 3" in out and "excluded for consent: 1" in out
    assert "members: 2" in out and "an.nguyen@x.vn" not in out and "a***@x.vn" in out
    out_file = tmp_path / "o.xlsx"
    argv = [
        "segment",
        "export",
        "--where",
        "tx_count_d90 >= 3",
        "--fields",
        "region,phone_e164",
        "--format",
        "xlsx",
        "--out",
        str(out_file),
        *common,
        "--by",
        "tester",
    ]
    assert main(argv) == 0  # fmt: skip
    [sheet] = _rows(out_file)
    assert sheet == [("Customer ID", "Region", "Phone"), ("C1", "south", "+84901000001"),
                     ("C3", "south", None), ("C6", "south", "+84906000006")]  # fmt: skip
    assert main(["segment", "preview", "--where", "regon = south", *common]) == 2
    assert "unknown field 'regon'" in capsys.readouterr().err
