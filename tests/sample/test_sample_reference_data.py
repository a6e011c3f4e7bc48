"""Reference data and small pure helpers, with exact expected values."""

from __future__ import annotations

import numpy as np
import pytest

from c360.reference_data import (
    CCCD_PROVINCE_CODES,
    MOBILE_PREFIX_REMAP_2018,
    MOBILE_PREFIXES_BY_CARRIER,
    PROVINCE_MERGER_2025,
    PROVINCES_2025,
    PROVINCES_PRE_2025,
    TET_DATES,
    province_2025,
    remap_old_mobile,
)
from c360.sample.noise import abbreviate
from c360.sample.text import fold_diacritics, typo_array, unique_with_digits


def test_merger_maps_63_units_onto_34():
    assert len(PROVINCES_PRE_2025) == 63
    assert len(PROVINCE_MERGER_2025) == 63
    assert set(PROVINCE_MERGER_2025.values()) == set(PROVINCES_2025)
    assert len(PROVINCES_2025) == 34
    # 11 units were left unchanged (Hà Nội, Huế and nine northern / central provinces) ...
    unchanged = [old for old, new in PROVINCE_MERGER_2025.items() if old == new]
    members = {
        new: [o for o, n in PROVINCE_MERGER_2025.items() if n == new] for new in PROVINCES_2025
    }
    assert sum(len(m) == 1 for m in members.values()) == 11
    # ... and every merged unit kept the name of one of its members (Huế renamed in January 2025).
    assert len(unchanged) == 33
    assert len(CCCD_PROVINCE_CODES) == 63


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Hà Giang", "Tuyên Quang"),
        ("Bà Rịa - Vũng Tàu", "Hồ Chí Minh"),
        ("Bình Dương", "Hồ Chí Minh"),
        ("Bắc Kạn", "Thái Nguyên"),
        ("Quảng Nam", "Đà Nẵng"),
        ("Hậu Giang", "Cần Thơ"),
        ("Thừa Thiên Huế", "Huế"),
        ("Hồ Chí Minh", "Hồ Chí Minh"),
        ("Huế", "Huế"),  # already a post-merger name
        ("Sài Gòn", None),  # not an official name
    ],
)
def test_province_2025(name, expected):
    assert province_2025(name) == expected


def test_old_mobile_prefixes_map_to_current_prefixes_of_the_same_carrier():
    # Viettel 8 (0162-0169), MobiFone 5, VinaPhone 5, Vietnamobile 2, Gmobile 1.
    assert len(MOBILE_PREFIX_REMAP_2018) == 21
    current = {p: c for c, prefixes in MOBILE_PREFIXES_BY_CARRIER.items() for p in prefixes}
    assert all(new in current for new in MOBILE_PREFIX_REMAP_2018.values())
    assert current[MOBILE_PREFIX_REMAP_2018["0168"]] == "viettel"
    assert current[MOBILE_PREFIX_REMAP_2018["0123"]] == "vinaphone"
    assert current[MOBILE_PREFIX_REMAP_2018["0120"]] == "mobifone"


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("01681234567", "0381234567"),
        ("01201234567", "0701234567"),
        ("01991234567", "0591234567"),
        ("0381234567", "0381234567"),  # already 10 digits
        ("01111234567", "01111234567"),  # 0111 was never a mobile prefix
    ],
)
def test_remap_old_mobile(number, expected):
    assert remap_old_mobile(number) == expected


def test_tet_dates_are_in_late_january_or_february():
    assert all((d.month == 1 and d.day >= 20) or (d.month == 2 and d.day <= 20) for d in TET_DATES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nguyễn Văn Đức", "Nguyen Van Duc"),
        ("Trần Thị Ánh Tuyết", "Tran Thi Anh Tuyet"),
        ("Phường Bến Nghé, Quận 1", "Phuong Ben Nghe, Quan 1"),
        ("Đắk Lắk", "Dak Lak"),
    ],
)
def test_fold_diacritics(text, expected):
    assert fold_diacritics(text) == expected


def test_abbreviate_administrative_prefixes():
    got = abbreviate(np.array(["12 Lê Lợi, Phường Bến Thành, Thành phố Thủ Đức"], dtype=object))
    assert list(got) == ["12 Lê Lợi, P. Bến Thành, TP. Thủ Đức"]


def test_typos_always_change_the_text_by_one_edit_and_never_touch_spaces():
    rng = np.random.default_rng(0)
    names = np.array(["Nguyễn Văn An", "Lê Thị Hoa", "Ngô Bảo", "Hà Anh"] * 500, dtype=object)
    typoed = typo_array(rng, names)
    assert (typoed != names).all()
    assert all(abs(len(a) - len(b)) <= 1 for a, b in zip(typoed, names, strict=True))
    assert all(a.count(" ") == b.count(" ") for a, b in zip(typoed, names, strict=True))
    assert all(a[0] == b[0] for a, b in zip(typoed, names, strict=True))


def test_unique_with_digits_redraws_collisions():
    rng = np.random.default_rng(0)
    # 90 draws from 100 possible values (one taken) collide almost surely without redraws.
    values = unique_with_digits(rng, np.array(["09"] * 90, dtype=object), 2, taken={"0900"})
    assert len(set(values)) == 90
    assert "0900" not in values
    assert all(len(v) == 4 and v.startswith("09") for v in values)
