"""Optional profile columns of the person extracts (issue 20): lead source, demographics,
devices, social IDs, account owner, and the sample conf's custom fields.

Demographics belong to the person (drawn once, by age), so linked records mostly agree; each
source lands a column only for some records (missing often), in one of several spellings
(codes, English, Vietnamese with and without diacritics) and now and then a value no vocabulary
knows, which silver flags. Deterministic: one stage generator per source.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from c360.contract import CRM_CONTACTS, ERP_CUSTOMERS, LOYALTY_MEMBERS
from c360.sample.text import stage_rng

# (code, share, landed spellings): shares per code; a spelling is picked uniformly.
LEAD_SOURCES = (
    ("landing_page", 0.28, ("landing_page", "Landing Page", "landing page", "Web form")),
    ("facebook_ads", 0.22, ("facebook_ads", "Facebook Ads", "FB ads", "Quảng cáo Facebook")),
    ("store", 0.18, ("store", "Tại cửa hàng", "Cửa hàng", "tai cua hang")),
    ("zalo_oa", 0.12, ("zalo_oa", "Zalo OA", "Zalo")),
    ("referral", 0.10, ("referral", "Giới thiệu", "gioi thieu", "Bạn bè giới thiệu")),
    ("google_ads", 0.06, ("google_ads", "Google Ads")),
    ("call_centre", 0.03, ("Hotline", "Tổng đài")),
    ("event", 0.01, ("Sự kiện", "Workshop")),
)
OCCUPATIONS = (
    ("office_worker", 0.30, ("office_worker", "Nhân viên văn phòng", "nhan vien van phong")),
    ("worker", 0.15, ("worker", "Công nhân", "cong nhan")),
    ("business_owner", 0.12, ("business_owner", "Chủ doanh nghiệp", "Tự kinh doanh")),
    ("engineer", 0.08, ("engineer", "Kỹ sư", "ky su", "Lập trình viên")),
    ("manager", 0.08, ("manager", "Quản lý", "Trưởng phòng")),
    ("teacher", 0.06, ("teacher", "Giáo viên", "giao vien", "Giảng viên")),
    ("freelancer", 0.06, ("freelancer", "Tự do", "Làm tự do")),
    ("homemaker", 0.06, ("homemaker", "Nội trợ", "noi tro")),
    ("healthcare_worker", 0.04, ("healthcare_worker", "Bác sĩ", "Y tá", "Dược sĩ")),
    ("other", 0.05, ("other", "Khác")),
)
STUDENT = ("student", 1.0, ("student", "Sinh viên", "sinh vien", "Học sinh"))
RETIRED = ("retired", 1.0, ("retired", "Nghỉ hưu", "nghi huu", "Hưu trí"))
INDUSTRIES = (
    ("retail", 0.18, ("retail", "Bán lẻ", "Thương mại")),
    ("manufacturing", 0.16, ("manufacturing", "Sản xuất", "san xuat")),
    ("education", 0.10, ("education", "Giáo dục", "giao duc", "Đào tạo")),
    ("finance", 0.09, ("finance", "Tài chính", "Ngân hàng", "Bảo hiểm")),
    ("technology", 0.09, ("technology", "Công nghệ thông tin", "CNTT", "IT")),
    ("hospitality", 0.08, ("hospitality", "Du lịch", "Nhà hàng", "Khách sạn")),
    ("public_sector", 0.07, ("public_sector", "Nhà nước", "Cơ quan nhà nước")),
    ("healthcare", 0.06, ("healthcare", "Y tế", "y te")),
    ("agriculture", 0.06, ("agriculture", "Nông nghiệp", "Thủy sản")),
    ("real_estate", 0.05, ("real_estate", "Bất động sản", "bat dong san")),
    ("logistics", 0.04, ("logistics", "Vận tải", "Logistic")),
    ("other", 0.02, ("other", "Khác")),
)
EDUCATION = (
    ("bachelor", 0.34, ("bachelor", "Đại học", "dai hoc", "Cử nhân")),
    ("high_school", 0.30, ("high_school", "THPT", "Trung học phổ thông", "cap 3")),
    ("college", 0.14, ("college", "Cao đẳng", "cao dang")),
    ("vocational", 0.12, ("vocational", "Trung cấp", "trung cap")),
    ("master", 0.08, ("master", "Thạc sĩ", "Thạc sỹ", "thac si", "MBA")),
    ("doctorate", 0.01, ("doctorate", "Tiến sĩ", "PhD")),
    ("other", 0.01, ("other", "Khác")),
)
MARITAL = {  # by age band: (<25, 25-35, 36-60, >60)
    "single": (0.85, 0.40, 0.14, 0.05, ("single", "Độc thân", "doc than", "Chưa kết hôn")),
    "married": (0.14, 0.55, 0.75, 0.70, ("married", "Đã kết hôn", "da ket hon", "Có gia đình")),
    "divorced": (0.01, 0.05, 0.08, 0.07, ("divorced", "Ly hôn", "ly hon")),
    "widowed": (0.00, 0.00, 0.03, 0.18, ("widowed", "Góa", "goa")),
}
# Values no vocabulary knows ("chưa rõ": not yet known): silver flags them (raw kept).
UNKNOWN_SPELLINGS = ("chưa rõ", "khác nữa", "test", "abc", "xem lại")
UNKNOWN_RATE = 0.01
TEAMS = ("Sales HN 01", "Sales HN 02", "Sales HCM 01", "Sales HCM 02", "Sales HCM 03",
         "Sales ĐN 01", "CSKH Cần Thơ", "Key Account")  # fmt: skip
STORES = tuple(f"Store {i:02d}" for i in range(1, 41))
# Share of a source's records that land each column (the rest: empty). Absent: not landed.
LANDED_SHARE: dict[str, dict[str, float]] = {
    CRM_CONTACTS.source: {
        "lead_source": 0.75, "occupation": 0.45, "industry": 0.35, "education": 0.30,
        "marital_status": 0.40, "device_id": 0.50, "social_ids": 0.40, "profile_owner": 0.80,
        "preferred_store": 0.30, "children_count": 0.25,
    },
    ERP_CUSTOMERS.source: {
        "lead_source": 0.10, "occupation": 0.20, "industry": 0.50, "education": 0.10,
        "marital_status": 0.10, "device_id": 0.05, "social_ids": 0.10, "profile_owner": 0.70,
        "vip_since": 0.10,
    },
    LOYALTY_MEMBERS.source: {"device_id": 0.70, "social_ids": 0.50, "preferred_store": 0.60},
}  # fmt: skip
# Landed columns per source, in this order after the consent columns.
PROFILE_EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {s: tuple(c) for s, c in LANDED_SHARE.items()}


def _age_years(persons: pd.DataFrame, year: int) -> np.ndarray:
    birth = pd.to_datetime(persons["date_of_birth"], errors="coerce").dt.year
    return (year - birth.fillna(year - 35)).to_numpy(dtype=int)


def _draw(rng: np.random.Generator, table, n: int) -> np.ndarray:
    """Codes' row indices in ``table`` drawn by their shares."""
    shares = np.array([s for _, s, _ in table], dtype=float)
    return rng.choice(len(table), size=n, p=shares / shares.sum())


