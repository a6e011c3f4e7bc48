"""Vietnamese personal names with realistic frequencies.

Family-name shares follow the commonly cited surveys (Nguyễn about 38 %, Trần 11 %, Lê 9.5 %,
Phạm 7 %, ...); Hoàng / Huỳnh and Vũ / Võ are the northern / southern spellings of one name and
are listed separately. Middle and given names are weighted roughly by how often they occur in
recent birth cohorts; exact shares matter less than the long tail (a few names cover most people),
which is what makes name-only matching hard.
"""

from __future__ import annotations

from faker.providers.person.en_US import Provider as _EnPersonProvider

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

# Email providers used by Vietnamese consumers, with relative weights.
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 74), ("yahoo.com", 7), ("yahoo.com.vn", 4), ("outlook.com", 4),
    ("hotmail.com", 4), ("icloud.com", 3), ("fpt.vn", 1), ("vnn.vn", 1), ("viettel.vn", 1),
    ("live.com", 1),
)  # fmt: skip

# Western names (the ``western`` noise profile), with the frequencies Faker's en_US locale ships
# (read once as data, never called per row).
WESTERN_FAMILY_NAMES: tuple[tuple[str, float], ...] = tuple(_EnPersonProvider.last_names.items())
WESTERN_GIVEN_NAMES: dict[str, tuple[tuple[str, float], ...]] = {
    "M": tuple(_EnPersonProvider.first_names_male.items()),
    "F": tuple(_EnPersonProvider.first_names_female.items()),
}
# Share of western people with a middle name (a second given name).
WESTERN_MIDDLE_NAME_RATE = 0.3

# The most common full names per style and gender: (family, middle, given). Different people
# holding them are hard negatives (the ``hard`` profile's common_name_rate).
COMMON_FULL_NAMES: dict[str, dict[str, tuple[tuple[str, str, str], ...]]] = {
    "vietnamese": {
        "M": (("Nguyễn", "Văn", "Hùng"), ("Nguyễn", "Văn", "Dũng"), ("Nguyễn", "Văn", "Minh"),
              ("Trần", "Văn", "Hùng"), ("Nguyễn", "Văn", "Tuấn"), ("Lê", "Văn", "Hùng")),
        "F": (("Nguyễn", "Thị", "Hương"), ("Nguyễn", "Thị", "Lan"), ("Nguyễn", "Thị", "Mai"),
              ("Trần", "Thị", "Hương"), ("Nguyễn", "Thị", "Hà"), ("Lê", "Thị", "Lan")),
    },
    "western": {
        "M": (("Smith", "", "John"), ("Johnson", "", "Michael"), ("Brown", "", "David"),
              ("Williams", "", "James")),
        "F": (("Smith", "", "Mary"), ("Johnson", "", "Jennifer"), ("Brown", "", "Sarah"),
              ("Williams", "", "Jessica")),
    },
}  # fmt: skip
