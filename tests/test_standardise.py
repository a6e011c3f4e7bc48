"""Identity-field standardisation (c360.standardise) on real Vietnamese spellings.

Pure functions are tested without Spark; one test runs the batch function under Spark's
``mapInPandas``, exactly as the silver layer calls it.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa
import pytest

from c360.config import ConfigError
from c360.contract import PERSON_SOURCES
from c360.reference_data import MOBILE_PREFIX_REMAP_2018
from c360.standardise import (
    IDENTITY_COLUMNS_BY_SOURCE,
    IdentityColumns,
    fold,
    fold_address,
    identity_arrow_schema,
    identity_spark_schema,
    normalise_text,
    parse_consent,
    parse_extract_date,
    parse_local_timestamp,
    parse_local_timestamps,
    split_vietnamese_name,
    standardise_email,
    standardise_gender,
    standardise_identity,
    standardise_identity_spark,
    standardise_national_id,
    standardise_phone,
    standardise_province,
)
from c360.standardise.fields import NATIONAL_ID_OTHER, NATIONAL_ID_PASSPORT
from c360.standardise.rules import default_rules, rules_from_mapping
from c360.standardise.text import repair_typing_residue, strip_viqr_marks
from c360.tables import IDENTITY_FIELDS

# Spark's Python workers must run this interpreter (the one with pandas and pyarrow); the
# session is built after collection, so setting it here reaches the session-scoped fixture.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

NFD = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
NOT_A_CONTRACT_DATE = (
    "date_of_birth: not a date in a contract format (YYYY-MM-DD, DD/MM/YYYY, YYYYMMDD)"
)


# ---- text ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (NFD, "Nguyễn Thị Ánh Tuyết"),  # decomposed input (macOS, some web forms) -> NFC
        ("  Trần\u00a0 Văn\tBình  ", "Trần Văn Bình"),  # NBSP and tab collapse to one space
        ("Lê\u200b Thị Hoa", "Lê Thị Hoa"),  # zero-width space pasted from chat apps dropped
        ("   ", None),
        ("", None),
        (None, None),
        (float("nan"), None),  # pandas missing value
    ],
)
def test_normalise_text(raw, expected):
    assert normalise_text(raw) == expected


def test_nfd_and_nfc_input_standardise_identically():
    # The two byte sequences differ, yet must give the same record.
    assert NFD != "Nguyễn Thị Ánh Tuyết"
    assert fold(NFD) == fold("Nguyễn Thị Ánh Tuyết") == "nguyen thi anh tuyet"
    assert split_vietnamese_name(NFD) == ("nguyen", "thi anh", "tuyet")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn Thị Ánh", "nguyen thi anh"),
        ("Đặng Hữu Phước", "dang huu phuoc"),  # đ/Đ -> d, ư/ơ with tone marks -> u/o
        ("ĐỖ THỊ NGỌC ÁNH", "do thi ngoc anh"),  # upper case folds the same
        ("Bà Rịa-Vũng Tàu", "ba ria vung tau"),  # punctuation becomes a space
        ("Nguyễn Văn An (KH VIP)", "nguyen van an kh vip"),
        ("---", None),  # nothing left
    ],
)
def test_fold(raw, expected):
    assert fold(raw) == expected


def test_fold_address_expands_administrative_abbreviations():
    # "P." / "Q1" / "TP." are how clerks shorten phường / quận / thành phố.
    assert fold_address("12 Lê Lợi, P. Bến Nghé, Q1, TP.HCM") == (
        "12 le loi phuong ben nghe quan 1 thanh pho hcm"
    )
    assert fold_address("Số 5 Phường 12, Quận Tân Bình") == "so 5 phuong 12 quan tan binh"


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Nguyễn Văn An", ("nguyen", "van", "an")),  # Vietnamese order: family middle given
        ("Nguyễn Thị Ánh Tuyết", ("nguyen", "thi anh", "tuyet")),  # two middle names
        ("Đặng Hữu Phước", ("dang", "huu", "phuoc")),
        ("Nguyễn An", ("nguyen", None, "an")),  # no middle name
        ("An", (None, None, "an")),  # one token: given name only
        ("An Văn Nguyễn", ("nguyen", "van", "an")),  # Western: given middle family
        ("An Van Nguyen", ("nguyen", "van", "an")),  # the same without diacritics
        ("An Nguyen Van", ("nguyen", "van", "an")),  # given name moved to the front
        ("Tuyet Thi Anh Nguyen", ("nguyen", "thi anh", "tuyet")),
        # Hoàng is a family and a given name, Nguyễn only a family name: reversed.
        ("Hoàng Văn Nguyễn", ("nguyen", "van", "hoang")),
        # Văn is a (rare, 0.1 %) family name but far more often a middle name: no reversal.
        ("Trần Văn Văn", ("tran", "van", "van")),
        ("Lê Hoàng", ("le", None, "hoang")),  # both family names; Lê is never a given name
        # Lý is a rare family name (0.5 %), Nga a given name and no family name: reversed.
        ("Nga Thị Lý", ("ly", "thi", "nga")),
        # Kiều is a given name and a rare family name (0.1 %), Trương (0.7 %) only a family name.
        ("Kiều Thị Trương", ("truong", "thi", "kieu")),
        # Hoàng (3.2 %) is more frequent than Trương: Vietnamese order kept.
        ("Hoàng Văn Trương", ("hoang", "van", "truong")),
        # Both Vân/Văn and Vũ are family and given names: ambiguous, Vietnamese order kept.
        ("Vân Vũ", ("van", None, "vu")),
        ("", (None, None, None)),
    ],
)
def test_split_vietnamese_name(full_name, expected):
    assert split_vietnamese_name(full_name) == expected


# ---- phone --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "+84912345678"),  # national form
        ("+84912345678", "+84912345678"),  # E.164 already
        ("84912345678", "+84912345678"),  # country code without the plus
        ("0084912345678", "+84912345678"),  # international dialling prefix
        ("0912 345 678", "+84912345678"),  # spaces
        ("0912.345.678", "+84912345678"),  # dots
        ("(+84) 912-345-678", "+84912345678"),  # brackets and dashes
        ("912345678", "+84912345678"),  # trunk zero dropped (a spreadsheet ate it)
        ("01688123456", "+84388123456"),  # pre-2018 11-digit Viettel number
        ("+841688123456", "+84388123456"),  # ... written internationally
        ("841688123456", "+84388123456"),
        ("028 3822 1234", "+842838221234"),  # Ho Chi Minh City landline: kept
        ("024 3825 3536", "+842438253536"),  # Hanoi landline
        ("0891234567", "+84891234567"),  # MobiFone 089: phonenumbers 9.0 rejects 0890-0895
        ("+14155552671", "+14155552671"),  # a valid foreign number keeps its country code
    ],
)
def test_standardise_phone_valid(raw, expected):
    assert standardise_phone(raw) == (expected, None)


# Every pre-2018 prefix and its replacement, spelled out (Decision 798/QĐ-BTTTT).
OLD_PREFIXES = {
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036",
    "0167": "037", "0168": "038", "0169": "039",  # Viettel
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",  # MobiFone
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",  # VinaPhone
    "0186": "056", "0188": "058",  # Vietnamobile
    "0199": "059",  # Gmobile
}  # fmt: skip


@pytest.mark.parametrize(("old", "new"), sorted(OLD_PREFIXES.items()))
def test_old_eleven_digit_mobile_prefixes_are_remapped(old, new):
    assert standardise_phone(f"{old}1234567") == (f"+84{new[1:]}1234567", None)
    assert standardise_phone(f"+84 {old[1:]} 123 4567") == (f"+84{new[1:]}1234567", None)


def test_old_prefix_table_matches_reference_data():
    # The expectations above are written out by hand; they must agree with reference_data.
    assert OLD_PREFIXES == MOBILE_PREFIX_REMAP_2018


@pytest.mark.parametrize(
    "raw",
    [
        "12345",  # too short
        "0123456789",  # 012x is no longer a prefix after 2018 (10 digits)
        "0201234567",  # not a landline area code
        "không có số",  # no digits at all
        "0912345678 0987654321",  # two numbers in one field
        "0000000000",
    ],
)
def test_standardise_phone_invalid(raw):
    assert standardise_phone(raw) == (None, "phone: not a valid Vietnamese phone number")


@pytest.mark.parametrize("raw", ["", "  ", None, "N/A", "-", "null"])
def test_empty_and_placeholder_phones_are_missing_without_issue(raw):
    assert standardise_phone(raw) == (None, None)


# ---- email --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NGUYEN.AN@GMAIL.COM", ("nguyen.an@gmail.com", None)),  # upper-case landed
        ("  tran_binh@yahoo.com.vn ", ("tran_binh@yahoo.com.vn", None)),  # trimmed
        ("mailto:le.hoa@fpt.vn", ("le.hoa@fpt.vn", None)),  # copied link
        ("an@gmial.com", ("an@gmail.com", "email: domain gmial.com corrected to gmail.com")),
        ("an@@gmail.com", (None, "email: not a valid email address")),
        ("an@gmail", (None, "email: not a valid email address")),  # no dot in the domain
        ("nguyen an@gmail.com", (None, "email: not a valid email address")),  # a space
        ("an..b@gmail.com", (None, "email: not a valid email address")),
        ("nguyễn@gmail.com", (None, "email: not a valid email address")),  # not ASCII
        ("", (None, None)),
    ],
)
def test_standardise_email(raw, expected):
    assert standardise_email(raw) == expected


# ---- national ID --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("079090012345", ("079090012345", "cccd", None)),  # HCMC, male born 1900s
        ("001 301 234 567", ("001301234567", "cccd", None)),  # Hà Nội, female born 2000s
        ("079.090.012.345", ("079090012345", "cccd", None)),
        ("025-123-456", ("025123456", "cmnd", None)),  # old 9-digit CMND
        ("79090012345", ("079090012345", "cccd", "national_id: CCCD leading zero restored")),
        # Issue 13: no identifier is dropped; what is not a CMND / CCCD is kept, typed, flagged.
        (
            "003090012345",
            (
                "003090012345",
                "other",
                "national_id: 12 digits with unknown CCCD province code; kept as other",
            ),
        ),
        (
            "079790012345",
            (
                "079790012345",
                "other",
                "national_id: 12 digits with invalid CCCD gender/century digit; kept as other",
            ),
        ),
        ("12345678", ("12345678", "other", NATIONAL_ID_OTHER)),
        ("07909001234A", ("07909001234A", "other", NATIONAL_ID_OTHER)),
        (" c1234567 ", ("C1234567", "passport", NATIONAL_ID_PASSPORT)),
        ("B 1234567", ("B1234567", "passport", NATIONAL_ID_PASSPORT)),
        ("AB-123-4567", ("AB1234567", "passport", NATIONAL_ID_PASSPORT)),
        ("1804974", ("1804974", "other", NATIONAL_ID_OTHER)),  # a 7-digit social security no.
        ("X12/345.67A", ("X1234567A", "other", NATIONAL_ID_OTHER)),
        ("000000000", (None, None, "national_id: placeholder (one digit repeated)")),
        ("123", (None, None, "national_id: not an identity document number")),
        ("không rõ", (None, None, "national_id: not an identity document number")),
        ("#12345678", (None, None, "national_id: not an identity document number")),
        ("", (None, None, None)),
    ],
)
def test_standardise_national_id(raw, expected):
    assert standardise_national_id(raw) == expected


# ---- province -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hà Nội", ("Hà Nội", "north")),  # unchanged by the merger
        ("HA NOI", ("Hà Nội", "north")),
        ("Thành phố Hà Nội", ("Hà Nội", "north")),
        ("HN", ("Hà Nội", "north")),
        ("Bình Dương", ("Hồ Chí Minh", "south")),  # merged into HCMC in 2025
        ("Ba Ria - Vung Tau", ("Hồ Chí Minh", "south")),
        ("BR-VT", ("Hồ Chí Minh", "south")),
        ("tp hcm", ("Hồ Chí Minh", "south")),
        ("TP.HCM", ("Hồ Chí Minh", "south")),
        ("TPHCM", ("Hồ Chí Minh", "south")),
        ("Sài Gòn", ("Hồ Chí Minh", "south")),
        ("Ho Chi Minh City", ("Hồ Chí Minh", "south")),
        ("Hà Giang", ("Tuyên Quang", "north")),
        ("Thừa Thiên Huế", ("Huế", "centre")),  # a city since January 2025
        ("Hue", ("Huế", "centre")),
        ("Tỉnh Quảng Nam", ("Đà Nẵng", "centre")),
        ("Thanh Hoá", ("Thanh Hóa", "centre")),  # old-style tone placement
        ("Đắc Lắc", ("Đắk Lắk", "centre")),  # pre-1975 spelling
    ],
)
def test_standardise_province(raw, expected):
    assert standardise_province(raw) == (*expected, None)


def test_unknown_province():
    assert standardise_province("Atlantis") == (None, None, "province: unknown province")
    assert standardise_province("") == (None, None, None)


def test_province_alias_to_unknown_name_is_a_config_error():
    raw = {
        "gender": {"male": ["m"], "female": ["f"]},
        "consent": {"yes_values": ["yes"], "no_values": ["no"]},
        "province": {"aliases": {"sg": "Saigon Province"}},
    }
    with pytest.raises(ConfigError, match="Saigon Province"):
        rules_from_mapping(raw)


# ---- gender, consent ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nam", ("male", None)),  # CRM's labels
        ("Nữ", ("female", None)),
        ("NỮ", ("female", None)),
        ("nu", ("female", None)),  # diacritics dropped
        ("M", ("male", None)),  # loyalty's labels
        ("F", ("female", None)),
        ("1", ("male", None)),
        ("0", ("female", None)),
        ("Female", ("female", None)),
        ("Khác", (None, "gender: unrecognised value")),  # "other": not in the schema's domain
        ("", (None, None)),
    ],
)
def test_standardise_gender(raw, expected):
    assert standardise_gender(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True), ("Y", True), ("TRUE", True), ("1", True), ("Có", True),
        ("no", False), ("n", False), ("False", False), ("0", False), ("KHÔNG", False),
        ("", None), (None, None), ("maybe", None),
    ],
)  # fmt: skip
def test_parse_consent(raw, expected):
    assert parse_consent(raw) is expected


# ---- dates and timestamps -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1990-03-25", (date(1990, 3, 25), None)),  # YYYY-MM-DD
        ("25/03/1990", (date(1990, 3, 25), None)),  # DD/MM/YYYY (CRM)
        ("19900325", (date(1990, 3, 25), None)),  # YYYYMMDD
        ("5/3/1990", (date(1990, 3, 5), None)),  # day-first without zero padding
        ("1990-03-25 00:00:00", (date(1990, 3, 25), None)),  # database export
        # A DD/MM date landed as MM/DD: month 25 is impossible, the swap is a real date.
        ("03/25/1990", (date(1990, 3, 25), "date_of_birth: day and month swapped")),
        ("1990-25-03", (date(1990, 3, 25), "date_of_birth: day and month swapped")),
        # Swapped, but still ambiguous (both readings valid): taken as written, undetectable.
        ("03/05/1990", (date(1990, 5, 3), None)),
        ("2026-02-30", (None, "date_of_birth: impossible date")),
        ("31/04/1990", (None, "date_of_birth: impossible date")),
        ("30/13/1990", (None, "date_of_birth: impossible date")),  # day 30 cannot be a month
        ("1899-12-31", (None, "date_of_birth: before 1900-01-01")),
        ("2999-01-01", (None, "date_of_birth: in the future")),
        ("25.03.1990", (None, NOT_A_CONTRACT_DATE)),
        (
            "N/A",
            (None, None),
        ),  # a placeholder means missing, not a bad date  # dots: not one of the three formats
        ("", (None, None)),
    ],
)
def test_parse_extract_date(raw, expected):
    assert parse_extract_date(raw) == expected


def test_parse_extract_date_latest_bound():
    # Born the day after the extract was taken: impossible.
    assert parse_extract_date("2026-11-02", latest=date(2026, 11, 1)) == (
        None,
        "date_of_birth: in the future",
    )
    assert parse_extract_date("2026-11-01", latest=date(2026, 11, 1)) == (date(2026, 11, 1), None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Naive timestamps are Vietnam local time (UTC+7).
        ("2026-11-01T08:00:00", datetime(2026, 11, 1, 1, 0, tzinfo=UTC)),
        ("2026-11-01 08:00:00", datetime(2026, 11, 1, 1, 0, tzinfo=UTC)),
        ("2026-11-01T03:00:00", datetime(2026, 10, 31, 20, 0, tzinfo=UTC)),  # previous UTC day
        ("2026-11-01T08:00:00Z", datetime(2026, 11, 1, 8, 0, tzinfo=UTC)),  # already UTC
        ("2026-11-01T08:00:00+09:00", datetime(2026, 10, 31, 23, 0, tzinfo=UTC)),  # Tokyo
        ("2026-11-01T08:00:00.123456", datetime(2026, 11, 1, 1, 0, 0, 123456, tzinfo=UTC)),
        # Dates alone are local midnight, in any contract format.
        ("2026-11-01", datetime(2026, 10, 31, 17, 0, tzinfo=UTC)),
        ("01/11/2026", datetime(2026, 10, 31, 17, 0, tzinfo=UTC)),
        ("20261101", datetime(2026, 10, 31, 17, 0, tzinfo=UTC)),
        ("not a time", None),
        ("2026-02-30T08:00:00", None),
        ("", None),
    ],
)
def test_parse_local_timestamp(raw, expected):
    assert parse_local_timestamp(raw) == expected


def test_parse_local_timestamps_series():
    values = pd.Series(
        ["2026-11-01T08:00:00", None, "junk", "2026-11-01T08:00:00"], index=[5, 6, 7, 8]
    )
    parsed = parse_local_timestamps(values)
    assert str(parsed.dtype) == "datetime64[us, UTC]"
    assert list(parsed.index) == [5, 6, 7, 8]
    assert parsed[5] == parsed[8] == pd.Timestamp("2026-11-01T01:00:00Z")
    assert pd.isna(parsed[6]) and pd.isna(parsed[7])


# ---- the batch function -------------------------------------------------------------------
CRM = IDENTITY_COLUMNS_BY_SOURCE["crm"]
ERP = IDENTITY_COLUMNS_BY_SOURCE["erp"]


def test_source_presets_name_contract_columns():
    for source, columns in IDENTITY_COLUMNS_BY_SOURCE.items():
        required = set(PERSON_SOURCES[source].required_columns)
        assert set(columns.landed().values()) <= required, source
    assert ERP.full_name == "name" and ERP.address == "billing_address"
    assert ERP.gender is None and ERP.date_of_birth is None


def _crm_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "contact_id": ["C1", "C2", "C3"],
            "full_name": ["Nguyễn Văn An", "An Văn Nguyễn", None],
            "gender": ["Nam", "Khác", ""],
            "date_of_birth": ["25/03/1990", "03/25/1990", "2026-02-30"],
            "phone": ["0168 812 3456", "12345", None],
            "email": ["AN.NGUYEN@GMAIL.COM", "an@gmial.com", "N/A"],
            "national_id": ["079090012345", "123456789", "999999999999"],
            "address": ["12 Lê Lợi,  P. Bến Nghé", None, "Số 5, Q1"],
            "province": ["Bình Dương", "tp hcm", "Atlantis"],
        },
        index=[10, 11, 12],  # a batch's index need not start at 0
    )


def test_standardise_identity_mixed_batch():
    out = standardise_identity(_crm_frame(), CRM, as_of=date(2026, 11, 1))
    assert list(out.columns) == [name for name, _ in IDENTITY_FIELDS]
    assert list(out.index) == [10, 11, 12]
    rows = out.to_dict("index")
    assert rows[10] == {
        "full_name": "Nguyễn Văn An",
        "full_name_folded": "nguyen van an",
        "family_name": "nguyen",
        "middle_name": "van",
        "given_name": "an",
        "gender": "male",
        "date_of_birth": date(1990, 3, 25),
        "phone_e164": "+84388123456",  # old Viettel 0168 -> 038: standardised, not an issue
        "email": "an.nguyen@gmail.com",
        "national_id": "079090012345",
        "national_id_type": "cccd",
        "address": "12 Lê Lợi, P. Bến Nghé",
        "address_folded": "12 le loi phuong ben nghe",
        "province": "Hồ Chí Minh",
        "region": "south",
        "field_issues": [],
        "raw_values": {},
    }
    # Row 11: the bad phone and gender are nulled with their raw values kept; the row stays;
    # the swapped birth date and corrected e-mail are kept and flagged.
    assert rows[11]["full_name"] == "An Văn Nguyễn"  # as written
    assert (rows[11]["family_name"], rows[11]["given_name"]) == ("nguyen", "an")
    assert rows[11]["phone_e164"] is None and rows[11]["gender"] is None
    assert rows[11]["date_of_birth"] == date(1990, 3, 25)
    assert rows[11]["email"] == "an@gmail.com"
    assert rows[11]["national_id_type"] == "cmnd"
    assert rows[11]["field_issues"] == [
        "gender: unrecognised value",
        "date_of_birth: day and month swapped",
        "phone: not a valid Vietnamese phone number",
        "email: domain gmial.com corrected to gmail.com",
    ]
    assert rows[11]["raw_values"] == {
        "gender": "Khác",
        "date_of_birth": "03/25/1990",
        "phone": "12345",
        "email": "an@gmial.com",
    }
    # Row 12: missing and placeholder values are null without an issue; bad ones are listed.
    assert rows[12]["full_name"] is None and rows[12]["email"] is None
    assert rows[12]["address_folded"] == "so 5 quan 1"
    assert rows[12]["field_issues"] == [
        "date_of_birth: impossible date",
        "national_id: placeholder (one digit repeated)",
        "province: unknown province",
    ]
    assert rows[12]["raw_values"] == {
        "date_of_birth": "2026-02-30",
        "national_id": "999999999999",
        "province": "Atlantis",
    }


def test_standardise_identity_converts_to_the_arrow_schema():
    out = standardise_identity(_crm_frame(), CRM, as_of=date(2026, 11, 1))
    table = pa.Table.from_pandas(out, schema=identity_arrow_schema(), preserve_index=False)
    assert table.schema.equals(pa.schema(list(IDENTITY_FIELDS)))
    assert table.column("date_of_birth").to_pylist() == [date(1990, 3, 25)] * 2 + [None]
    assert table.column("raw_values").to_pylist()[2] == [
        ("date_of_birth", "2026-02-30"),
        ("national_id", "999999999999"),
        ("province", "Atlantis"),
    ]


def test_standardise_identity_erp_lacks_gender_and_birth_date():
    frame = pd.DataFrame(
        {
            "name": ["CÔNG TY TNHH ABC", "Phạm Minh Châu"],
            "phone": ["+84 28 3822 1234", "0912345678"],
            "email": [None, ""],
            "national_id": ["", "001301234567"],
            "billing_address": ["1 Hai Bà Trưng, Q. 1, TP. Hồ Chí Minh", None],
            "province": ["Hồ Chí Minh", "Hà Nội"],
        }
    )
    out = standardise_identity(frame, ERP)
    assert out["gender"].tolist() == [None, None]
    assert out["date_of_birth"].tolist() == [None, None]
    assert out["full_name_folded"].tolist() == ["cong ty tnhh abc", "pham minh chau"]
    assert out["phone_e164"].tolist() == ["+842838221234", "+84912345678"]
    assert out["address_folded"][0] == "1 hai ba trung quan 1 thanh pho ho chi minh"
    assert out["field_issues"].tolist() == [[], []]


def test_numbers_and_letterless_names():
    frame = pd.DataFrame(
        {
            "full_name": ["0912345678", "Võ Thị Sáu"],  # a phone typed into the name field
            "phone": [912345678.0, None],  # JSON number read as float: trunk zero and ".0"
            "national_id": [79090012345, None],  # integer: the CCCD's leading zero is gone
        }
    )
    columns = IdentityColumns(full_name="full_name", phone="phone", national_id="national_id")
    out = standardise_identity(frame, columns)
    assert out["full_name"].tolist() == [None, "Võ Thị Sáu"]
    assert out["phone_e164"].tolist() == ["+84912345678", None]
    assert out["national_id"].tolist() == ["079090012345", None]
    assert out["field_issues"][0] == [
        "full_name: no letters",
        "national_id: CCCD leading zero restored",
    ]
    assert out["raw_values"][0] == {"full_name": "0912345678", "national_id": "79090012345"}


def test_birth_date_after_the_as_of_date_of_its_row():
    frame = pd.DataFrame({"dob": ["2026-10-15", "2026-10-15", "2026-10-15"]})
    # e.g. each row's ingest date; a row without one is not checked
    as_of = pd.Series([date(2026, 10, 1), date(2026, 11, 1), None])
    out = standardise_identity(frame, IdentityColumns(date_of_birth="dob"), as_of=as_of)
    assert out["date_of_birth"].tolist() == [None, date(2026, 10, 15), date(2026, 10, 15)]
    assert out["field_issues"].tolist() == [["date_of_birth: in the future"], [], []]
    assert out["raw_values"].tolist() == [{"date_of_birth": "2026-10-15"}, {}, {}]


def test_standardise_identity_empty_batch_and_missing_column():
    empty = _crm_frame().iloc[0:0]
    out = standardise_identity(empty, CRM)
    assert len(out) == 0 and list(out.columns) == [name for name, _ in IDENTITY_FIELDS]
    with pytest.raises(KeyError, match="billing_address"):
        standardise_identity(_crm_frame(), ERP)


# ---- under Spark --------------------------------------------------------------------------
@pytest.mark.spark
def test_standardise_identity_under_spark_map_in_pandas(spark):
    frame = _crm_frame().reset_index(drop=True)
    sdf = spark.createDataFrame(frame)
    schema = identity_spark_schema()
    assert [f.name for f in schema.fields] == [name for name, _ in IDENTITY_FIELDS]

    def standardise(batches):
        for batch in batches:
            yield standardise_identity(batch, CRM, as_of=date(2026, 11, 1))

    rows = {r["full_name_folded"]: r for r in sdf.mapInPandas(standardise, schema).collect()}
    # The helper the silver layer can call: kept columns first, then the identity fields.
    helped = standardise_identity_spark(sdf, CRM, keep=["contact_id"]).collect()

    assert rows["nguyen van an"]["phone_e164"] == "+84388123456"
    assert rows["nguyen van an"]["date_of_birth"] == date(1990, 3, 25)
    assert rows["nguyen van an"]["field_issues"] == []
    assert rows["nguyen van an"]["raw_values"] == {}
    assert rows["an van nguyen"]["phone_e164"] is None
    assert rows["an van nguyen"]["raw_values"] == {
        "gender": "Khác",
        "date_of_birth": "03/25/1990",
        "phone": "12345",
        "email": "an@gmial.com",
    }
    assert rows[None]["field_issues"] == [
        "date_of_birth: impossible date",
        "national_id: placeholder (one digit repeated)",
        "province: unknown province",
    ]
    assert [r["contact_id"] for r in helped] == ["C1", "C2", "C3"]
    assert helped[1]["phone_e164"] is None and helped[1]["raw_values"]["phone"] == "12345"
    assert helped[0].asDict()["province"] == "Hồ Chí Minh"


# ---- issue 13: names in any form, identifiers kept ---------------------------------------
@pytest.mark.parametrize(
    ("raw", "folded", "split"),
    [
        ("Nguyeenx Vawn Anh", "nguyen van anh", ("nguyen", "van", "anh")),  # Telex residue
        ("Traanf Thij Phuwowng", "tran thi phuong", ("tran", "thi", "phuong")),
        ("Nguye6n4 Va8n Anh", "nguyen van anh", ("nguyen", "van", "anh")),  # VNI residue
        ("Nguye^~n Va(n Anh", "nguyen van anh", ("nguyen", "van", "anh")),  # VIQR residue
        (unicodedata.normalize("NFD", "Lê Thị Hoà"), "le thi hoa", ("le", "thi", "hoa")),
        ("Lê Thị Hòa", "le thi hoa", ("le", "thi", "hoa")),  # the other tone placement
        ("Trần Thị Hường", "tran thi huong", ("tran", "thi", "huong")),  # wrong tone: Hương
        ("Anh Nguyễn Văn", "anh nguyen van", ("nguyen", "van", "anh")),  # given name first
        ("Ross Mathews", "ross mathews", ("ross", None, "mathews")),  # no Telex reading
        ("Nguyễn V. Anh", "nguyen v anh", ("nguyen", "v", "anh")),
    ],
)
def test_names_are_folded_whatever_the_typing(raw, folded, split):
    out = standardise_identity(pd.DataFrame({"name": [raw]}), IdentityColumns(full_name="name"))
    row = out.iloc[0]
    assert row["full_name_folded"] == folded
    assert (row["family_name"], row["middle_name"], row["given_name"]) == split
    assert row["field_issues"] == []


def test_typing_residue_is_repaired_only_into_known_name_tokens():
    vocabulary = default_rules().name_vocabulary
    assert {"nguyen", "van", "anh", "phuong"} <= vocabulary
    # "moss" would read as "mo" + tone s; neither is a known token, so it stays.
    assert repair_typing_residue("moss nguyeenx", vocabulary) == "moss nguyen"
    assert repair_typing_residue("d9ang2 hoaf", vocabulary) == "dang hoa"
    assert strip_viqr_marks("Ho`a Thu+o+ng") == "Hoa Thuong"


def test_foreign_phones_and_unusual_emails_are_kept():
    assert standardise_phone("+1 (202) 555-0143") == ("+12025550143", None)
    assert standardise_phone("+44 20 7946 0958") == ("+442079460958", None)
    assert standardise_phone("0061 2 9374 4000") == ("+61293744000", None)
    for email in ("an+shop@mail.example.co.uk", "o'brien@example.ie", "user@example.xn--p1ai"):
        assert standardise_email(email) == (email, None)


def test_passport_kept_in_silver_fields_with_its_issue():
    frame = pd.DataFrame({"id": ["c 1234567", "079090012345", "7654321"]})
    out = standardise_identity(frame, IdentityColumns(national_id="id"))
    assert out["national_id"].tolist() == ["C1234567", "079090012345", "7654321"]
    assert out["national_id_type"].tolist() == ["passport", "cccd", "other"]
    assert out["field_issues"].tolist() == [[NATIONAL_ID_PASSPORT], [], [NATIONAL_ID_OTHER]]
    assert out["raw_values"][0] == {"national_id": "c 1234567"}
