"""Vietnamese reference data shared by the sample generator and silver standardisation.

Everything here is plain data (tuples and dicts), defined once and imported wherever it is
needed: the generator uses it to make realistic extracts, the silver layer uses the same tables to
undo what the generator (and real life) did to them.

Sources:
    - Provinces and their CCCD codes: the 63 provincial units before 12 June 2025 with the
      3-digit place-of-registration codes of Circular 07/2016/TT-BCA (amended by 59/2021/TT-BCA),
      which are the first three digits of a 12-digit citizen ID (CCCD). Population weights are the
      2019 census in millions, rounded; they only shape the sample's distribution.
    - The 2025 merger: National Assembly Resolution 202/2025/QH15 (effective 12 June 2025)
      reorganised the 63 units into 34 (28 provinces and 6 centrally-run cities). Each merged unit
      took the name of one of its members. Thừa Thiên Huế had already become the city of Huế on
      1 January 2025 (Resolution 175/2024/QH15).
    - Mobile prefixes: the Ministry of Information and Communications' 2018 conversion of 11-digit
      mobile numbers to 10 digits (Decision 798/QĐ-BTTTT, carried out 15 September to
      15 November 2018): the old 4-digit prefix (e.g. 0168) became a 3-digit one (e.g. 038); the
      last seven digits did not change.
    - Tết: the first day of the Lunar New Year in Vietnam (UTC+7), from the published calendars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Province:
    """One of the 63 provincial units as they were before the 2025 merger."""

    name: str
    cccd_code: str  # first 3 digits of a CCCD registered there
    region: str  # "north", "centre" or "south"
    population_millions: float
    merged_into: str  # the 2025 unit it belongs to (its own name when unchanged)


# fmt: off
PROVINCES_PRE_2025: tuple[Province, ...] = (
    Province("Hà Nội", "001", "north", 8.05, "Hà Nội"),
    Province("Hà Giang", "002", "north", 0.85, "Tuyên Quang"),
    Province("Cao Bằng", "004", "north", 0.53, "Cao Bằng"),
    Province("Bắc Kạn", "006", "north", 0.31, "Thái Nguyên"),
    Province("Tuyên Quang", "008", "north", 0.78, "Tuyên Quang"),
    Province("Lào Cai", "010", "north", 0.73, "Lào Cai"),
    Province("Điện Biên", "011", "north", 0.60, "Điện Biên"),
    Province("Lai Châu", "012", "north", 0.46, "Lai Châu"),
    Province("Sơn La", "014", "north", 1.25, "Sơn La"),
    Province("Yên Bái", "015", "north", 0.82, "Lào Cai"),
    Province("Hòa Bình", "017", "north", 0.85, "Phú Thọ"),
    Province("Thái Nguyên", "019", "north", 1.29, "Thái Nguyên"),
    Province("Lạng Sơn", "020", "north", 0.78, "Lạng Sơn"),
    Province("Quảng Ninh", "022", "north", 1.32, "Quảng Ninh"),
    Province("Bắc Giang", "024", "north", 1.80, "Bắc Ninh"),
    Province("Phú Thọ", "025", "north", 1.46, "Phú Thọ"),
    Province("Vĩnh Phúc", "026", "north", 1.15, "Phú Thọ"),
    Province("Bắc Ninh", "027", "north", 1.37, "Bắc Ninh"),
    Province("Hải Dương", "030", "north", 1.89, "Hải Phòng"),
    Province("Hải Phòng", "031", "north", 2.03, "Hải Phòng"),
    Province("Hưng Yên", "033", "north", 1.25, "Hưng Yên"),
    Province("Thái Bình", "034", "north", 1.86, "Hưng Yên"),
    Province("Hà Nam", "035", "north", 0.85, "Ninh Bình"),
    Province("Nam Định", "036", "north", 1.78, "Ninh Bình"),
    Province("Ninh Bình", "037", "north", 0.98, "Ninh Bình"),
    Province("Thanh Hóa", "038", "centre", 3.64, "Thanh Hóa"),
    Province("Nghệ An", "040", "centre", 3.33, "Nghệ An"),
    Province("Hà Tĩnh", "042", "centre", 1.29, "Hà Tĩnh"),
    Province("Quảng Bình", "044", "centre", 0.90, "Quảng Trị"),
    Province("Quảng Trị", "045", "centre", 0.63, "Quảng Trị"),
    Province("Thừa Thiên Huế", "046", "centre", 1.13, "Huế"),
    Province("Đà Nẵng", "048", "centre", 1.13, "Đà Nẵng"),
    Province("Quảng Nam", "049", "centre", 1.50, "Đà Nẵng"),
    Province("Quảng Ngãi", "051", "centre", 1.23, "Quảng Ngãi"),
    Province("Bình Định", "052", "centre", 1.49, "Gia Lai"),
    Province("Phú Yên", "054", "centre", 0.87, "Đắk Lắk"),
    Province("Khánh Hòa", "056", "centre", 1.23, "Khánh Hòa"),
    Province("Ninh Thuận", "058", "centre", 0.59, "Khánh Hòa"),
    Province("Bình Thuận", "060", "centre", 1.23, "Lâm Đồng"),
    Province("Kon Tum", "062", "centre", 0.54, "Quảng Ngãi"),
    Province("Gia Lai", "064", "centre", 1.51, "Gia Lai"),
    Province("Đắk Lắk", "066", "centre", 1.87, "Đắk Lắk"),
    Province("Đắk Nông", "067", "centre", 0.62, "Lâm Đồng"),
    Province("Lâm Đồng", "068", "centre", 1.30, "Lâm Đồng"),
    Province("Bình Phước", "070", "south", 0.99, "Đồng Nai"),
    Province("Tây Ninh", "072", "south", 1.17, "Tây Ninh"),
    Province("Bình Dương", "074", "south", 2.43, "Hồ Chí Minh"),
    Province("Đồng Nai", "075", "south", 3.10, "Đồng Nai"),
    Province("Bà Rịa - Vũng Tàu", "077", "south", 1.15, "Hồ Chí Minh"),
    Province("Hồ Chí Minh", "079", "south", 8.99, "Hồ Chí Minh"),
    Province("Long An", "080", "south", 1.69, "Tây Ninh"),
    Province("Tiền Giang", "082", "south", 1.76, "Đồng Tháp"),
    Province("Bến Tre", "083", "south", 1.29, "Vĩnh Long"),
    Province("Trà Vinh", "084", "south", 1.01, "Vĩnh Long"),
    Province("Vĩnh Long", "086", "south", 1.02, "Vĩnh Long"),
    Province("Đồng Tháp", "087", "south", 1.60, "Đồng Tháp"),
    Province("An Giang", "089", "south", 1.91, "An Giang"),
    Province("Kiên Giang", "091", "south", 1.72, "An Giang"),
    Province("Cần Thơ", "092", "south", 1.24, "Cần Thơ"),
    Province("Hậu Giang", "093", "south", 0.73, "Cần Thơ"),
    Province("Sóc Trăng", "094", "south", 1.20, "Cần Thơ"),
    Province("Bạc Liêu", "095", "south", 0.91, "Cà Mau"),
    Province("Cà Mau", "096", "south", 1.19, "Cà Mau"),
)
# fmt: on

# Old (pre-12 June 2025) provincial unit -> the unit it belongs to since. 63 keys, 34 values.
PROVINCE_MERGER_2025: dict[str, str] = {p.name: p.merged_into for p in PROVINCES_PRE_2025}

# The 34 provincial units since 12 June 2025 (6 centrally-run cities first, then provinces).
PROVINCES_2025: tuple[str, ...] = (
    "Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế",
    "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa", "Nghệ An", "Hà Tĩnh",
    "Cao Bằng", "Tuyên Quang", "Lào Cai", "Thái Nguyên", "Phú Thọ", "Bắc Ninh", "Hưng Yên",
    "Ninh Bình", "Quảng Trị", "Quảng Ngãi", "Gia Lai", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk",
    "Đồng Nai", "Tây Ninh", "Vĩnh Long", "Đồng Tháp", "Cà Mau", "An Giang",
)  # fmt: skip

# Centrally-run cities; official names carry the prefix "Thành phố" (often written "TP.").
CENTRAL_CITIES_2025: tuple[str, ...] = PROVINCES_2025[:6]

# CCCD place-of-registration code -> pre-2025 province name.
CCCD_PROVINCE_CODES: dict[str, str] = {p.cccd_code: p.name for p in PROVINCES_PRE_2025}

# The 4th digit of a CCCD encodes gender and birth century.
CCCD_GENDER_CENTURY_DIGIT: dict[tuple[str, int], str] = {
    ("M", 1900): "0",
    ("F", 1900): "1",
    ("M", 2000): "2",
    ("F", 2000): "3",
    ("M", 2100): "4",
    ("F", 2100): "5",
}

# Current (10-digit) mobile prefixes by carrier.
MOBILE_PREFIXES_BY_CARRIER: dict[str, tuple[str, ...]] = {
    "viettel": ("086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039"),
    "vinaphone": ("088", "091", "094", "081", "082", "083", "084", "085"),
    "mobifone": ("089", "090", "093", "070", "076", "077", "078", "079"),
    "vietnamobile": ("092", "056", "058"),
    "gmobile": ("099", "059"),
}

# Approximate subscriber shares, used only to weight the sample's carriers.
CARRIER_MARKET_SHARE: dict[str, float] = {
    "viettel": 0.54,
    "vinaphone": 0.24,
    "mobifone": 0.18,
    "vietnamobile": 0.03,
    "gmobile": 0.01,
}

# 2018 conversion: old 11-digit prefix (4 digits incl. the leading 0) -> new 10-digit prefix.
MOBILE_PREFIX_REMAP_2018: dict[str, str] = {
    # Viettel
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036", "0167": "037",
    "0168": "038", "0169": "039",
    # MobiFone
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    # VinaPhone
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    # Vietnamobile
    "0186": "056", "0188": "058",
    # Gmobile
    "0199": "059",
}  # fmt: skip

# New prefix -> the old one it replaced (the inverse of the 2018 remapping).
MOBILE_PREFIX_OLD_FORM: dict[str, str] = {new: old for old, new in MOBILE_PREFIX_REMAP_2018.items()}

# First day of the Lunar New Year (Tết Nguyên Đán) in Vietnam.
TET_DATES: tuple[date, ...] = (
    date(2015, 2, 19), date(2016, 2, 8), date(2017, 1, 28), date(2018, 2, 16),
    date(2019, 2, 5), date(2020, 1, 25), date(2021, 2, 12), date(2022, 2, 1),
    date(2023, 1, 22), date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17),
    date(2027, 2, 6), date(2028, 1, 26), date(2029, 2, 13), date(2030, 2, 3),
)  # fmt: skip


def province_2025(name: str) -> str | None:
    """Map a pre- or post-merger province name to its 2025 unit; None when unknown.

    Example:
        >>> province_2025("Bình Dương")
        'Hồ Chí Minh'
        >>> province_2025("Hồ Chí Minh")
        'Hồ Chí Minh'
    """
    if name in PROVINCE_MERGER_2025:
        return PROVINCE_MERGER_2025[name]
    return name if name in PROVINCES_2025 else None


def remap_old_mobile(digits: str) -> str:
    """Convert an 11-digit national mobile number with a pre-2018 prefix to its 10-digit form.

    Numbers that are not such an old number are returned unchanged.

    Example:
        >>> remap_old_mobile("01681234567")
        '0381234567'
    """
    if len(digits) == 11 and digits[:4] in MOBILE_PREFIX_REMAP_2018:
        return MOBILE_PREFIX_REMAP_2018[digits[:4]] + digits[4:]
    return digits


# ---- Vietnamese personal names with realistic frequencies --------------------------------
# Family-name shares follow the commonly cited surveys (Nguyễn about 38 %, Trần 11 %, Lê 9.5 %,
# Phạm 7 %, ...); Hoàng / Huỳnh and Vũ / Võ are the northern / southern spellings of one name
# and are listed separately. Middle and given names are weighted roughly by how often they occur
# in recent birth cohorts. Standardisation reads them (name order, name vocabulary); the sample
# generator draws names from them.
# (family name, share in percent)
FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.4), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Hoàng", 3.2),
    ("Huỳnh", 2.0), ("Phan", 4.5), ("Vũ", 2.2), ("Võ", 1.8), ("Đặng", 2.1), ("Bùi", 2.0),
    ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Đinh", 0.7),
    ("Đào", 0.6), ("Đoàn", 0.6), ("Trương", 0.7), ("Lâm", 0.4), ("Mai", 0.4), ("Trịnh", 0.4),
    ("Hà", 0.4), ("Cao", 0.3), ("Lương", 0.3), ("Lưu", 0.2), ("Tạ", 0.2), ("Châu", 0.2),
    ("Tô", 0.2), ("Thái", 0.2), ("Phùng", 0.2), ("Vương", 0.2), ("Quách", 0.1), ("Kiều", 0.1),
    ("Triệu", 0.1), ("Tăng", 0.1), ("La", 0.1), ("Văn", 0.1), ("Khúc", 0.05),
)  # fmt: skip

# Traditional gendered middle names; older cohorts use them far more often.
TRADITIONAL_MIDDLE_NAME = {"M": "Văn", "F": "Thị"}

# Other middle names by gender, with relative weights.
MIDDLE_NAMES: dict[str, tuple[tuple[str, float], ...]] = {
    "M": (
        ("Minh", 10), ("Đức", 8), ("Quang", 7), ("Hữu", 7), ("Thanh", 6), ("Công", 5),
        ("Ngọc", 4), ("Xuân", 4), ("Hoàng", 4), ("Quốc", 4), ("Thành", 4), ("Anh", 3),
        ("Trọng", 3), ("Tuấn", 3), ("Gia", 3), ("Bảo", 3), ("Đình", 3), ("Tiến", 2),
        ("Duy", 2), ("Khánh", 2), ("Mạnh", 2), ("Hải", 2), ("Nhật", 2), ("Phúc", 1),
    ),
    "F": (
        ("Ngọc", 10), ("Thu", 7), ("Thanh", 7), ("Minh", 5), ("Phương", 5), ("Hồng", 5),
        ("Kim", 5), ("Bảo", 4), ("Thùy", 4), ("Mai", 4), ("Khánh", 3), ("Hoài", 3),
        ("Diệu", 3), ("Xuân", 3), ("Quỳnh", 3), ("Hải", 2), ("Mỹ", 2), ("Tuyết", 2),
        ("Bích", 2), ("Lan", 2), ("Như", 2), ("Gia", 2), ("Tường", 1), ("Cẩm", 1),
    ),
}  # fmt: skip

# Given names by gender, with relative weights (long-tailed).
GIVEN_NAMES: dict[str, tuple[tuple[str, float], ...]] = {
    "M": (
        ("Hùng", 30), ("Dũng", 28), ("Minh", 27), ("Tuấn", 26), ("Anh", 25), ("Hoàng", 20),
        ("Nam", 20), ("Long", 19), ("Huy", 19), ("Đức", 18), ("Thắng", 16), ("Sơn", 16),
        ("Quang", 15), ("Hải", 15), ("Phong", 13), ("Khánh", 12), ("Bảo", 12), ("Khoa", 11),
        ("Trung", 11), ("Hiếu", 11), ("Phúc", 10), ("Thành", 10), ("Tùng", 10), ("Vinh", 9),
        ("Việt", 9), ("Cường", 9), ("Hưng", 9), ("Tâm", 8), ("Thịnh", 8), ("Lâm", 7),
        ("Kiên", 7), ("Toàn", 7), ("Đạt", 7), ("Hậu", 6), ("Lộc", 6), ("Nghĩa", 6), ("Tài", 6),
        ("Thiện", 5), ("Tiến", 5), ("Duy", 5), ("Khang", 5), ("An", 5), ("Bình", 5),
        ("Công", 4), ("Hòa", 4), ("Tú", 4), ("Quân", 4), ("Trí", 4), ("Nhân", 4), ("Đông", 3),
        ("Lực", 3), ("Thái", 3), ("Vũ", 3), ("Quý", 2), ("Sang", 2), ("Tín", 2), ("Hiển", 2),
    ),
    "F": (
        ("Anh", 30), ("Linh", 28), ("Trang", 27), ("Hương", 25), ("Lan", 22), ("Mai", 22),
        ("Hà", 21), ("Ngọc", 20), ("Thảo", 20), ("Hằng", 18), ("Nhung", 16), ("Thủy", 16),
        ("Phương", 15), ("Vy", 14), ("Hạnh", 14), ("Yến", 13), ("Nga", 13), ("Dung", 12),
        ("Huyền", 12), ("Loan", 11), ("Oanh", 10), ("Hoa", 10), ("Hồng", 10), ("Trinh", 9),
        ("My", 9), ("Nhi", 9), ("Quỳnh", 9), ("Thu", 8), ("Trâm", 8), ("Uyên", 8), ("Vân", 8),
        ("Xuân", 7), ("Châu", 7), ("Diệp", 6), ("Giang", 6), ("Hiền", 6), ("Khánh", 5),
        ("Liên", 5), ("Ly", 5), ("Nhàn", 5), ("Tâm", 5), ("Thư", 5), ("Tuyết", 4), ("Vi", 4),
        ("Ánh", 4), ("Duyên", 4), ("Hậu", 3), ("Kiều", 3), ("Loan", 3), ("Nguyệt", 3),
        ("Nhi", 3), ("Phượng", 3), ("Sương", 2), ("Thoa", 2), ("Trà", 2), ("Ngân", 2),
    ),
}  # fmt: skip
