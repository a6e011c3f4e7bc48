"""Foreign identity values for the ``western`` profile: mobile numbers and passport numbers.

Mobile numbers start from ``phonenumbers``' example mobile number of each region, with the last
digits redrawn until ``phonenumbers`` calls the number valid; they are returned in E.164.
"""

from __future__ import annotations

import string

import numpy as np
import phonenumbers

_RANDOM_DIGITS = 6  # trailing digits redrawn per number
_MAX_TRIES = 50
_PASSPORT_LETTERS = np.array(list(string.ascii_uppercase.replace("I", "").replace("O", "")))


def foreign_mobile_numbers(rng: np.random.Generator, regions: np.ndarray) -> np.ndarray:
    """One distinct valid mobile number (E.164) per region code in ``regions`` (e.g. ``"US"``)."""
    out = np.empty(len(regions), dtype=object)
    taken: set[str] = set()
    for i, region in enumerate(regions):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if example is None:
            raise ValueError(f"phonenumbers knows no mobile numbers of region {region!r}")
        national = str(example.national_number)
        head = national[:-_RANDOM_DIGITS]
        for _ in range(_MAX_TRIES):
            tail = "".join(rng.integers(0, 10, _RANDOM_DIGITS).astype(str))
            number = phonenumbers.PhoneNumber(
                country_code=example.country_code, national_number=int(head + tail)
            )
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in taken and phonenumbers.is_valid_number(number):
                break
        else:
            raise ValueError(f"no valid {region} mobile number found in {_MAX_TRIES} draws")
        taken.add(e164)
        out[i] = e164
    return out


def international_format(e164: np.ndarray) -> np.ndarray:
    """E.164 numbers written the international way: ``+44 7400 123456``."""
    fmt = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return np.array(
        [phonenumbers.format_number(phonenumbers.parse(n, None), fmt) for n in e164], dtype=object
    )


def passport_numbers(rng: np.random.Generator, templates: np.ndarray) -> np.ndarray:
    """A distinct passport number per template: ``#`` a digit, ``L`` a letter (no I or O)."""
    out = np.empty(len(templates), dtype=object)
    taken: set[str] = set()
    for i, template in enumerate(templates):
        while True:
            digits = rng.integers(0, 10, len(template)).astype(str)
            letters = _PASSPORT_LETTERS[rng.integers(0, len(_PASSPORT_LETTERS), len(template))]
            value = "".join(
                d if c == "#" else (letter if c == "L" else c)
                for c, d, letter in zip(template, digits, letters, strict=True)
            )
            if value not in taken:
                break
        taken.add(value)
        out[i] = value
    return out