def person_profiles(persons: pd.DataFrame, year: int, seed: int) -> pd.DataFrame:
    """Each person's demographics (codes), devices, social accounts and custom values."""
    rng = stage_rng(seed, "profile:people")
    n, age = len(persons), _age_years(persons, year)
    occupation = np.array([c for c, _, _ in OCCUPATIONS], dtype=object)[_draw(rng, OCCUPATIONS, n)]
    occupation[(age < 23) & (rng.random(n) < 0.8)] = STUDENT[0]
    occupation[(age > 60) & (rng.random(n) < 0.7)] = RETIRED[0]
    industry = np.array([c for c, _, _ in INDUSTRIES], dtype=object)[_draw(rng, INDUSTRIES, n)]
    industry[occupation == "teacher"] = "education"
    education = np.array([c for c, _, _ in EDUCATION], dtype=object)[_draw(rng, EDUCATION, n)]
    band = np.digitize(age, [25, 36, 61])
    marital_codes = np.array(list(MARITAL), dtype=object)
    shares = np.array([[v[b] for v in MARITAL.values()] for b in range(4)])
    marital = np.array(
        [marital_codes[rng.choice(4, p=shares[b] / shares[b].sum())] for b in band], dtype=object
    )
    devices = rng.integers(0, 2**62, size=(n, 2))
    return pd.DataFrame(
        {
            "occupation": occupation,
            "industry": industry,
            "education": education,
            "marital_status": marital,
            "device_a": [f"{d:016x}" for d in devices[:, 0]],
            "device_b": [f"{d:016x}" for d in devices[:, 1]],
            "zalo": [f"{z:012d}" for z in rng.integers(10**11, 10**12, n)],
            "facebook": [f"fb.{f:x}" for f in rng.integers(2**40, 2**48, n)],
            "children": np.where(age < 25, 0, rng.choice(4, size=n, p=[0.3, 0.3, 0.3, 0.1])),
            "store": np.array(STORES, dtype=object)[rng.integers(0, len(STORES), n)],
        }
    )


