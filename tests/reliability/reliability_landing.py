"""Small crafted landing zones for the reliability tests (no conftest here: plain helpers)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from c360.contract import CRM_CONTACTS

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Quốc", "Thanh"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phúc",
         "Quân", "Sơn", "Tâm", "Trang", "Tuấn", "Vy", "Yến", "Khoa", "Linh"]  # fmt: skip
PROVINCES = ["Hà Nội", "Hồ Chí Minh", "Đà Nẵng", "Cần Thơ", "Hải Phòng", "Huế"]


def crm_only_landing_zone(raw_root: Path, day: str, contacts: int) -> Path:
    """CRM contacts only: names, birth dates, national IDs, addresses; no phone, email, gender,
    no other source and no transaction. Meets the landing-zone contract."""
    columns = CRM_CONTACTS.required_columns
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for number in range(contacts):
        name = (
            f"{FAMILY[number % len(FAMILY)]} {MIDDLE[number % len(MIDDLE)]} "
            f"{GIVEN[(number * 7) % len(GIVEN)]}"
        )
        row = dict.fromkeys(columns, "")
        row |= {
            "contact_id": f"CT{number:06d}",
            "full_name": name,
            "date_of_birth": f"{1950 + number % 50}-{1 + number % 12:02d}-{1 + number % 28:02d}",
            "national_id": f"0{number % 96 + 1:02d}{number:09d}",
            "address": f"{number + 1} Đường Số {number % 30 + 1}",
            "province": PROVINCES[number % len(PROVINCES)],
            "created_at": f"2026-{1 + number % 10:02d}-{1 + number % 28:02d}T08:00:00+07:00",
            "updated_at": f"2026-10-{1 + number % 28:02d}T09:30:00+07:00",
        }
        writer.writerow(row)
    folder = raw_root / "crm" / day
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "contacts_1.csv").write_text(buffer.getvalue(), encoding="utf-8")
    (folder / "_SUCCESS").touch()
    return raw_root
