"""Vietnamese addresses: house number, street, ward (phường / xã), district (quận / huyện).

The five large cities get their real urban districts; other provinces get their provincial city
(by its real name) plus rural districts named from a vocabulary of common place names. Street and
ward vocabularies extend the ones Faker's ``vi_VN`` locale ships (read once as data, never called
per row). Addresses use the pre-July-2025 three-level form (ward, district, province), which is
what most customer master data still holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faker.providers.address.vi_VN import Provider as _ViAddressProvider

from c360.reference_data import PROVINCES_PRE_2025

_EXTRA_STREETS: tuple[str, ...] = (
    "Hùng Vương", "Quang Trung", "Ngô Quyền", "Hoàng Diệu", "Phan Đình Phùng",
    "Phan Chu Trinh", "Phan Bội Châu", "Võ Thị Sáu", "Võ Văn Kiệt", "Cách Mạng Tháng Tám",
    "Nam Kỳ Khởi Nghĩa", "Trường Chinh", "Lạc Long Quân", "Âu Cơ", "Hoàng Văn Thụ",
    "Lê Hồng Phong", "Nguyễn Thái Học", "Đinh Tiên Hoàng", "Tôn Đức Thắng", "Phạm Văn Đồng",
    "Xô Viết Nghệ Tĩnh", "Kim Mã", "Giải Phóng", "Láng", "Cộng Hòa", "Hoàng Hoa Thám",
    "Pasteur", "Nguyễn Văn Trỗi", "Bạch Đằng", "Chu Văn An", "Nguyễn Khuyến", "Yersinia",
)  # fmt: skip

STREETS: tuple[str, ...] = tuple(dict.fromkeys(_ViAddressProvider.streets + _EXTRA_STREETS))

_EXTRA_PLACES: tuple[str, ...] = (
    "Tân Bình", "Tân Thành", "Tân Hòa", "Tân Lập", "Tân Tiến", "Phú Mỹ", "Phú Hòa", "Phú Lợi",
    "Phước Long", "Long Thạnh", "Long Hưng", "Hòa Khánh", "Hòa Thuận", "Thạnh Mỹ", "Bình Hưng",
    "Bình Chánh", "An Lạc", "An Hòa", "Hưng Lợi", "Xuân Phương", "Xuân Hòa", "Đông Anh",
    "Thanh Liêm", "Quang Trung", "Yên Lạc", "Yên Phong", "Vĩnh Lộc", "Vĩnh Hòa", "Mỹ Xuân",
    "Mỹ Phước", "Cẩm Phả", "Hiệp Hòa", "Kim Sơn", "Nghĩa Đô", "Trung Hòa", "Thạch Bàn",
)  # fmt: skip

PLACE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(_ViAddressProvider.communes + _EXTRA_PLACES))

# Real districts of the largest cities ("Quận" are urban, "Huyện" rural).
CITY_DISTRICTS: dict[str, tuple[str, ...]] = {
    "Hồ Chí Minh": (
        "Quận 1", "Quận 3", "Quận 4", "Quận 5", "Quận 6", "Quận 7", "Quận 8", "Quận 10",
        "Quận 11", "Quận 12", "Quận Bình Thạnh", "Quận Gò Vấp", "Quận Phú Nhuận",
        "Quận Tân Bình", "Quận Tân Phú", "Quận Bình Tân", "Thành phố Thủ Đức",
        "Huyện Bình Chánh", "Huyện Hóc Môn", "Huyện Củ Chi", "Huyện Nhà Bè",
    ),
    "Hà Nội": (
        "Quận Ba Đình", "Quận Hoàn Kiếm", "Quận Hai Bà Trưng", "Quận Đống Đa", "Quận Tây Hồ",
        "Quận Cầu Giấy", "Quận Thanh Xuân", "Quận Hoàng Mai", "Quận Long Biên",
        "Quận Bắc Từ Liêm", "Quận Nam Từ Liêm", "Quận Hà Đông", "Huyện Đông Anh",
        "Huyện Gia Lâm", "Huyện Thanh Trì",
    ),
    "Đà Nẵng": (
        "Quận Hải Châu", "Quận Thanh Khê", "Quận Sơn Trà", "Quận Ngũ Hành Sơn",
        "Quận Liên Chiểu", "Quận Cẩm Lệ", "Huyện Hòa Vang",
    ),
    "Hải Phòng": (
        "Quận Hồng Bàng", "Quận Ngô Quyền", "Quận Lê Chân", "Quận Hải An", "Quận Kiến An",
        "Quận Dương Kinh", "Huyện Thủy Nguyên", "Huyện An Dương",
    ),
    "Cần Thơ": (
        "Quận Ninh Kiều", "Quận Bình Thủy", "Quận Cái Răng", "Quận Ô Môn", "Quận Thốt Nốt",
        "Huyện Phong Điền",
    ),
}  # fmt: skip

# Provincial city of each province whose city is not named after the province (pre-2025 units).
PROVINCIAL_CITIES: dict[str, str] = {
    "Điện Biên": "Điện Biên Phủ", "Quảng Ninh": "Hạ Long", "Phú Thọ": "Việt Trì",
    "Vĩnh Phúc": "Vĩnh Yên", "Hà Nam": "Phủ Lý", "Nghệ An": "Vinh", "Quảng Bình": "Đồng Hới",
    "Quảng Trị": "Đông Hà", "Thừa Thiên Huế": "Huế", "Quảng Nam": "Tam Kỳ",
    "Bình Định": "Quy Nhơn", "Phú Yên": "Tuy Hòa", "Khánh Hòa": "Nha Trang",
    "Ninh Thuận": "Phan Rang - Tháp Chàm", "Bình Thuận": "Phan Thiết", "Gia Lai": "Pleiku",
    "Đắk Lắk": "Buôn Ma Thuột", "Đắk Nông": "Gia Nghĩa", "Lâm Đồng": "Đà Lạt",
    "Bình Phước": "Đồng Xoài", "Bình Dương": "Thủ Dầu Một", "Đồng Nai": "Biên Hòa",
    "Bà Rịa - Vũng Tàu": "Vũng Tàu", "Long An": "Tân An", "Tiền Giang": "Mỹ Tho",
    "Đồng Tháp": "Cao Lãnh", "An Giang": "Long Xuyên", "Kiên Giang": "Rạch Giá",
    "Hậu Giang": "Vị Thanh",
}  # fmt: skip

_RURAL_DISTRICTS_PER_PROVINCE = 5


@dataclass(frozen=True)
class DistrictTable:
    """All districts as flat arrays, grouped by province (index into PROVINCES_PRE_2025)."""

    name: np.ndarray  # object array of district names
    is_rural: np.ndarray  # bool
    first: np.ndarray  # per province: index of its first district
    count: np.ndarray  # per province: number of districts


def build_district_table() -> DistrictTable:
    """Districts of every pre-2025 province, deterministic (no randomness)."""
    names: list[str] = []
    first: list[int] = []
    count: list[int] = []
    for i, province in enumerate(PROVINCES_PRE_2025):
        first.append(len(names))
        districts = CITY_DISTRICTS.get(province.name)
        if districts is None:
            rural = [
                f"Huyện {PLACE_NAMES[(i * 7 + j * 13) % len(PLACE_NAMES)]}"
                for j in range(_RURAL_DISTRICTS_PER_PROVINCE)
            ]
            # The provincial city is listed twice: about a third of people live there.
            city = PROVINCIAL_CITIES.get(province.name, province.name)
            districts = (f"Thành phố {city}",) * 2 + tuple(rural)
        names.extend(districts)
        count.append(len(districts))
    name_array = np.array(names, dtype=object)
    return DistrictTable(
        name=name_array,
        is_rural=np.array([n.startswith("Huyện") for n in names]),
        first=np.array(first),
        count=np.array(count),
    )


def random_addresses(
    rng: np.random.Generator, province_idx: np.ndarray, districts: DistrictTable
) -> np.ndarray:
    """One street address (without the province) per element of ``province_idx``.

    Urban: ``"123/4 Lê Lợi, Phường Bến Thành, Quận 1"``; rural:
    ``"Thôn An Phú, Xã Tân Hòa, Huyện Yên Lạc"`` (``"Ấp 3"`` in the south).
    """
    n = len(province_idx)
    district = districts.first[province_idx] + (
        rng.random(n) * districts.count[province_idx]
    ).astype(np.int64)
    rural = districts.is_rural[district]
    places = np.array(PLACE_NAMES, dtype=object)
    streets = np.array(STREETS, dtype=object)

    house = rng.integers(1, 400, n).astype(str).astype(object)
    alley = rng.random(n)
    house = np.where(alley < 0.25, house + "/" + rng.integers(1, 60, n).astype(str), house)
    house = np.where((alley >= 0.25) & (alley < 0.32), house + "A", house)
    street_part = house + " " + streets[rng.integers(0, len(streets), n)]

    south = np.array([p.region == "south" for p in PROVINCES_PRE_2025])[province_idx]
    hamlet = np.where(
        south,
        "Ấp " + rng.integers(1, 12, n).astype(str),
        "Thôn " + places[rng.integers(0, len(places), n)],
    )
    street_part = np.where(rural & (rng.random(n) < 0.6), hamlet, street_part)

    numbered_ward = rng.random(n) < 0.35
    ward_name = np.where(
        numbered_ward & ~rural,
        rng.integers(1, 16, n).astype(str).astype(object),
        places[rng.integers(0, len(places), n)],
    )
    ward = np.where(rural, "Xã ", "Phường ") + ward_name
    return street_part + ", " + ward + ", " + districts.name[district]