def _spell(rng: np.random.Generator, table, codes: np.ndarray) -> np.ndarray:
    """A landed spelling of each code; UNKNOWN_RATE of them a value no vocabulary knows."""
    spellings = {code: options for code, _, options in table}
    out = np.array([spellings[c][rng.integers(0, len(spellings[c]))] for c in codes], dtype=object)
    unknown = rng.random(len(codes)) < UNKNOWN_RATE
    out[unknown] = np.array(UNKNOWN_SPELLINGS, dtype=object)[
        rng.integers(0, len(UNKNOWN_SPELLINGS), int(unknown.sum()))
    ]
    return out


def _social(rng: np.random.Generator, zalo: np.ndarray, facebook: np.ndarray) -> np.ndarray:
    """ "zalo:..;facebook:.." mostly, sometimes one network or JSON, rarely unreadable text."""
    form = rng.choice(5, size=len(zalo), p=[0.45, 0.25, 0.15, 0.14, 0.01])
    out = []
    for kind, z, f in zip(form, zalo, facebook, strict=True):
        out.append(
            (
                f"zalo:{z};facebook:{f}",
                f"zalo:{z}",
                f"Facebook: {f}",
                json.dumps({"zalo": z, "facebook": f}),
                "see notes",
            )[kind]
        )
    return np.array(out, dtype=object)


def landed_profile_columns(
    source: str,
    person_idx: np.ndarray,
    profiles: pd.DataFrame,
    year: int,
    seed: int,
) -> pd.DataFrame:
    """The optional columns ``source`` lands for its records (row for row with ``person_idx``)."""
    rng = stage_rng(seed, f"profile:{source}")
    n = len(person_idx)
    person = profiles.iloc[person_idx].reset_index(drop=True)
    values = {
        "lead_source": _spell(rng, LEAD_SOURCES, np.array(
            [c for c, _, _ in LEAD_SOURCES], dtype=object)[_draw(rng, LEAD_SOURCES, n)]),
        "occupation": _spell(rng, (*OCCUPATIONS, STUDENT, RETIRED), person["occupation"]),
        "industry": _spell(rng, INDUSTRIES, person["industry"]),
        "education": _spell(rng, EDUCATION, person["education"]),
        "marital_status": _spell(rng, [(c, 0, v[4]) for c, v in MARITAL.items()],
                                 person["marital_status"]),
        "device_id": np.where(rng.random(n) < 0.7, person["device_a"], person["device_b"]),
        "social_ids": _social(rng, person["zalo"].to_numpy(), person["facebook"].to_numpy()),
        "profile_owner": np.array(TEAMS, dtype=object)[rng.integers(0, len(TEAMS), n)],
        "preferred_store": person["store"].to_numpy(),
        "children_count": np.where(rng.random(n) < 0.01, "hai", person["children"].astype(str)),
        "vip_since": _vip_days(rng, n, year),
    }  # fmt: skip
    columns = PROFILE_EXTRA_COLUMNS[source]
    frame = pd.DataFrame({c: values[c] for c in columns})
    for column in columns:
        frame.loc[rng.random(n) >= LANDED_SHARE[source][column], column] = ""
    return frame


def _vip_days(rng: np.random.Generator, n: int, year: int) -> np.ndarray:
    days = np.datetime64(f"{year - 7}-01-01") + rng.integers(0, 6 * 365, n).astype("timedelta64[D]")
    iso = np.datetime_as_string(days, unit="D").astype(object)
    # the ERP's older screens wrote dd/mm/yyyy
    legacy = rng.random(n) < 0.3
    iso[legacy] = [f"{d[8:10]}/{d[5:7]}/{d[:4]}" for d in iso[legacy]]
    return iso
