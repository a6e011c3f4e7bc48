"""Text: placeholders, Vietnamese names and addresses (folding itself: :mod:`.folding`)."""

from __future__ import annotations

import functools
import re

from c360.standardise.folding import CACHE_SIZE as _CACHE_SIZE
from c360.standardise.folding import as_text as as_text
from c360.standardise.folding import diacritics_fold_table as diacritics_fold_table
from c360.standardise.folding import fold, fold_normalised, normalise_text
from c360.standardise.rules import StandardiseRules, default_rules

_HAS_LETTER = re.compile(r"[a-z]")
_ALNUM = re.compile(r"[^\W_]")  # a Unicode letter or digit
_DIGIT = re.compile(r"\d")
# VIQR keystrokes left in a word when the conversion failed: "Nguye^~n", "Ho`a", "Thu+o+ng".
_VIQR_INSIDE = re.compile(r"(?<=[A-Za-z])[\^(+'`?~.*]+(?=[A-Za-z])")
_VIQR_AT_END = re.compile(r"(?<=[A-Za-z])[\^(+'`?~*]+(?=\s|$)")
# Telex: doubled vowels and "w" carry the quality mark, a final s/f/r/x/j the tone.
_TELEX_QUALITY = (("dd", "d"), ("aa", "a"), ("ee", "e"), ("oo", "o"), ("aw", "a"), ("ow", "o"),
                  ("uw", "u"), ("w", "u"))  # fmt: skip
_TELEX_TONES = frozenset("sfrxj")
_VNI_DIGITS = re.compile(r"[1-9]")


def clean_text(value: object, rules: StandardiseRules) -> str | None:
    """:func:`normalise_text`, and None for placeholders ("N/A", "null", "-", "không có").

    A text without any letter or digit is a placeholder too.
    """
    text = normalise_text(value)
    if text is None:
        return None
    if _ALNUM.search(text) is None:
        return None
    if len(text) <= rules.longest_placeholder and not (
        rules.placeholders_without_digits and _DIGIT.search(text)
    ):
        return None if fold_normalised(text) in rules.null_placeholders else text
    return text


def strip_viqr_marks(text: str) -> str:
    """VIQR tone and quality keystrokes removed from inside and the end of words.

    Example:
        >>> strip_viqr_marks("Nguye^~n Va(n")
        'Nguyen Van'
    """
    if not any(c in text for c in "^(+'`?~.*"):
        return text
    return _VIQR_AT_END.sub("", _VIQR_INSIDE.sub("", text))


def _residue_candidates(token: str) -> list[str]:
    """Telex and VNI readings of a folded token, most specific first."""
    candidates = []
    if _VNI_DIGITS.search(token) and not token.isdigit():
        candidates.append(_VNI_DIGITS.sub("", token))
    for base in (token[:-1], token) if token[-1:] in _TELEX_TONES and len(token) > 2 else (token,):
        collapsed = base
        for typed, letter in _TELEX_QUALITY:
            collapsed = collapsed.replace(typed, letter)
        candidates.append(collapsed)
    return candidates


def repair_typing_residue(folded: str, vocabulary: frozenset[str]) -> str:
    """Folded name tokens typed in Telex / VNI whose conversion failed, read back.

    A token is replaced only when it is not itself a known name token and one of its readings
    is (``vocabulary``: folded Vietnamese family, middle and given names), so Western names
    ("ross", "mathews") are left alone.

    Example:
        >>> vocabulary = frozenset({"nguyen", "van", "phuong", "dang"})
        >>> repair_typing_residue("nguyeenx vawn phuwowng d9ang2", vocabulary)
        'nguyen van phuong dang'
    """
    tokens = folded.split()
    repaired = []
    for token in tokens:
        if token not in vocabulary:
            token = next((c for c in _residue_candidates(token) if c in vocabulary), token)
        repaired.append(token)
    return " ".join(repaired)


def has_letter(folded: str) -> bool:
    """True when a folded text holds at least one letter."""
    return _HAS_LETTER.search(folded) is not None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def split_folded_name(
    folded: str, rules: StandardiseRules
) -> tuple[str | None, str | None, str | None]:
    tokens = folded.split()
    if not tokens:
        return None, None, None
    if len(tokens) == 1:
        return None, None, tokens[0]
    family_share, common_family, given_names = rules.family_names
    first, last = tokens[0], tokens[-1]
    first_is_family, last_is_family = first in family_share, last in family_share
    middle = " ".join(tokens[1:-1]) or None
    # "An Văn Nguyễn" (given ... family): a common family name last, no family name first.
    if last in common_family and not first_is_family:
        return last, middle, first
    # "An Nguyễn Văn" (given, family, middle): the given name moved to the front.
    if len(tokens) >= 3 and not first_is_family and tokens[1] in common_family:
        return tokens[1], " ".join(tokens[2:]), first
    # "Nga Thị Lý": a rarer family name last, a given name (and no family name) first.
    if last_is_family and not first_is_family and first in given_names:
        return last, middle, first
    # "Hoàng Văn Nguyễn": the first token is a given name as well as a family name, the last
    # only a family name, and a more frequent one.
    if (
        last_is_family
        and last not in given_names
        and first in given_names
        and family_share.get(first, 0.0) < family_share[last]
    ):
        return last, middle, first
    return first, middle, last


def split_vietnamese_name(
    full_name: object, rules: StandardiseRules | None = None
) -> tuple[str | None, str | None, str | None]:
    """Folded (family, middle, given) of a name in Vietnamese order, or reversed Western order.

    Vietnamese order is family, middle, given. The Western orders "given middle family" and
    "given family middle" are recognised from the family-name frequency list and the given-name
    list of :mod:`c360.sample.names`: a family name last and none first (common family names
    such as Nguyễn always; rarer ones when the first token is a known given name), or a first
    token that is both a given and a rarer family name ("Hoàng Văn Nguyễn"). Names whose first
    and last tokens are both family and given names ("Vân Vũ") are read in Vietnamese order.
    ``names.reversal_min_family_share_percent`` in ``conf/standardise.yaml`` sets "common".

    Args:
        full_name: the name as landed.
        rules: standardisation rules; ``conf/standardise.yaml`` when omitted.

    Example:
        >>> split_vietnamese_name("Nguyễn Văn An")
        ('nguyen', 'van', 'an')
        >>> split_vietnamese_name("An Van Nguyen")
        ('nguyen', 'van', 'an')
        >>> split_vietnamese_name("Nguyễn An")
        ('nguyen', None, 'an')
    """
    folded = fold(full_name)
    if folded is None:
        return None, None, None
    return split_folded_name(folded, rules or default_rules())


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _fold_address(address: str, rules: StandardiseRules) -> str | None:
    patterns = rules.address_abbreviation_pattern
    if patterns is not None:
        dotted, numbered = patterns
        expansion = rules.address_expansion
        address = dotted.sub(lambda m: expansion[m.group(1).lower()] + " ", address)
        address = numbered.sub(lambda m: f"{expansion[m.group(1).lower()]} {m.group(2)}", address)
    return fold(address)


def fold_address(address: object, rules: StandardiseRules | None = None) -> str | None:
    """Folded address with administrative abbreviations written out.

    Example:
        >>> fold_address("12 Lê Lợi, P. Bến Nghé, Q1, TP.HCM")
        '12 le loi phuong ben nghe quan 1 thanh pho hcm'
    """
    text = normalise_text(address)
    if text is None:
        return None
    return _fold_address(text, rules or default_rules())
