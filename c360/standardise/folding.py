"""Unicode normalisation and diacritics folding: the bottom of standardisation (no rules).

Example:
    >>> fold("Nguyễn Thị Ánh")
    'nguyen thi anh'
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata

from unidecode import unidecode

CACHE_SIZE = 1 << 16
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")  # zero-width, BOM, soft hyphen
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def diacritics_fold_table() -> dict[int, str]:
    """Precomposed Latin letters with diacritics -> their ASCII base letter; đ/Đ -> d/D."""
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    for code in range(0x00C0, 0x1F00):
        char = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
        )
        if base != char and len(base) == 1 and base.isascii():
            table[code] = base
    return table


_FOLD = diacritics_fold_table()


def as_text(value: object) -> str | None:
    """A landed value as a string: None / NaN / pandas NA -> None, other non-strings -> ``str``.

    Whole floats lose their ``.0`` (a column of numbers with gaps is read as floats).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():  # a numeric ID or phone read as float: 912345678.0
            return str(int(value))
    if type(value).__name__ in {"NAType", "NaTType"}:
        return None
    return str(value)


def normalise_text(text: object) -> str | None:
    """Unicode NFC, invisible characters removed, whitespace collapsed and trimmed.

    Example:
        >>> normalise_text("  Nguyễn   Văn  An ")
        'Nguyễn Văn An'
        >>> normalise_text("   ") is None
        True
    """
    value = as_text(text)
    if value is None:
        return None
    if not value.isascii():
        value = unicodedata.normalize("NFC", _INVISIBLE.sub("", value))
    # str.split() splits on any Unicode whitespace (tabs, NBSP, ...), dropping both ends.
    return " ".join(value.split()) or None


def fold(text: object) -> str | None:
    """Lower-case ASCII folding: diacritics removed, đ -> d, punctuation -> space.

    Example:
        >>> fold("Nguyễn Thị Ánh")
        'nguyen thi anh'
        >>> fold("Đặng-Hữu  Phước!")
        'dang huu phuoc'
    """
    value = normalise_text(text)
    return None if value is None else fold_normalised(value)


@functools.lru_cache(maxsize=CACHE_SIZE)
def fold_normalised(value: str) -> str | None:
    """:func:`fold` of a text already through :func:`normalise_text`."""
    if not value.isascii():
        value = value.translate(_FOLD)
        if not value.isascii():
            value = unidecode(value)
    value = _NON_ALNUM.sub(" ", value.lower()).strip()
    return value or None
