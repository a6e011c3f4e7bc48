"""Names and e-mail domains the sample generator draws, with realistic frequencies.

The Vietnamese family, middle and given names live in :mod:`c360.reference_data` (production
standardisation reads them too); this module adds e-mail providers, western names and the
common full names. Exact shares matter less than the long tail (a few names cover most
people), which is what makes name-only matching hard.
"""

from __future__ import annotations

from faker.providers.person.en_US import Provider as _EnPersonProvider

# The Vietnamese name frequencies are reference data (production standardisation reads them):
# c360.reference_data.FAMILY_NAMES, MIDDLE_NAMES, TRADITIONAL_MIDDLE_NAME, GIVEN_NAMES.

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
